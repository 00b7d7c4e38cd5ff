package apptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"opfacade/app"
)

// LiveFast configures live subscriptions for tests: the poller ticks
// every 20 ms, so a change shows within a test's patience; what a test
// asserts never depends on how long a tick takes.
func LiveFast(c *app.Config) { c.Live.Interval = 20 * time.Millisecond }

// Message is a graphql-transport-ws message.
type Message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WS is a graphql-transport-ws client of the server's /query.
type WS struct {
	T *testing.T
	C *websocket.Conn
}

// DialWS opens a WebSocket to /query speaking graphql-transport-ws, with
// header (Origin, say) on the handshake; the handshake must succeed.
func (s *Server) DialWS(t *testing.T, header http.Header) *WS {
	t.Helper()
	c, res, err := s.TryDialWS(header)
	if err != nil {
		t.Fatalf("WebSocket handshake: %v (%v)", err, res)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &WS{T: t, C: c}
}

// TryDialWS opens a WebSocket, returning the handshake's answer.
func (s *Server) TryDialWS(header http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/query"
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if c != nil {
		c.SetReadLimit(16 << 20)
	}
	return c, res, err
}

// Send sends a message.
func (w *WS) Send(typ, id string, payload any) {
	w.T.Helper()
	m := Message{Type: typ, ID: id}
	if payload != nil {
		m.Payload, _ = json.Marshal(payload)
	}
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.C.Write(ctx, websocket.MessageText, b); err != nil {
		w.T.Fatalf("write %s: %v", typ, err)
	}
}

// Read reads the next message other than a ping (answered); the
// error is the socket's (its close status, say).
func (w *WS) Read() (Message, error) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, b, err := w.C.Read(ctx)
		cancel()
		if err != nil {
			return Message{}, err
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			return Message{}, fmt.Errorf("not a message: %s", b)
		}
		if m.Type == "ping" {
			w.Send("pong", "", nil)
			continue
		}
		return m, nil
	}
}

// Must reads the next message, which must be of type typ.
func (w *WS) Must(typ string) Message {
	w.T.Helper()
	m, err := w.Read()
	if err != nil {
		w.T.Fatalf("reading a %s message: %v", typ, err)
	}
	if m.Type != typ {
		w.T.Fatalf("got a %s message, want %s: %s", m.Type, typ, m.Payload)
	}
	return m
}

// Init says connection_init with token as bearer ("" sends no payload)
// and waits for the ack.
func (w *WS) Init(token string) {
	w.T.Helper()
	w.InitOnly(token)
	w.Must("connection_ack")
}

// InitOnly says connection_init, waiting for nothing.
func (w *WS) InitOnly(token string) {
	w.T.Helper()
	var payload any
	if token != "" {
		payload = map[string]string{"Authorization": "Bearer " + token}
	}
	w.Send("connection_init", "", payload)
}

// Subscribe starts operation id.
func (w *WS) Subscribe(id, query string, vars map[string]any) {
	w.T.Helper()
	w.Send("subscribe", id, map[string]any{"query": query, "variables": vars})
}

// Next reads the next message, which must be a next of id, and returns
// its payload.
func (w *WS) Next(id string) GraphQLResponse {
	w.T.Helper()
	m := w.Must("next")
	if m.ID != id {
		w.T.Fatalf("next of %s, want %s", m.ID, id)
	}
	var r GraphQLResponse
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		w.T.Fatal(err)
	}
	return r
}

// SSE is a GraphQL-over-SSE stream (distinct connections mode).
type SSE struct {
	Res *http.Response
	r   *bufio.Reader
}

// Event is a server-sent event.
type Event struct {
	Name string
	Data string
}

// StreamSSE POSTs query asking for an event stream, with header.
func (s *Server) StreamSSE(t *testing.T, header http.Header, query string) *SSE {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return &SSE{Res: res, r: bufio.NewReader(res.Body)}
}

// Next reads the next event, skipping comments.
func (e *SSE) Next() (Event, error) {
	var ev Event
	for {
		line, err := e.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.Name != "" || ev.Data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			ev.Name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			ev.Data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
}
