package logbuf_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"opfacade/logbuf"
)

// sink counts the writes it gets.
type sink struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *sink) get() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestLinesWaitAtMostTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sink{}
		w := logbuf.New(s, 100*time.Millisecond)
		defer w.Close()
		for i := range 3 {
			_, _ = w.Write([]byte{'a' + byte(i), '\n'})
		}
		if got, n := s.get(); got != "" || n != 0 {
			t.Fatalf("written before the interval: %q in %d writes", got, n)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if got, n := s.get(); got != "a\nb\nc\n" || n != 1 {
			t.Fatalf("after the interval: %q in %d writes, want the three lines in one", got, n)
		}
	})
}

func TestAFullBufferIsWrittenAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sink{}
		w := logbuf.New(s, time.Hour)
		defer w.Close()
		line := []byte(strings.Repeat("x", 1000) + "\n")
		for range 70 { // 70,070 bytes: more than 64 KiB
			_, _ = w.Write(line)
		}
		got, n := s.get()
		if n != 1 || len(got) != 65*len(line) {
			t.Fatalf("%d writes of %d bytes, want one of the first 65 lines", n, len(got))
		}
		_, _ = w.Write(bytes.Repeat([]byte("y"), 70_000)) // longer than the buffer
		if got, n := s.get(); n != 3 || len(got) != 70*len(line)+70_000 {
			t.Fatalf("%d writes, %d bytes: a long line is written at once, after what waited", n, len(got))
		}
	})
}

func TestCloseWritesWhatWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sink{}
		w := logbuf.New(s, time.Hour)
		_, _ = w.Write([]byte("last\n"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("after\n"))
		if got, _ := s.get(); got != "last\nafter\n" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestNoIntervalWritesEachLine(t *testing.T) {
	s := &sink{}
	w := logbuf.New(s, 0)
	_, _ = w.Write([]byte("one\n"))
	if got, n := s.get(); got != "one\n" || n != 1 {
		t.Fatalf("got %q in %d writes", got, n)
	}
	_ = w.Close()
}
