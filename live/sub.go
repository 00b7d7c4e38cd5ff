package live

import (
	"context"
	"sync"
	"time"

	"opfacade/domain"
)

// Sub is one live subscription: an OP watched with a set of chat
// statuses, on behalf of a bearer token.
type Sub struct {
	hub     *Hub
	staffID string
	token   string
	watch   domain.ChatFilter
	conn    *Conn

	signal chan struct{} // capacity 1: signals coalesce
	done   chan struct{} // closed when the hub ends the subscription

	// Guarded by hub.mu.
	staff   domain.Staff
	expires time.Time
	seen    uint64 // the fingerprint of the last signal
	hasSeen bool
	gen     *Generation // of the last signal, until Next takes it
	err     error       // why the hub ended it
	ended   bool
}

// Request is what a subscription is opened with.
type Request struct {
	Token string
	// Watch lists the chat statuses the subscription's answer shows.
	Watch domain.ChatFilter
}

// Subscribe opens a subscription, within the limits of the token, of the
// connection in ctx (see WithConn) and of the replica: each refusal has a
// domain code of its own. It reads the token's session (the OP, and when
// the token expires) and, for an OP nobody watched yet, its fingerprint
// (see baseline). The caller reads updates with Next and ends it with
// Close.
func (h *Hub) Subscribe(ctx context.Context, req Request) (*Sub, error) {
	conn := connFrom(ctx)
	sess, err := h.src.SessionByToken(ctx, req.Token)
	if err != nil {
		return nil, err
	}
	seen, hasSeen := h.baseline(ctx, sess.Staff.ID, req.Watch)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, ErrClosed
	case h.total >= h.cfg.MaxPerReplica:
		return nil, domain.Errorf(domain.ELIVEREPLICA, "this server has %d live subscriptions, its limit: try again later, or another server", h.cfg.MaxPerReplica)
	case h.tokens[req.Token] >= h.cfg.MaxPerToken:
		return nil, domain.Errorf(domain.ELIVETOKEN, "this bearer token has %d live subscriptions, its limit: end one first", h.cfg.MaxPerToken)
	case conn != nil && !conn.admit(h.cfg.MaxPerConnection):
		return nil, domain.Errorf(domain.ELIVECONNECTION, "this connection has %d live subscriptions, its limit: end one first", h.cfg.MaxPerConnection)
	}
	s := &Sub{hub: h, staffID: sess.Staff.ID, token: req.Token, watch: req.Watch, conn: conn,
		signal: make(chan struct{}, 1), done: make(chan struct{}), staff: sess.Staff, expires: sess.Expires,
		seen: seen, hasSeen: hasSeen}
	w := h.ops[s.staffID]
	if w == nil {
		w = &watched{subs: map[*Sub]struct{}{}}
		h.ops[s.staffID] = w
	}
	w.subs[s] = struct{}{}
	w.stale = true
	h.tokens[req.Token]++
	h.total++
	if !h.polling {
		h.polling = true
		go h.poll()
	}
	return s, nil
}

// Next waits for the subscription's next update and returns the OP's row
// as read with it, and the generation it belongs to, which the
// subscribers the same tick signalled share (nil for the first); the
// first call returns at once, with the row the subscription started
// with. It fails when the hub ended the subscription (the token expired,
// the server shuts down) or ctx ended. The token's expiry is checked
// before each update.
func (s *Sub) Next(ctx context.Context, first bool) (domain.Staff, *Generation, error) {
	if !first {
		select {
		case <-s.signal:
		case <-s.done:
		case <-ctx.Done():
			return domain.Staff{}, nil, context.Cause(ctx)
		}
	}
	if err := s.hub.checkExpiry(ctx, s); err != nil {
		return domain.Staff{}, nil, err
	}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.ended {
		return domain.Staff{}, nil, s.err
	}
	if first {
		return s.staff, nil, nil
	}
	gen := s.gen
	s.gen = nil
	return s.staff, gen, nil
}

// Close ends the subscription and gives back its place in the limits.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.endLocked(nil)
	w := h.ops[s.staffID]
	if w == nil {
		return
	}
	if _, ok := w.subs[s]; !ok {
		return
	}
	delete(w.subs, s)
	w.stale = true
	if len(w.subs) == 0 {
		delete(h.ops, s.staffID)
	}
	if h.tokens[s.token]--; h.tokens[s.token] <= 0 {
		delete(h.tokens, s.token)
	}
	h.total--
	if s.conn != nil {
		s.conn.release()
	}
}

// endLocked ends the subscription with err (nil: by its subscriber).
func (s *Sub) endLocked(err error) {
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	close(s.done)
}

// notifyLocked signals the subscriber, unless a signal waits already.
func (s *Sub) notifyLocked() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// Conn counts the live subscriptions of one connection, and starts its
// idle timer when it has none (IdleTimeout). A subscription being opened
// counts too: on a busy replica its token and session may wait for the
// database longer than the idle timeout, and the connection is not idle
// meanwhile.
type Conn struct {
	mu      sync.Mutex
	n       int    // admitted
	opening int    // being opened
	idle    func() // starts the idle timer; nil: none
	busy    func() // stops it
}

// NewConn returns the count of a connection; startIdle and stopIdle
// start and stop its idle timer (nil: none).
func NewConn(startIdle, stopIdle func()) *Conn {
	c := &Conn{idle: startIdle, busy: stopIdle}
	if c.idle != nil {
		c.idle()
	}
	return c
}

func (c *Conn) admit(max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= max {
		return false
	}
	c.n++
	c.changed(+1)
	return true
}

func (c *Conn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	c.changed(-1)
}

// changed starts or stops the idle timer after the connection's count of
// subscriptions, admitted and being opened, moved by d.
func (c *Conn) changed(d int) {
	switch total := c.n + c.opening; {
	case d > 0 && total == 1 && c.busy != nil:
		c.busy()
	case d < 0 && total == 0 && c.idle != nil:
		c.idle()
	}
}

// Opening notes that a subscription is being opened on the connection
// of ctx (see WithConn), until done is called: by then Subscribe has
// admitted it, and it counts as admitted, or refused it.
func Opening(ctx context.Context) (done func()) {
	c := connFrom(ctx)
	if c == nil {
		return func() {}
	}
	c.mu.Lock()
	c.opening++
	c.changed(+1)
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.opening--
			c.changed(-1)
			c.mu.Unlock()
		})
	}
}

type connKey struct{}

// WithConn returns ctx for the operations of connection c.
func WithConn(ctx context.Context, c *Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

func connFrom(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}

type tokenKey struct{}

// WithToken returns ctx for an operation made with this bearer token: a
// subscription watches its expiry.
func WithToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// Token is the bearer token of the operation ctx runs.
func Token(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}
