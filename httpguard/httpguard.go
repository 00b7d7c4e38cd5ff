// Package httpguard keeps a front door answering on a bad day: it recovers
// panics, reads bounded request bodies before the work starts, and bounds
// the work by a deadline that reaches the database. Each front door says
// what its clients see when a guard steps in (a GraphQL error, a legacy
// envelope); the guards only decide when.
package httpguard

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// Answer writes a front door's response for a request a guard stopped.
type Answer func(w http.ResponseWriter, r *http.Request)

// Recover answers a panic in next with answer and logs its stack. When
// next had already started its response, nothing more can be said to the
// client: the panic is logged and the connection is dropped. The
// http.ErrAbortHandler sentinel passes through untouched.
func Recover(log *slog.Logger, answer Answer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.ErrorContext(r.Context(), "panic in HTTP handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if tw.wrote {
				panic(http.ErrAbortHandler)
			}
			answer(w, r)
		}()
		next.ServeHTTP(tw, r)
	})
}

// trackingWriter remembers whether the response has started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(p)
}

func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// ReadBody reads the request body whole, up to limit bytes, before next
// runs, so that a slow client spends its time here, under the server's
// ReadTimeout, and not under the work's deadline. next finds the bytes
// with Body, and reads them again from r.Body if it must.
//
// A body over the limit, declared or sent, is answered by tooLarge
// without reading on. A body that cannot be read (the read timeout
// passed, the client went away mid-body) is answered by unreadable: the
// server has cancelled the request's context by then. Either way next
// never runs.
func ReadBody(limit int64, tooLarge, unreadable Answer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			tooLarge(w, r)
			return
		}
		var b []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			b, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
			switch {
			case err != nil:
				unreadable(w, r)
				return
			case int64(len(b)) > limit:
				tooLarge(w, r)
				return
			}
		}
		r.Body = &readBody{Reader: bytes.NewReader(b), bytes: b}
		next.ServeHTTP(w, r)
	})
}

// Body returns the body ReadBody read; nil when it did not run.
func Body(r *http.Request) []byte {
	if b, ok := r.Body.(*readBody); ok {
		return b.bytes
	}
	return nil
}

// readBody is a request body read whole.
type readBody struct {
	*bytes.Reader
	bytes []byte
}

func (*readBody) Close() error { return nil }

// Deadline runs next under a context that ends after timeout, so every
// database call it makes is cancelled then. Some waits do not watch the
// context (a SQLite busy wait, a connection being opened): the client
// must not wait for them. next therefore writes into a buffer, and when
// the deadline passes first, answer replies in its place at once, from
// the context's timer, while next goes on; next's output is discarded
// when it ends. That answer closes the connection (Connection: close,
// with a Content-Length, so that the client has it whole at once): the
// connection is not free for another request until next ends. Such late
// work holds at most the database connections the pool allows.
//
// next runs in the serving goroutine, not in one of its own: handing
// each request to another goroutine and waiting for it costs two
// wake-ups a request, more than the rest of this guard. A panic in next
// reaches Recover as it is; a panic after the deadline answered is
// logged.
//
// The outcome of a request whose deadline passed before next ended names
// LimitTimeout: answer's, or next's when it ended as the deadline passed.
func Deadline(timeout time.Duration, log *slog.Logger, answer Answer, next http.Handler) http.Handler {
	if timeout <= 0 {
		return next
	}
	var bodies sync.Pool // the buffers answers are written to, reused
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		run := &deadlineRun{answered: make(chan struct{})}
		run.stop = context.AfterFunc(ctx, func() {
			if run.settle() {
				defer close(run.answered)
				answerLate(w, r, log, timeout, answer, &bodies)
			}
		})
		bw := &bufferedWriter{header: http.Header{}, body: buffer(&bodies)}
		ended := false // next returned, rather than panicked
		defer func() {
			// Stopping the deadline's answer before it starts, the common
			// case, takes no lock.
			if run.stop() || run.settle() {
				if ended {
					bw.late = ctx.Err() == context.DeadlineExceeded
					bw.copyTo(w)
					recycle(&bodies, bw.body)
				}
				return // a panic goes on to Recover
			}
			<-run.answered
			recycle(&bodies, bw.body)
			if p := recover(); p != nil && p != http.ErrAbortHandler {
				log.Error("panic in HTTP handler after its deadline answered", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		growStack(0)
		next.ServeHTTP(bw, r)
		ended = true
	})
}

// deadlineRun is the race between a request's handler and its deadline
// to answer it: whichever settles it first answers.
type deadlineRun struct {
	stop     func() bool   // keeps the deadline's answer from starting
	answered chan struct{} // closed once the deadline's answer is written

	mu      sync.Mutex
	settled bool
}

// settle reports whether the caller settles the race, and so answers.
func (d *deadlineRun) settle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	won := !d.settled
	d.settled = true
	return won
}

// answerLate writes answer's response to r, whose deadline passed or
// whose client left, to w, whole, and closes the connection after it.
func answerLate(w http.ResponseWriter, r *http.Request, log *slog.Logger, timeout time.Duration, answer Answer, bodies *sync.Pool) {
	ab := &bufferedWriter{header: http.Header{}, body: buffer(bodies)}
	defer recycle(bodies, ab.body)
	if r.Context().Err() == context.DeadlineExceeded {
		// Debug: a database that hangs makes every request pass its
		// deadline, and the store logs that outage once.
		log.Debug("request deadline passed; answered without waiting for the handler", "method", r.Method, "path", r.URL.Path, "timeout", timeout.String())
		ab.late = true
	}
	answer(ab, r)
	ab.header.Set("Content-Length", strconv.Itoa(ab.body.Len()))
	ab.header.Set("Connection", "close")
	ab.copyTo(w)
	_ = http.NewResponseController(w).Flush()
}

// maxPooledAnswer bounds the buffers kept for the next answer: a longer
// answer is rare, and its buffer not worth holding.
const maxPooledAnswer = 1 << 20

func buffer(p *sync.Pool) *bytes.Buffer {
	if b, ok := p.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func recycle(p *sync.Pool, b *bytes.Buffer) {
	if b.Cap() <= maxPooledAnswer {
		b.Reset()
		p.Put(b)
	}
}

// growStack grows the serving goroutine's stack, while it holds only the
// guards' few frames and is cheap to copy, to what a request's handler
// needs (the GraphQL
// executor's extensions, resolvers, database/sql and the SQLite driver
// nest deep): grown frame by frame on the way down instead, the stack
// would be copied several times per request, each frame's pointers
// adjusted on every copy. i only keeps the compiler from dropping the
// frame.
//
//go:noinline
func growStack(i int) byte {
	var frame [handlerStack]byte
	return frame[i]
}

// handlerStack is about what a request's handler uses of its stack.
const handlerStack = 16 << 10

// bufferedWriter holds a response until it is known to be wanted, and
// its outcome with it (see SetOutcome).
type bufferedWriter struct {
	header  http.Header
	code    int
	body    *bytes.Buffer
	outcome Outcome
	noted   bool
	late    bool // the deadline passed before the handler ended
}

func (b *bufferedWriter) SetOutcome(o Outcome) { b.outcome, b.noted = o, true }

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if b.code == 0 {
		b.code = http.StatusOK
	}
	if b.late && b.outcome.Limit == "" {
		b.outcome.Limit = LimitTimeout
	}
	if b.noted {
		SetOutcome(w, b.outcome)
	}
	w.WriteHeader(b.code)
	_, _ = w.Write(b.body.Bytes())
}

// Outcome is what a front door's answer says, in its clients' terms, for
// the access log: GraphQL's extensions.code of the first error (Text; ""
// on success), or the legacy envelope's code (Num); and Limit, the limit
// that refused the request when one did (one of Limits), for the
// operators' metrics: some limits share a code with other failures.
type Outcome struct {
	Text  string
	Num   int
	Limit string
}

// The limits a front door refuses requests by, as Outcome.Limit names
// them.
const (
	LimitTokenRate  = "token_rate"  // a bearer token over its share of the replica
	LimitClientRate = "client_rate" // a legacy API client over its share
	LimitBody       = "body"        // a body over the size limit
	LimitTokens     = "tokens"      // a GraphQL document of too many lexical tokens
	LimitDepth      = "depth"       // GraphQL selections nested too deep
	LimitFields     = "fields"      // too many GraphQL field selections, aliases included
	LimitComplexity = "complexity"  // a GraphQL operation that costs too much
	LimitTimeout    = "timeout"     // work that ran past the request deadline (Deadline)
)

// Limits lists every limit Outcome.Limit may name.
func Limits() []string {
	return []string{LimitTokenRate, LimitClientRate, LimitBody, LimitTokens, LimitDepth, LimitFields, LimitComplexity, LimitTimeout}
}

// OutcomeWriter is a ResponseWriter that notes the outcome of the answer
// written to it: the access log's.
type OutcomeWriter interface {
	SetOutcome(Outcome)
}

// SetOutcome tells whoever takes note of outcomes behind w (the access
// log), through the writers that wrap it (Unwrap), what the answer being
// written to w says. Deadline's buffer carries it to the client's writer
// with the answer, so the outcome of work the deadline abandoned is
// dropped with its answer. Nothing happens when nobody takes note.
func SetOutcome(w http.ResponseWriter, o Outcome) {
	for w != nil {
		if ow, ok := w.(OutcomeWriter); ok {
			ow.SetOutcome(o)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// WithContext runs next with the request's context made by prepare, the
// context the work's callees find their per-request values in; nil
// leaves it as it is.
func WithContext(prepare func(context.Context) context.Context, next http.Handler) http.Handler {
	if prepare == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(prepare(r.Context())))
	})
}
