package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"opfacade/domain"
)

// outageLog writes what an operator needs to know of the database being
// unavailable, in three kinds of line: one when an outage starts, with
// its first cause; a summary each interval while it lasts, with the
// failures counted since the last one; one when it ends. A failed
// statement is never a line of its own: an outage under load fails tens
// of thousands a second.
type outageLog struct {
	log      *slog.Logger
	engine   string
	interval time.Duration
	now      func() time.Time

	isDown  atomic.Bool   // read on every statement; the rest under mu
	changes atomic.Uint64 // outages started and ended

	mu        sync.Mutex
	since     time.Time // when the outage started
	summed    time.Time // when it was last summed up
	failures  int       // failed statements in the outage
	unsummed  int       // failures since the last summary
	lastCause error
	// news is when the statement that last started or ended an outage
	// started. A statement that started earlier brings older news: a
	// query stuck behind a lock fails long after its deadline, when
	// newer statements have already found the database back.
	news time.Time
}

// defaultOutageSummary is how often an outage is summed up in the log.
const defaultOutageSummary = 10 * time.Second

func newOutageLog(log *slog.Logger, engine string, interval time.Duration) *outageLog {
	if interval <= 0 {
		interval = defaultOutageSummary
	}
	return &outageLog{log: log, engine: engine, interval: interval, now: time.Now}
}

// down records a statement, started at start, that failed because the
// database is unavailable.
func (o *outageLog) down(start time.Time, cause error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if start.Before(o.news) {
		return
	}
	now := o.now()
	o.failures++
	o.unsummed++
	o.lastCause = cause
	if !o.isDown.Load() {
		o.isDown.Store(true)
		o.changes.Add(1)
		o.news = start
		o.since, o.summed, o.failures, o.unsummed = now, now, 1, 0
		o.log.Error("database unavailable: requests answer SERVICE_UNAVAILABLE (legacy 503) until it is back", "db", o.engine, "cause", FaultOf(cause), "err", cause)
		return
	}
	if now.Sub(o.summed) >= o.interval {
		o.log.Warn("database still unavailable", "db", o.engine, "cause", FaultOf(o.lastCause), "for", now.Sub(o.since).Round(time.Millisecond),
			"failures", o.unsummed, "interval", now.Sub(o.summed).Round(time.Millisecond), "err", o.lastCause)
		o.summed, o.unsummed = now, 0
	}
}

// up records a statement, started at start, that succeeded, ending an
// outage if one was under way. It costs an atomic load when none is.
func (o *outageLog) up(start time.Time) {
	if !o.isDown.Load() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.isDown.Load() || start.Before(o.news) {
		return
	}
	o.isDown.Store(false)
	o.changes.Add(1)
	o.news = start
	o.log.Info("database available again", "db", o.engine, "after", o.now().Sub(o.since).Round(time.Millisecond), "failures", o.failures)
}

// isOutage reports whether err, a classified failure of a statement run
// for ctx, says the database is unavailable. A caller that went away
// (context.Canceled) says nothing about the database.
func isOutage(ctx context.Context, err error) bool {
	if domain.Code(err) != domain.EUNAVAILABLE {
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(ctx.Err(), context.Canceled)
}
