package app

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"opfacade/store"
)

// DefaultReadyCache is how long a readiness answer is reused: load
// balancers and orchestrators probe every replica often, and each check
// reads every legacy table.
const DefaultReadyCache = time.Second

// readyTimeout bounds one readiness check; a probe waits no longer.
const readyTimeout = 2 * time.Second

// errCheckFailed is what probes sharing a check learn when it panicked
// (the probe that ran it answers the panic).
var errCheckFailed = errors.New("the readiness check failed")

// readiness answers /readyz: 200 while the database answers with the
// legacy tables, 503 with why otherwise (store.Explain: "database access
// denied: check the user and password in -db", so whoever reads a
// failing probe learns the cause without the log), and 503 "draining"
// once the server is stopping. One check runs at a time;
// probes that come meanwhile share it, and its answer stands for a
// while (Config.ReadyCache), unless a request finds the database's state
// changed before then (see stateCounter).
type readiness struct {
	b        Backend
	ttl      time.Duration
	draining <-chan struct{}

	mu       sync.Mutex
	last     *readyCheck // the last check completed; nil before the first
	inflight *readyCheck // the check under way; nil when none is
}

// readyCheck is one readiness check: done is closed once err is set.
type readyCheck struct {
	done    chan struct{}
	err     error
	at      time.Time
	changes uint64 // the backend's state changes when it started
}

// stateCounter is a Backend that counts the changes it has seen in the
// database's state (store.Store.StateChanges): an answer from before the
// count moved is out of date, however fresh.
type stateCounter interface{ StateChanges() uint64 }

func newReadiness(b Backend, ttl time.Duration, draining <-chan struct{}) *readiness {
	if ttl <= 0 {
		ttl = DefaultReadyCache
	}
	return &readiness{b: b, ttl: ttl, draining: draining}
}

// ServeHTTP answers a probe. The store logs each outage and each
// configuration fault once; a probe adds no line.
func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rd.isDraining() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	if err := rd.check(r.Context()); err != nil {
		http.Error(w, store.Explain(err), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (rd *readiness) isDraining() bool {
	select {
	case <-rd.draining:
		return true
	default:
		return false
	}
}

// check returns the last answer while it stands, else waits for the
// check under way, else runs one in the caller's goroutine: no
// goroutine outlives its probe.
func (rd *readiness) check(ctx context.Context) error {
	rd.mu.Lock()
	if c := rd.last; c != nil && time.Since(c.at) < rd.ttl && c.changes == rd.changes() {
		rd.mu.Unlock()
		return c.err
	}
	if c := rd.inflight; c != nil {
		rd.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// The count before the check: a change seen while it runs, its own
	// included (an outage it starts or ends), makes its answer one not
	// to reuse, since which came last is unknown.
	c := &readyCheck{done: make(chan struct{}), err: errCheckFailed, changes: rd.changes()}
	rd.inflight = c
	rd.mu.Unlock()
	completed := false
	defer func() { rd.finish(c, completed) }()
	// The check serves every probe waiting on it: one going away does
	// not cut it short.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	defer cancel()
	c.err = rd.b.Ready(cctx)
	completed = true
	return c.err
}

// finish releases the probes waiting on c, and keeps its answer when the
// check completed (a panic's is not one to reuse).
func (rd *readiness) finish(c *readyCheck, completed bool) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.inflight = nil
	if completed {
		c.at = time.Now()
		rd.last = c
	}
	close(c.done)
}

// changes is the backend's count of state changes; 0 for a backend that
// keeps none.
func (rd *readiness) changes() uint64 {
	if sc, ok := rd.b.(stateCounter); ok {
		return sc.StateChanges()
	}
	return 0
}
