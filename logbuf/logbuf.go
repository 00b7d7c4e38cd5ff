// Package logbuf holds the process's log lines briefly and writes them
// out together, as nginx's access_log does with buffer= and flush=: under
// load, a write system call for every access line is a sizable share of
// what a request costs. A line waits at most the flush interval, or until
// 64 KiB of lines wait; Close writes what is left. What a crash loses is
// the lines of its last interval; the runtime writes a panic's report
// itself.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// DefaultInterval is how long a line waits at most, unless told
// otherwise (the server's -log-flush): too short to notice when reading
// a log as it grows.
const DefaultInterval = 100 * time.Millisecond

// size is the most bytes kept before they are written out.
const size = 64 << 10

// Writer buffers the lines written to it for w.
type Writer struct {
	w    io.Writer
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	buf    []byte
	closed bool
}

// New returns a writer that writes what it is given to w every interval,
// or sooner when 64 KiB wait. With interval 0 or less it writes each
// line at once. Close it to write what waits and stop its timer.
func New(w io.Writer, interval time.Duration) *Writer {
	b := &Writer{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	if interval <= 0 {
		b.closed = true // writes go straight through
		close(b.done)
		return b
	}
	b.buf = make([]byte, 0, size)
	go b.flushEvery(interval)
	return b
}

// Write keeps p (one log line: slog writes a line per call) to be
// written later; a line longer than the buffer is written at once.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.w.Write(p)
	}
	if len(b.buf)+len(p) > size {
		b.flushLocked()
	}
	if len(p) > size {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes what waits.
func (b *Writer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

// flushLocked writes the waiting lines. A failed write drops them: there
// is nowhere else to report it, and the next lines are tried again.
func (b *Writer) flushLocked() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}

func (b *Writer) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-b.stop:
			return
		}
	}
}

// Close writes what waits and stops the timer; later lines are written
// at once. It does not close w.
func (b *Writer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.flushLocked()
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	return nil
}
