package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"opfacade/accesslog"
	"opfacade/domain"
	"opfacade/live"
)

// Subscriptions reach /query two ways, both long-lived streams:
//
//   - a WebSocket speaking graphql-transport-ws (graphql-ws's protocol).
//     The bearer token comes in connection_init's payload, shaped as a
//     header, {"Authorization": "Bearer <token>"}, as GraphiQL and Apollo
//     send it; a missing, unknown or expired one closes the socket with
//     4403 and "UNAUTHENTICATED: …". The handshake passes no CSRF or body
//     guard (a browser sends it without a preflight): its Origin, when it
//     has one, must be the server's own or one of -cors-origins;
//   - a POST asking for text/event-stream (GraphQL over SSE, distinct
//     connections), guarded as any POST (CORS, CSRF, JSON, the rate
//     limit, the body), the token in its Authorization header.
//
// A stream does not run under the request deadline; each answer's work
// does run with fresh loaders (streams.InterceptResponse), and a stream
// keeps panic recovery.

// sseMedia is the media type a GraphQL-over-SSE client accepts.
const sseMedia = "text/event-stream"

// isWebSocket reports whether r opens a WebSocket.
func isWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// wantsSSE reports whether r asks for an event stream.
func wantsSSE(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), sseMedia)
}

// addStreams adds the two stream transports to srv, before the others,
// and what runs each answer of a subscription.
func addStreams(srv *handler.Server, cfg live.Config, tokens TokenChecker, present graphql.ErrorPresenterFunc, prepare func(context.Context) context.Context, timeout time.Duration) {
	srv.AddTransport(transport.Websocket{
		Implementation:        websockets{writeTimeout: cfg.SendTimeout},
		ErrorFunc:             logSlow(cfg.Log, cfg.SendTimeout),
		InitFunc:              initConnection(tokens, cfg, present),
		InitTimeout:           cfg.IdleTimeout,
		PingPongInterval:      cfg.KeepAlive,
		KeepAlivePingInterval: cfg.KeepAlive, // for the older graphql-ws protocol's clients
	})
	srv.AddTransport(sseTransport{transport.SSE{KeepAlivePingInterval: cfg.KeepAlive}})
	srv.Use(streams{prepare: prepare, present: present, timeout: timeout})
}

// slowClient is what the log says of a client dropped for not reading.
const slowClient = "live: a client that does not read its updates was dropped"

// logSlow logs a WebSocket dropped because a write did not reach the
// client within timeout (see websockets); other socket errors are the
// clients' going away, and not logged.
func logSlow(log *slog.Logger, timeout time.Duration) transport.WebsocketErrorFunc {
	return func(ctx context.Context, err error) {
		var we transport.WebsocketError
		if errors.As(err, &we) && !we.IsReadError && errors.Is(err, context.DeadlineExceeded) {
			log.WarnContext(ctx, slowClient, "transport", "websocket", "send_timeout", timeout.String())
		}
	}
}

// initConnection checks the bearer token of a WebSocket's
// connection_init and gives the connection its count of subscriptions,
// which closes it after IdleTimeout without one.
func initConnection(tokens TokenChecker, cfg live.Config, present graphql.ErrorPresenterFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		token, ok := bearer(payload.Authorization())
		var err error
		if !ok {
			err = domain.Errorf(domain.EUNAUTHENTICATED, `a bearer token is required: send connection_init with the payload {"Authorization": "Bearer <token>"}`)
		} else {
			_, err = tokens.StaffByToken(ctx, token)
		}
		if err != nil {
			e := present(ctx, err)
			code, _ := e.Extensions["code"].(string)
			close := 4403 // Forbidden, as graphql-transport-ws refuses a connection
			if domain.Code(err) != domain.EUNAUTHENTICATED {
				close = 1013 // Try Again Later: the client retries
			}
			accesslog.EndStream(ctx, code)
			ctx = transport.WithWebsocketCloseCode(ctx, close)
			ctx = transport.AppendCloseReason(ctx, closeReason(code, e.Message))
			return ctx, nil, errors.New(closeReason(code, e.Message))
		}
		ctx, cancel := context.WithCancelCause(ctx)
		idle := newIdleTimer(cfg.IdleTimeout, func() { cancel(errIdle) })
		conn := live.NewConn(idle.start, idle.stop)
		ctx = live.WithConn(context.WithValue(ctx, initTokenKey{}, token), conn)
		return ctx, nil, nil
	}
}

var errIdle = errors.New("the connection was idle, without subscriptions")

// closeReason is a close frame's reason: the code, then the message, cut
// to the 123 bytes a close frame holds.
func closeReason(code, msg string) string {
	r := code + ": " + msg
	if len(r) > 123 {
		r = r[:120] + "…"
	}
	return r
}

type initTokenKey struct{}

// initToken is the bearer token of the WebSocket's connection_init.
func initToken(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(initTokenKey{}).(string)
	return t, ok
}

// idleTimer runs fire once it has been started and not stopped for d.
type idleTimer struct {
	d    time.Duration
	fire func()
	t    *time.Timer
}

func newIdleTimer(d time.Duration, fire func()) *idleTimer {
	return &idleTimer{d: d, fire: fire}
}

// start and stop are called under the connection's lock (live.Conn).
func (i *idleTimer) start() {
	if i.t == nil {
		i.t = time.AfterFunc(i.d, i.fire)
		return
	}
	i.t.Reset(i.d)
}

func (i *idleTimer) stop() {
	if i.t != nil {
		i.t.Stop()
	}
}

// sseTransport is gqlgen's SSE transport for the requests the guards let
// through as streams (see serveStream): a subscription, POSTed, asking
// for text/event-stream. Any other request is left to the transports
// that answer JSON.
type sseTransport struct{ transport.SSE }

func (t sseTransport) Supports(r *http.Request) bool {
	_, ok := r.Context().Value(streamKey{}).(bool)
	return ok && t.SSE.Supports(r)
}

type streamKey struct{}

// serveStream runs an SSE subscription without the request deadline:
// the server's read and write deadlines, which would end it, give way to
// one per write (a client that does not take a write within the send
// timeout is dropped), and the stream has a live.Conn that can drop it.
func serveStream(cfg live.Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{}) // the body is read
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		conn := live.NewConn(nil, nil)
		ctx = live.WithConn(context.WithValue(ctx, streamKey{}, true), conn)
		accesslog.Stream(ctx, accesslog.SSE)
		sw := &streamWriter{ResponseWriter: w, rc: rc, timeout: cfg.SendTimeout, fail: func(err error) {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				cfg.Log.WarnContext(ctx, slowClient, "transport", "sse", "send_timeout", cfg.SendTimeout.String())
			}
			cancel(errSlow)
		}}
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// streamWriter writes an event stream, each write and flush given
// timeout to reach the client; the first that fails ends the stream
// (fail): gqlgen's SSE transport does not look at its writes' errors.
type streamWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	fail    func(error)
	failed  sync.Once
}

func (w *streamWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.ResponseWriter.Write(p)
	w.check(err)
	return n, err
}

func (w *streamWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	w.check(w.rc.Flush())
}

func (w *streamWriter) check(err error) {
	if err != nil {
		w.failed.Do(func() { w.fail(err) })
	}
}

// errSlow ends a stream whose client did not take a write in time.
var errSlow = errors.New("the client did not read its updates in time")

func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// streams runs each answer of a subscription as a query's runs: with the
// context prepare gives a request (fresh loaders), so that nothing one
// answer read is kept for the next. Subscribers of one OP that run the
// same operation with the same variables share each run after a change
// (live.Stream.Answer): one runs the selection, the others send its
// answer. An answer equal to the last one sent is not sent again (the
// hub signals when the OP's watched rows changed, which need not change
// this selection). When the stream ends with an error (the token expired,
// the server shuts down), a last answer says so.
type streams struct {
	prepare func(context.Context) context.Context
	present graphql.ErrorPresenterFunc
	timeout time.Duration // a query's over a WebSocket
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = streams{}

func (streams) ExtensionName() string                          { return "LiveStreams" }
func (streams) Validate(schema graphql.ExecutableSchema) error { return nil }

func (s streams) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	st := live.StreamFrom(ctx)
	if st == nil {
		return next(ctx)
	}
	key := shareKey(ctx)
	for {
		a, _ := st.Answer(ctx, key, func() (any, bool) { return s.run(ctx, next) }).(answer)
		if a.resp == nil {
			if err := st.Err(); err != nil {
				return &graphql.Response{Errors: gqlerror.List{s.present(ctx, err)}}
			}
			return nil
		}
		if len(a.resp.Errors) > 0 || st.Changed(a.digest) {
			resp := *a.resp // others may send the same answer
			return &resp
		}
	}
}

// answer is one run of a subscription's selection: its response, and a
// digest of its data.
type answer struct {
	resp   *graphql.Response
	digest [32]byte
}

// run runs the selection over the feed's next value (next), and reports
// whether its answer may be shared: whole, and without errors, whose
// messages are the subscriber's own.
func (s streams) run(ctx context.Context, next graphql.ResponseHandler) (answer, bool) {
	if s.prepare != nil {
		ctx = s.prepare(ctx)
	}
	resp := next(ctx)
	if resp == nil {
		return answer{}, false
	}
	if len(resp.Errors) > 0 {
		return answer{resp: resp}, false
	}
	// The executor writes the stream's next answer into the same buffer,
	// while others may still be sending this one.
	resp.Data = bytes.Clone(resp.Data)
	return answer{resp: resp, digest: sha256.Sum256(resp.Data)}, true
}

// shareKey is what, beside the OP's data, an answer of the subscription
// ctx runs depends on: the document, the operation, its variables and
// the caller (nothing below Subscription.me reads the caller today; a
// field that one day does stays correct).
func shareKey(ctx context.Context) string {
	oc := graphql.GetOperationContext(ctx)
	vars, _ := json.Marshal(oc.Variables) // map keys sorted
	caller, _ := domain.Caller(ctx)
	return strings.Join([]string{caller.ID, string(caller.Role), oc.OperationName, string(vars), oc.RawQuery}, "\x00")
}

// logged tells the access log of each answer a subscription sends, and
// of the error that ended it, the code of a last answer without data: a
// refusal, an expired token; not the replica shutting down, which fails
// nothing (clients go elsewhere).
func logged(st *live.Stream, h graphql.ResponseHandler) graphql.ResponseHandler {
	var code string
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil {
			if code != "" && !errors.Is(st.Why(), live.ErrClosed) {
				accesslog.EndStream(ctx, code)
			}
			return nil
		}
		accesslog.Sent(ctx)
		code = ""
		if len(resp.Errors) > 0 && (len(resp.Data) == 0 || string(resp.Data) == "null") {
			code, _ = resp.Errors[0].Extensions["code"].(string)
		}
		return resp
	}
}

// checkOrigin refuses a WebSocket handshake a browser sends from another
// site's page: its Origin must be the server's own (scheme and host as
// the request reached it) or one of allowed, as CORS allows requests.
// Clients that are not browsers send no Origin.
func checkOrigin(allowed originSet, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || allowed[origin] || sameOrigin(origin, r) {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusForbidden, CodeCORSOriginNotAllowed,
			fmt.Sprintf("a WebSocket from the origin %s is not allowed: the server allows its own and those it is configured with", origin))
	})
}

// sameOrigin reports whether origin names the host r was sent to.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// isSubscription reports whether params names a subscription.
func (o operations) isSubscription(p *bodyParams) bool {
	return p != nil && o.operationType(p.RawParams) == ast.Subscription
}

// InterceptOperation gives each operation over a WebSocket what a request
// gives it over HTTP: a query or mutation runs with the request's context
// (prepare) under the request deadline; and a subscription, over either
// stream, gets its live.Stream.
func (s streams) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
		// next checks the token and subscribes: the connection is busy
		// until then, not idle, however long the database takes.
		defer live.Opening(ctx)()
		if _, ws := initToken(ctx); !ws { // an event stream is this one subscription
			accesslog.SetOperation(ctx, oc.Operation.Name)
		}
		st := live.NewStream()
		return logged(st, next(live.WithStream(ctx, st)))
	}
	if _, ws := initToken(ctx); !ws {
		return next(ctx)
	}
	if s.prepare != nil {
		ctx = s.prepare(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		defer cancel()
		return h(ctx)
	}
}
