// Package accesslog writes one log line per request at a front door:
// who asked (the request id), which door, what it was (the GraphQL
// operation's name), how it ended (the outcome code, the HTTP status),
// and what it cost (duration, bytes written, SQL statements). It never
// logs a header, a parameter or a body: tokens, signatures and secrets
// stay out of the log.
//
// The middleware stands outside a front door's own guards, so requests
// they refuse, and panics they answer, are logged too. The front doors
// fill in what only they know: the operation (SetOperation) through the
// request's context, and the outcome through the response writer
// (httpguard.SetOutcome), so that the outcome logged is the one of the
// answer the client got, not of work a deadline abandoned.
//
// The same middleware tells a Recorder (the operators' metrics) of each
// request as it arrives and as it ends, with what its line says: one
// place knows a request's door, operation and outcome.
//
// A live subscription's stream, a WebSocket or an event stream, is a
// request that lasts: the front door marks it (Stream) as it starts
// streaming, and its one line is written when it ends, with how long it
// lasted and the answers it sent (Sent).
package accesslog

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"opfacade/httpguard"
	"opfacade/store"
)

// The front doors, as the door field names them.
const (
	GraphQL = "graphql"
	Legacy  = "legacy"
)

// The transports of a stream, as the stream field names them.
const (
	WebSocket = "websocket"
	SSE       = "sse"
)

// Message is the message of every access line.
const Message = "access"

// MaxOperation bounds the operation name logged.
const MaxOperation = 64

// New logs each request next serves at door (GraphQL or Legacy) to log:
// INFO, or WARN when the server failed it (HTTP 5xx, a legacy code of
// 500 or more, GraphQL INTERNAL_SERVER_ERROR or SERVICE_UNAVAILABLE). The
// answer carries the request id in X-Request-ID: the caller's when it is
// sane (1 to 64 printable ASCII characters, no spaces), else a random
// one of 16 hex digits. The line has the request's trace_id when its
// context carries an OpenTelemetry span (a tracing middleware in front).
// rec, when not nil, is told of each request too.
func New(log *slog.Logger, door string, rec Recorder, next http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if rec != nil {
			rec.Begin()
		}
		e := &entry{w: w, id: requestID(r.Header["X-Request-Id"]), rec: rec}
		w.Header()["X-Request-Id"] = []string{e.id}
		ctx := r.Context()
		defer e.end(ctx, log, door, rec, start)
		next.ServeHTTP(e, r.WithContext(store.CountStatements(context.WithValue(ctx, key{}, e), &e.statements)))
	})
}

// Recorder takes note of the requests at one front door, beside their
// access lines: Begin as a request arrives, Streaming when it becomes a
// stream (see Stream), End as it ends. They are called on every request,
// so they must be cheap.
type Recorder interface {
	Begin()
	Streaming(transport string)
	End(Request)
}

// Request is what a Recorder learns of a request as it ends: what its
// access line says.
type Request struct {
	// Operation is the GraphQL operation's name as logged ("" when
	// anonymous or unknown; always "" on the legacy path).
	Operation string
	// Outcome is the answer's code, and the limit that refused it if one
	// did.
	Outcome  httpguard.Outcome
	Status   int
	Duration time.Duration
	// Stream is the transport of a stream (WebSocket, SSE), "" for a
	// request; Messages, the answers it sent.
	Stream   string
	Messages int64
}

// entry is a request's record and the writer that fills it: one
// allocation per request.
type entry struct {
	w          http.ResponseWriter
	id         string
	status     int
	bytes      int64
	outcome    httpguard.Outcome
	statements atomic.Int64 // store.CountStatements counts into it
	messages   atomic.Int64 // a stream's answers (Sent)
	rec        Recorder

	// Set by work running under a deadline, or on a stream.
	mu     sync.Mutex
	op     string
	stream string // the transport
	code   string // of the error that ended the stream (EndStream)
}

type key struct{}

func (e *entry) Header() http.Header { return e.w.Header() }

func (e *entry) WriteHeader(code int) {
	if e.status < 200 { // the final status, not a 1xx one
		e.status = code
	}
	e.w.WriteHeader(code)
}

func (e *entry) Write(p []byte) (int, error) {
	if e.status < 200 {
		e.status = http.StatusOK
	}
	n, err := e.w.Write(p)
	e.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController flush the client's connection.
func (e *entry) Unwrap() http.ResponseWriter { return e.w }

// SetOutcome notes the outcome of the answer written (httpguard.SetOutcome).
func (e *entry) SetOutcome(o httpguard.Outcome) { e.outcome = o }

// end records the request with rec and logs its line.
func (e *entry) end(ctx context.Context, log *slog.Logger, door string, rec Recorder, start time.Time) {
	elapsed := time.Since(start)
	e.mu.Lock()
	op, stream := e.op, e.stream
	if e.code != "" {
		e.outcome = httpguard.Outcome{Text: e.code}
	}
	e.mu.Unlock()
	if rec != nil {
		rec.End(Request{Operation: op, Outcome: e.outcome, Status: e.status, Duration: elapsed, Stream: stream, Messages: e.messages.Load()})
	}
	e.log(ctx, log, door, op, stream, start.Add(elapsed), elapsed)
}

// log writes the request's line, at end. It hands the record to log's
// handler itself, as Logger.LogAttrs would but without looking up its
// caller's program counter: a walk of the stack's tables, costly on every
// request, for a source the line never needs (it is always this one).
func (e *entry) log(ctx context.Context, log *slog.Logger, door, op, stream string, end time.Time, elapsed time.Duration) {
	level := slog.LevelInfo
	if e.failed() {
		level = slog.LevelWarn
	}
	if !log.Enabled(ctx, level) {
		return
	}
	var buf [12]slog.Attr
	attrs := append(buf[:0], slog.String("request_id", e.id), slog.String("door", door))
	if door == GraphQL {
		attrs = append(attrs, slog.String("operation", op), slog.String("code", e.outcome.Text))
	} else {
		attrs = append(attrs, slog.Int("code", e.outcome.Num))
	}
	attrs = append(attrs, slog.Int("status", e.status), slog.Float64("duration_ms", ms(elapsed)), slog.Int64("bytes", e.bytes), slog.Int64("statements", e.statements.Load()))
	if stream != "" {
		attrs = append(attrs, slog.String("stream", stream), slog.Int64("messages", e.messages.Load()))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	r := slog.NewRecord(end, level, Message, 0)
	r.AddAttrs(attrs...)
	_ = log.Handler().Handle(ctx, r)
}

// failed reports whether the server failed the request, rather than the
// client asking for something it may not have.
func (e *entry) failed() bool {
	return e.status >= 500 || e.outcome.Num >= 500 ||
		e.outcome.Text == "INTERNAL_SERVER_ERROR" || e.outcome.Text == "SERVICE_UNAVAILABLE"
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// SetOperation notes the GraphQL operation's name for the access line:
// a GraphQL name (letters, digits, _) cut at MaxOperation bytes; any
// other text is not a name, and is left out.
func SetOperation(ctx context.Context, name string) {
	e, ok := ctx.Value(key{}).(*entry)
	if !ok || !isName(name) {
		return
	}
	if len(name) > MaxOperation {
		name = name[:MaxOperation]
	}
	e.mu.Lock()
	e.op = name
	e.mu.Unlock()
}

// Stream notes that the request has become a stream of answers over
// transport (WebSocket or SSE), and tells the Recorder, once.
func Stream(ctx context.Context, transport string) {
	e, ok := ctx.Value(key{}).(*entry)
	if !ok {
		return
	}
	e.mu.Lock()
	first := e.stream == ""
	e.stream = transport
	e.mu.Unlock()
	if first && e.rec != nil {
		e.rec.Streaming(transport)
	}
}

// Sent counts an answer sent on the request's stream.
func Sent(ctx context.Context) {
	if e, ok := ctx.Value(key{}).(*entry); ok {
		e.messages.Add(1)
	}
}

// EndStream notes the code of the error that ended the request's
// stream: its answers are not written through the request's writer.
func EndStream(ctx context.Context, code string) {
	if e, ok := ctx.Value(key{}).(*entry); ok {
		e.mu.Lock()
		e.code = code
		e.mu.Unlock()
	}
}

// isName reports whether s is a GraphQL name, or empty.
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// RequestID is the id of the request ctx belongs to; "" outside one.
func RequestID(ctx context.Context) string {
	if e, ok := ctx.Value(key{}).(*entry); ok {
		return e.id
	}
	return ""
}

// requestID is the caller's X-Request-ID when it is sane to log and echo:
// 1 to 64 printable ASCII characters, no spaces; a random one otherwise.
func requestID(sent []string) string {
	if len(sent) > 0 && Sane(sent[0]) {
		return sent[0]
	}
	const hex = "0123456789abcdef"
	var b [16]byte
	n := rand.Uint64()
	for i := range b {
		b[i] = hex[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// Sane reports whether id may be used as a request id as sent: 1 to 64
// printable ASCII characters, without spaces.
func Sane(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// WithRequestID returns a handler that adds the request's id
// (request_id) to each line h handles that is logged with the context of
// a request under New, so that what a front door logs about a request
// (a refusal's reason, an internal error) can be found with its access
// line.
func WithRequestID(h slog.Handler) slog.Handler { return idHandler{h} }

type idHandler struct{ slog.Handler }

func (h idHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h idHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return idHandler{h.Handler.WithAttrs(as)}
}

func (h idHandler) WithGroup(name string) slog.Handler {
	return idHandler{h.Handler.WithGroup(name)}
}
