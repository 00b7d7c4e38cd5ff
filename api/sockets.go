package api

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"opfacade/domain"
	"opfacade/live"
)

// Streams keeps the connections that carry live streams past their
// request (live.Hub.Track).
type Streams interface {
	Track(goAway func()) (untrack func(), err error)
}

// goingAway is the close reason of a WebSocket the server closes as it
// shuts down; graphql-ws clients reconnect, and reach another replica.
func goingAway() string {
	return closeReason(Code(live.ErrClosed), domain.Message(live.ErrClosed))
}

// trackSockets has streams keep each WebSocket from its handshake until
// it is closed: a shutdown closes it as going away, 1001 and
// SERVICE_UNAVAILABLE, and waits for its closing handshake. The
// connection's context ends with live.ErrClosed, ending its
// subscriptions with it. A handshake while the server shuts down is
// refused: 503 SERVICE_UNAVAILABLE.
func trackSockets(streams Streams, next http.Handler) http.Handler {
	if streams == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		sock := &socket{}
		untrack, err := streams.Track(func() { sock.goAway(cancel) })
		if err != nil {
			cancel(nil)
			writeError(w, http.StatusServiceUnavailable, Code(err), domain.Message(err))
			return
		}
		sock.untrack = func() { cancel(nil); untrack() }
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, socketKey{}, sock)))
		sock.served()
	})
}

// socket is a WebSocket a Streams keeps: until its handshake is accepted,
// by its handler; then by its connection, until closed.
type socket struct {
	untrack func()
	once    sync.Once

	mu   sync.Mutex
	conn *wsConn // once accepted
}

type socketKey struct{}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// accepted notes the connection of an accepted handshake. When the
// server began to shut down between the handshake's answer and now,
// goAway found no connection to close: it is closed here.
func (s *socket) accepted(c *wsConn) {
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	if errors.Is(context.Cause(c.ctx), live.ErrClosed) {
		_ = c.WriteClose(int(websocket.StatusGoingAway), goingAway())
	}
}

// goAway ends the connection's context and closes it with 1001; one
// still waiting for connection_init closes too (gqlgen reads it without
// looking at the context).
func (s *socket) goAway(cancel context.CancelCauseFunc) {
	cancel(live.ErrClosed)
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		_ = c.WriteClose(int(websocket.StatusGoingAway), goingAway())
	}
}

// served is the end of the handshake's handler: a handshake refused
// leaves nothing open.
func (s *socket) served() {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil {
		s.done()
	}
}

func (s *socket) done() { s.once.Do(s.untrack) }
