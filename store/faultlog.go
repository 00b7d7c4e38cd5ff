package store

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// faultLog writes a line when the database starts refusing the facade
// for a reason an operator must mend (access denied, schema wrong), and
// one when that ends: never a line per failed request.
//
// Such a fault is often partial, a grant missing on one table, so the
// outage log's rule (any success ends it) would write two lines a
// request. A condition is keyed by the driver's message instead, and
// ends once every statement that met it has succeeded since, or the
// readiness check, which reads every table, has.
type faultLog struct {
	log    *slog.Logger
	engine string

	open    atomic.Int32  // conditions under way, read on every success
	changes atomic.Uint64 // conditions met and mended

	mu         sync.Mutex
	conditions map[string]*condition
}

// condition is one configuration fault under way.
type condition struct {
	fault    Fault
	since    time.Time       // when the first statement that met it started
	failures int             // statements that met it
	pending  map[string]bool // the statements that met it and have not succeeded since
}

// maxConditions bounds the conditions tracked, whatever messages a
// driver writes; beyond it a fault is still answered, just not logged.
const maxConditions = 32

func newFaultLog(log *slog.Logger, engine string) *faultLog {
	return &faultLog{log: log, engine: engine, conditions: map[string]*condition{}}
}

// failed records that the statement what, started at start, met the
// configuration fault err.
func (f *faultLog) failed(start time.Time, what string, err error) {
	var fe *FaultError
	if !errors.As(err, &fe) {
		return
	}
	key := fe.Err.Error()
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.conditions[key]
	if !ok {
		if len(f.conditions) >= maxConditions {
			return
		}
		c = &condition{fault: fe.Fault, since: start, pending: map[string]bool{}}
		f.conditions[key] = c
		f.open.Add(1)
		f.changes.Add(1)
		f.log.Error("database misconfigured: requests fail until it is mended", "db", f.engine, "cause", fe.Fault, "hint", fe.Hint, "statement", what, "err", fe.Err)
	}
	c.failures++
	c.pending[what] = true
}

// succeeded records that the statement what, started at start,
// succeeded; every statement when all is true (the readiness check). A
// statement that started before a condition did brings old news.
func (f *faultLog) succeeded(start time.Time, what string, all bool) {
	if f.open.Load() == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for key, c := range f.conditions {
		if start.Before(c.since) {
			continue
		}
		delete(c.pending, what)
		if len(c.pending) > 0 && !all {
			continue
		}
		delete(f.conditions, key)
		f.open.Add(-1)
		f.changes.Add(1)
		f.log.Info("database configuration mended", "db", f.engine, "cause", c.fault, "after", time.Since(c.since).Round(time.Millisecond), "failures", c.failures)
	}
}
