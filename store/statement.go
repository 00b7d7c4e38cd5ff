package store

import (
	"context"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// maxCachedStatements bounds the prepared-statement cache. Every statement
// text comes from a small set (IN lists are deduplicated, padded to powers
// of two and cut into chunks; see inList), so the cache holds them all;
// the bound guards against a text that slipped through, which then runs
// unprepared instead of leaving a statement open.
const maxCachedStatements = 256

// handle is one open connection pool over the database and the statements
// prepared on it. A SQLite store replaces its handle when the file it
// reads is replaced (see sqliteFile).
type handle struct {
	db  *sqlx.DB
	gen uint64 // 1 for the store's first handle, then one more for each

	mu    sync.Mutex
	stmts map[string]*sqlx.Stmt
}

func newHandle(db *sqlx.DB, gen uint64) *handle {
	return &handle{db: db, gen: gen, stmts: map[string]*sqlx.Stmt{}}
}

// query runs query with args through its cached prepared statement. When
// the cache is full, the query runs as a one-off statement that the driver
// closes with its rows: nothing prepared outlives its use uncached.
func (h *handle) query(ctx context.Context, query string, args []any) (*sqlx.Rows, error) {
	st, err := h.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return h.db.QueryxContext(ctx, query, args...)
	}
	return st.QueryxContext(ctx, args...)
}

// prepared returns the cached statement for query, preparing it when
// there is room; nil when the cache is full.
func (h *handle) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	h.mu.Lock()
	st, ok := h.stmts[query]
	full := len(h.stmts) >= maxCachedStatements
	h.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := h.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev, ok := h.stmts[query]; ok {
		_ = st.Close()
		return prev, nil
	}
	if len(h.stmts) >= maxCachedStatements {
		_ = st.Close()
		return nil, nil
	}
	h.stmts[query] = st
	return st, nil
}

// textCache keeps statement texts built once per shape: a request's
// statement is looked up rather than formatted. Shapes are few (see
// chatsShape; IN lists are padded to one of eleven powers of two), so it
// needs no bound.
type textCache[K comparable] struct {
	mu sync.RWMutex
	m  map[K]string
}

func (c *textCache[K]) get(k K, build func(K) string) string {
	c.mu.RLock()
	t, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return t
	}
	t = build(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[K]string{}
	}
	c.m[k] = t
	return t
}

// cached is the number of statements the handle keeps prepared.
func (h *handle) cached() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.stmts)
}

// close closes the prepared statements and the pool.
func (h *handle) close() error {
	h.mu.Lock()
	for q, st := range h.stmts {
		_ = st.Close()
		delete(h.stmts, q)
	}
	h.mu.Unlock()
	return h.db.Close()
}

// read runs query with args and hands its rows to scan: the one way the
// store runs a statement. It counts the statement, classifies a failure
// as what names (see classify), and tells the outage log how the database
// answered.
func (s *Store) read(ctx context.Context, what, query string, args []any, scan func(*sqlx.Rows) error) error {
	start := time.Now()
	if s.observer != nil {
		ctx = s.observer.StatementStarts(ctx, what)
	}
	err := s.use(ctx, func(h *handle) error {
		s.count(ctx)
		rows, err := h.query(detach(ctx), query, args) // see detached
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := scan(rows); err != nil {
			return err
		}
		return rows.Err()
	})
	took := time.Since(start)
	err = s.outcome(ctx, start, err, what)
	if s.observer != nil {
		s.observer.StatementEnds(ctx, what, took, err)
	}
	return err
}

// outcome classifies err, the end of a statement started at start, and
// reports it to the outage log, or to the fault log when the
// configuration is at fault: such a fault is no outage to wait out, and
// may fail one table's statements while the others succeed.
func (s *Store) outcome(ctx context.Context, start time.Time, err error, what string) error {
	if err == nil {
		s.outage.up(start)
		s.faults.succeeded(start, what, what == readiness) // it read every table
		return nil
	}
	err = s.classify(err, what)
	switch {
	case FaultOf(err).Configuration():
		s.faults.failed(start, what, err)
	case isOutage(ctx, err):
		s.outage.down(start, err)
	}
	return err
}

// selectRows runs query and scans every row into dest, a pointer to a
// slice of structs with db tags.
func (s *Store) selectRows(ctx context.Context, what string, dest any, query string, args ...any) error {
	return s.read(ctx, what, query, args, func(rows *sqlx.Rows) error {
		return sqlx.StructScan(rows, dest)
	})
}
