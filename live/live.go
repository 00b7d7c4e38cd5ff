// Package live pushes what changed to the subscribers of an OP's data,
// the way Hasura's live queries do it: no broker and no triggers, one
// poller per replica over a database the facade may only read.
//
// Every interval, while anyone subscribes, the poller runs one cheap
// statement for all subscribed OPs (a few when they watch different chat
// statuses, see store.Fingerprints): a fingerprint per OP over the OP's
// row and their watched chats. Subscribers of the same OP share it. Only
// the subscribers whose OP's fingerprint changed are signalled, and only
// they run their selection again, through the same resolvers as queries:
// those that run the same operation (document, variables) run it once
// and share its answer, as Hasura multiplexes them (see Stream.Answer).
// Signals coalesce: a subscriber that has not taken the last one gets one
// more, never a queue, so a slow subscriber costs no memory; its
// transport closes a connection that does not take a write within
// SendTimeout.
//
// Replicas poll on their own: each sees every change, whoever wrote it.
// The poller stops when the last subscriber leaves.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"opfacade/domain"
)

// Source is what the poller reads: the store.
type Source interface {
	Fingerprints(ctx context.Context, watches []domain.Watch) (map[string]domain.Fingerprint, error)
	SessionByToken(ctx context.Context, token string) (domain.Session, error)
}

// Config tunes the hub. Zero fields take Defaults' values.
type Config struct {
	// Interval is how often the poller looks for changes.
	Interval time.Duration
	// MaxPerToken, MaxPerConnection and MaxPerReplica bound the live
	// subscriptions of one bearer token, of one connection (a WebSocket),
	// and of the replica.
	MaxPerToken, MaxPerConnection, MaxPerReplica int
	// IdleTimeout closes a connection that has had no subscription for
	// this long, or that has not said connection_init.
	IdleTimeout time.Duration
	// KeepAlive is how often a connection is pinged (WebSocket) or sent a
	// comment (SSE); a WebSocket that does not answer a ping within two of
	// these is closed.
	KeepAlive time.Duration
	// SendTimeout closes a connection that has not taken a write (an
	// update, a ping) within this long.
	SendTimeout time.Duration
	// Timeout bounds each tick's statement, and each update's work.
	Timeout time.Duration
	// Now is the clock for token expiry; time.Now when nil.
	Now func() time.Time
	// Log receives what the poller logs; nil discards it.
	Log *slog.Logger
}

// Defaults are the hub's settings when none are given: a change arrives
// within about a second; a console opens a handful of subscriptions, a
// browser a few more; 10,000 on a replica, which the benchmark measures.
var Defaults = Config{
	Interval:         time.Second,
	MaxPerToken:      20,
	MaxPerConnection: 50,
	MaxPerReplica:    10_000,
	IdleTimeout:      60 * time.Second,
	KeepAlive:        15 * time.Second,
	SendTimeout:      10 * time.Second,
	Timeout:          5 * time.Second,
}

// WithDefaults is c with Defaults in place of its zero fields.
func (c Config) WithDefaults() Config {
	d := Defaults
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&c.MaxPerToken, d.MaxPerToken)
	set(&c.MaxPerConnection, d.MaxPerConnection)
	set(&c.MaxPerReplica, d.MaxPerReplica)
	setD(&c.Interval, d.Interval)
	setD(&c.IdleTimeout, d.IdleTimeout)
	setD(&c.KeepAlive, d.KeepAlive)
	setD(&c.SendTimeout, d.SendTimeout)
	setD(&c.Timeout, d.Timeout)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Hub keeps the replica's live subscriptions and polls for their changes.
type Hub struct {
	src Source
	cfg Config

	mu      sync.Mutex
	ops     map[string]*watched // by staff id
	tokens  map[string]int      // subscriptions by bearer token
	total   int
	polling bool
	closed  bool
	stop    chan struct{}         // closed by Close
	conns   map[*tracked]struct{} // see Track
	gone    chan struct{}         // closed once closed and conns is empty

	ticks atomic.Int64
}

// watched is an OP someone subscribes to.
type watched struct {
	subs map[*Sub]struct{}
	// filter is every status the subscribers watch (union), read again
	// only when they changed (stale).
	filter domain.ChatFilter
	stale  bool
	// fp is the OP's fingerprint as the last tick read it, when known.
	fp    uint64
	known bool
}

// New returns a hub over src; it polls only while someone subscribes.
func New(src Source, cfg Config) *Hub {
	return &Hub{src: src, cfg: cfg.WithDefaults(), ops: map[string]*watched{}, tokens: map[string]int{},
		stop: make(chan struct{}), conns: map[*tracked]struct{}{}, gone: make(chan struct{})}
}

// Config is the hub's configuration, defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// Ticks counts the poller's ticks, for tests and benchmarks.
func (h *Hub) Ticks() int64 { return h.ticks.Load() }

// Count is the number of live subscriptions.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// Polling reports whether the poller runs.
func (h *Hub) Polling() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.polling
}

// Close refuses new subscriptions and connections, tells each
// connection tracked to go away (see Track), then ends every subscription
// left (ErrClosed): the server is shutting down, and clients reconnect to
// another replica.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.stop)
	h.checkGoneLocked()
	away := make([]func(), 0, len(h.conns))
	for c := range h.conns {
		away = append(away, c.goAway)
	}
	h.mu.Unlock()
	// First, so that a WebSocket's subscriptions end with it, rather than
	// each with an answer saying so.
	for _, f := range away {
		f()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.ops {
		for s := range w.subs {
			s.endLocked(ErrClosed)
		}
	}
}

// ErrClosed ends the subscriptions of a replica shutting down.
var ErrClosed = domain.Errorf(domain.EUNAVAILABLE, "the server is shutting down: subscribe again")

// errExpired ends a subscription whose token expired.
var errExpired = domain.Wrap(domain.EUNAUTHENTICATED, errors.New("token expired"), "the bearer token expired: the subscription has ended; sign in again and subscribe anew")
