package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"

	"opfacade/accesslog"
	"opfacade/live"
)

// websockets accepts WebSocket connections for gqlgen's transport, as
// its own coder/websocket adapter does, with one difference: a write that
// does not finish within writeTimeout closes the connection. gqlgen
// writes each message under the connection's lock, so a client that
// stops reading would otherwise hold every write, and the close, of its
// connection for ever. The origin is checked before (see checkOrigin).
type websockets struct{ writeTimeout time.Duration }

var _ transport.WebsocketImplementation = websockets{}

func (ws websockets) Accept(w http.ResponseWriter, r *http.Request, opt transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for k, vs := range opt.ResponseHeader {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: opt.Subprotocols, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	accesslog.Stream(r.Context(), accesslog.WebSocket)
	conn := &wsConn{c: c, writeTimeout: ws.writeTimeout, ctx: r.Context()}
	if sock := socketFrom(r.Context()); sock != nil {
		conn.sock = sock
		sock.accepted(conn)
	}
	return conn, nil
}

// wsConn is a WebSocket as gqlgen's transport uses it.
type wsConn struct {
	c            *websocket.Conn
	writeTimeout time.Duration
	ctx          context.Context // the handshake's: see trackSockets
	sock         *socket         // nil when untracked

	mu       sync.Mutex
	deadline *time.Timer
	closing  bool
}

var (
	_ transport.WebsocketConn          = (*wsConn)(nil)
	_ transport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ transport.WebsocketReadDeadliner = (*wsConn)(nil)
)

func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, data, err := c.c.Read(context.Background())
	if err != nil {
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		return int(typ), nil, err
	}
	return int(typ), bytes.NewReader(data), nil
}

func (c *wsConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.writeTimeout)
	defer cancel()
	return c.c.Write(ctx, websocket.MessageText, data) // closes the connection when ctx ends first
}

// WriteClose starts the closing handshake in the background: it waits up
// to 5 seconds for the client's answer, and gqlgen's teardown must not.
// A connection closed as the server shuts down (see trackSockets) goes
// away (1001), whatever gqlgen says.
func (c *wsConn) WriteClose(code int, reason string) error {
	if errors.Is(context.Cause(c.ctx), live.ErrClosed) {
		code, reason = int(websocket.StatusGoingAway), goingAway()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopDeadline()
	if c.closing {
		return nil
	}
	c.closing = true
	go func() {
		_ = c.c.Close(websocket.StatusCode(code), reason)
		c.closed()
	}()
	return nil
}

func (c *wsConn) Close() error {
	c.mu.Lock()
	closing := c.closing
	c.stopDeadline()
	c.mu.Unlock()
	if closing {
		return nil // the handshake closes it
	}
	defer c.closed()
	return c.c.CloseNow()
}

// closed tells the tracker the connection is closed.
func (c *wsConn) closed() {
	if c.sock != nil {
		c.sock.done()
	}
}

func (c *wsConn) Subprotocol() string { return c.c.Subprotocol() }

func (c *wsConn) SetReadLimit(limit int64) { c.c.SetReadLimit(limit) }

// SetReadDeadline closes the connection at t (a ping not answered in
// time); the zero t clears it.
func (c *wsConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopDeadline()
	if !t.IsZero() {
		c.deadline = time.AfterFunc(time.Until(t), func() { _ = c.c.CloseNow() })
	}
	return nil
}

func (c *wsConn) stopDeadline() {
	if c.deadline != nil {
		c.deadline.Stop()
		c.deadline = nil
	}
}
