package httpguard

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

var discard = slog.New(slog.DiscardHandler)

func answerWith(code int, body string) Answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func TestReadBody(t *testing.T) {
	for _, body := range []string{"", "short", strings.Repeat("x", 10), strings.Repeat("y", 11), strings.Repeat("z", 1000)} {
		var got, again string
		ran := false
		h := ReadBody(10, answerWith(413, "too large"), answerWith(400, "unreadable"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran = true
			got = string(Body(r))
			b, _ := io.ReadAll(r.Body)
			again = string(b)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		if len(body) > 10 {
			if ran || rec.Code != 413 {
				t.Fatalf("body of %d bytes over a limit of 10: ran %v, %d %s", len(body), ran, rec.Code, rec.Body)
			}
			continue
		}
		if !ran || got != body || again != body {
			t.Fatalf("body of %d bytes: Body %q, read again %q", len(body), got, again)
		}
	}
}

// TestReadBodyDeclaredTooLarge checks that a declared length over the
// limit is refused before anything is read.
func TestReadBodyDeclaredTooLarge(t *testing.T) {
	h := ReadBody(10, answerWith(413, "too large"), answerWith(400, "unreadable"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the handler ran on a body over the limit")
	}))
	r := httptest.NewRequest("POST", "/", iotest.ErrReader(errors.New("read")))
	r.ContentLength = 11
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 413 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// TestReadBodyUnreadable checks that a body that fails to read is
// answered by the front door's answer and never reaches the handler.
func TestReadBodyUnreadable(t *testing.T) {
	broken := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errors.New("connection reset")))
	h := ReadBody(10, answerWith(413, "too large"), answerWith(400, "unreadable"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the handler ran on an unreadable body")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", broken))
	if rec.Code != 400 || rec.Body.String() != "unreadable" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestRecover(t *testing.T) {
	h := Recover(discard, answerWith(500, "clean"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || rec.Body.String() != "clean" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// Once the response has started, the connection is aborted instead.
	started := Recover(discard, answerWith(500, "clean"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("boom")
	}))
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		started.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	// http.ErrAbortHandler passes, also through Deadline.
	abort := Recover(discard, answerWith(500, "clean"), Deadline(time.Minute, discard, answerWith(503, "late"),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })))
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
}

func TestDeadline(t *testing.T) {
	// A handler that ignores its context, as a SQLite busy wait does: the
	// client has the deadline's answer, whole and on time, while the
	// handler still runs, and the connection is closed after it.
	release, ended := make(chan struct{}), make(chan struct{})
	var logs syncBuffer
	srv := httptest.NewServer(Deadline(50*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)), answerWith(503, "busy"),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(ended)
			<-release
			_, _ = io.WriteString(w, "too late")
			panic("after the deadline")
		})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body) // ends with the Content-Length, not with the handler
	_ = res.Body.Close()
	select {
	case <-ended:
		t.Fatal("the handler ended before its deadline's answer was read")
	default:
	}
	if err != nil || res.StatusCode != 503 || string(body) != "busy" || !res.Close || res.ContentLength != 4 {
		t.Fatalf("%d %q %v; close %t, length %d", res.StatusCode, body, err, res.Close, res.ContentLength)
	}
	close(release)
	<-ended
	// The late panic is logged, not raised, once the handler ends.
	for wait := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "panic in HTTP handler after its deadline answered"); time.Sleep(time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatalf("the late panic was not logged:\n%s", logs.String())
		}
	}

	// A panic in the handler reaches Recover.
	var recovered strings.Builder
	h := Recover(slog.New(slog.NewTextHandler(&recovered, nil)), answerWith(500, "clean"),
		Deadline(time.Minute, discard, answerWith(503, "busy"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("deep") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || rec.Body.String() != "clean" || !strings.Contains(recovered.String(), "deep") || !strings.Contains(recovered.String(), "httpguard_test.go") {
		t.Fatalf("%d %s; log:\n%s", rec.Code, rec.Body, recovered.String())
	}

	// A handler that finishes in time is answered as it wrote.
	rec = httptest.NewRecorder()
	Deadline(time.Minute, discard, answerWith(503, "busy"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-A", "b")
		w.WriteHeader(418)
		_, _ = io.WriteString(w, "teapot")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 418 || rec.Body.String() != "teapot" || rec.Header().Get("X-A") != "b" {
		t.Fatalf("%d %s %v", rec.Code, rec.Body, rec.Header())
	}
}

// syncBuffer is a log destination that a test reads while the server
// writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
