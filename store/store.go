// Package store reads the legacy platform's database with sqlx. It owns
// every SQL statement of the facade; nothing else speaks SQL.
//
// The database is the platform's, not ours: the store only reads, and runs
// on exactly the tables of legacydb/sql/schema.sql, on SQLite (the embedded
// default) or MySQL/MariaDB (production). Both take the same SQL, but for
// where MySQL's text collations would answer differently: the tie order
// of chats (see bytewise) and credentials, which must match exactly (see
// StaffByToken). IDs otherwise compare as the platform's own columns do.
package store

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	"opfacade/datetime"
)

// Options tune how the store opens and reads the database.
type Options struct {
	// Zone is the platform's time zone: stored DATETIMEs are wall-clock
	// times in it, with no zone of their own.
	Zone *time.Location
	// Now is the clock used for token expiry; time.Now when nil.
	Now func() time.Time
	// MaxOpenConns sizes the pool; 0 picks the engine's default (MySQL:
	// 32; SQLite: twice the CPUs, at least 4).
	MaxOpenConns int
	// MaxIdleConns caps the idle connections kept; 0 keeps as many as may
	// be open.
	MaxIdleConns int
	// ConnMaxLifetime recycles connections; 0 picks the engine's default
	// (MySQL: 5 minutes; SQLite: never).
	ConnMaxLifetime time.Duration
	// Log receives the database's outages (see outageLog) and what the
	// MySQL driver reports; nil discards them.
	Log *slog.Logger
	// OutageSummary is how often an outage's failures are summed up in
	// the log while it lasts; 0 picks 10 seconds.
	OutageSummary time.Duration
	// Observer watches each statement (metrics, traces); nil for none.
	Observer Observer
	// Batches watches each batched lookup (metrics); nil for none.
	Batches BatchObserver
}

// Pool is the connection pool a store runs with: Options with the
// engine's defaults filled in.
type Pool struct {
	MaxOpen         int
	MaxIdle         int
	ConnMaxLifetime time.Duration // 0: connections are never recycled
}

// pool fills in the engine's defaults for what opt leaves at 0. Idle
// connections never outnumber open ones (database/sql caps them too).
func (opt Options) pool(def Pool) Pool {
	p := def
	if opt.MaxOpenConns > 0 {
		p.MaxOpen = opt.MaxOpenConns
	}
	p.MaxIdle = p.MaxOpen
	if opt.MaxIdleConns > 0 {
		p.MaxIdle = min(opt.MaxIdleConns, p.MaxOpen)
	}
	if opt.ConnMaxLifetime > 0 {
		p.ConnMaxLifetime = opt.ConnMaxLifetime
	}
	return p
}

// Store reads the platform's database.
type Store struct {
	engine string // "sqlite" or "mysql"
	pool   Pool
	zone   *time.Location
	now    func() time.Time
	outage *outageLog
	faults *faultLog

	statements atomic.Int64 // statements executed, for tests and benchmarks

	// swap is held shared by each statement and exclusively while a
	// SQLite store replaces its handle, so no statement ever runs on a
	// file the store has stopped reading.
	swap sync.RWMutex
	h    *handle
	file *sqliteFile // SQLite only: the file the handle reads

	observer Observer      // nil for none
	batches  BatchObserver // nil for none
	seed     maphash.Seed  // of the fingerprints (see Fingerprints)

	texts       textCache[chatsShape] // the chat lists' statements, by shape
	gradesTexts textCache[int]        // the grades statements, by their number of ids
	scratch     sync.Pool             // of *chatRows, for ChatsByStaff
}

func newStore(db *sqlx.DB, engine string, opt Options) *Store {
	s := &Store{h: newHandle(db, 1), engine: engine, zone: opt.Zone, now: opt.Now, observer: opt.Observer, batches: opt.Batches, seed: maphash.MakeSeed()}
	if s.zone == nil {
		s.zone = time.UTC
	}
	if s.now == nil {
		s.now = time.Now
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.outage = newOutageLog(log, engine, opt.OutageSummary)
	s.faults = newFaultLog(log, engine)
	return s
}

// usePool sizes the store's connection pool.
func (s *Store) usePool(p Pool) {
	s.pool = p
	s.h.db.SetMaxOpenConns(p.MaxOpen)
	s.h.db.SetMaxIdleConns(p.MaxIdle)
	s.h.db.SetConnMaxLifetime(p.ConnMaxLifetime)
}

// Open opens the database named by dsn: a MySQL DSN with the mysql://
// prefix, or else a SQLite file path or file: URI.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if isMySQL(dsn) {
		return openMySQL(ctx, dsn, opt)
	}
	return openSQLite(ctx, dsn, opt)
}

// Engine names the database engine: "sqlite" or "mysql".
func (s *Store) Engine() string { return s.engine }

// Pool is the connection pool the store runs with.
func (s *Store) Pool() Pool { return s.pool }

// DB is the underlying pool, for setting up demo and test databases.
func (s *Store) DB() *sqlx.DB {
	s.swap.RLock()
	defer s.swap.RUnlock()
	return s.h.db
}

// CachedStatements is the number of prepared statements the store keeps.
func (s *Store) CachedStatements() int {
	s.swap.RLock()
	defer s.swap.RUnlock()
	return s.h.cached()
}

// Statements is the number of SQL statements the store has executed.
func (s *Store) Statements() int64 { return s.statements.Load() }

// count counts a statement: in the process's total, and in the request's
// when its context counts them (see CountStatements).
func (s *Store) count(ctx context.Context) {
	s.statements.Add(1)
	if n, ok := ctx.Value(countKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

type countKey struct{}

// CountStatements returns ctx in which every statement the store runs
// adds one to n as well as to Statements: a request's own count, which
// the access log reports. n is the caller's, so that it may live in a
// record the caller allocates anyway.
func CountStatements(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, countKey{}, n)
}

// use runs fn on the store's current handle. A SQLite store first checks
// that its file is still the one it opened (see sqliteFile): before a
// pinned request's first statement (see Pin) when the last check is
// FileCheckInterval old or statements are failing, and before every
// statement outside a request. A request's later statements run on the
// handle its first ran on, or fail: when the file is replaced, the
// handle's pooled connections go on reading the old one until then, and
// a connection opened in between is refused (see connector), so that no
// request reads from both.
func (s *Store) use(ctx context.Context, fn func(h *handle) error) error {
	p, _ := ctx.Value(pinKey{}).(*pin)
	if s.file != nil && (p == nil || p.gen.Load() == 0) && s.fileCheckDue(p == nil) {
		now := time.Now()
		id, err := identify(s.file.path)
		if err != nil {
			return errFileGone{err}
		}
		s.swap.RLock()
		if id != s.file.id {
			s.swap.RUnlock()
			s.reopen(id)
			s.swap.RLock()
		}
		s.file.checked(now)
	} else {
		s.swap.RLock()
	}
	defer s.swap.RUnlock()
	if p != nil && !p.gen.CompareAndSwap(0, s.h.gen) && p.gen.Load() != s.h.gen {
		return errFileGone{errReplaced}
	}
	return fn(s.h)
}

// fileCheckDue says whether a statement checks the SQLite file first:
// always outside a request and during an outage, so that the file's
// return ends it at once; otherwise once FileCheckInterval has passed.
func (s *Store) fileCheckDue(outsideRequest bool) bool {
	return outsideRequest || s.outage.isDown.Load() || s.file.due(time.Now())
}

type pinKey struct{}

// pin remembers the handle a request's first statement ran on.
type pin struct{ gen atomic.Uint64 }

// Pin returns ctx in which every statement of the store reads the same
// database: when a SQLite file is replaced between two statements of one
// request, the later ones fail as unavailable instead of answering from
// the new file beside what the earlier ones read from the old.
func Pin(ctx context.Context) context.Context {
	return context.WithValue(ctx, pinKey{}, &pin{})
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	start := time.Now()
	s.count(ctx)
	err := s.use(ctx, func(h *handle) error { return h.db.PingContext(ctx) })
	return s.outcome(ctx, start, err, "database ping")
}

// ready reads a row of each table the facade serves from: the database
// answers, and it is the platform's.
const ready = `SELECT 1 FROM (SELECT staff_id FROM op_staff LIMIT 1) s
UNION ALL SELECT 1 FROM (SELECT token FROM op_token LIMIT 1) t
UNION ALL SELECT 1 FROM (SELECT chat_id FROM op_chat LIMIT 1) c
UNION ALL SELECT 1 FROM (SELECT user_id FROM app_user LIMIT 1) u
UNION ALL SELECT 1 FROM (SELECT user_id FROM user_order LIMIT 1) o
UNION ALL SELECT 1 FROM (SELECT user_id FROM service_order LIMIT 1) so
UNION ALL SELECT 1 FROM (SELECT client_id FROM api_client LIMIT 1) a`

// readiness names Ready's statement, which reads every legacy table.
const readiness = "readiness"

// Ready checks that the database answers and holds the legacy tables,
// readable: what /readyz reports (Explain says why not). Its success
// ends every configuration fault under way: it reads every table.
func (s *Store) Ready(ctx context.Context) error {
	return s.read(ctx, readiness, ready, nil, func(rows *sqlx.Rows) error {
		for rows.Next() {
		}
		return nil
	})
}

// StateChanges counts the changes of the database's state the store has
// seen in its statements: outages started and ended, configuration
// faults met and mended. A readiness answer read before the count moved
// is out of date.
func (s *Store) StateChanges() uint64 {
	return s.outage.changes.Load() + s.faults.changes.Load()
}

// Close closes the prepared statements and the pool.
func (s *Store) Close() error {
	s.swap.Lock()
	defer s.swap.Unlock()
	return s.h.close()
}

// bytewise returns a text expression as ORDER BY must see it to compare
// bytes, as SQLite's default BINARY collation compares text. MySQL's text
// collations may fold case, accents and trailing spaces (the common
// utf8mb4_general_ci folds all three); its binary strings do not. CAST
// works whatever the column's character set, where COLLATE utf8mb4_bin
// would fail on a utf8mb3 or latin1 column.
func (s *Store) bytewise(expr string) string {
	if s.engine == "mysql" {
		return "CAST(" + expr + " AS BINARY)"
	}
	return expr
}

// localTime reads a stored DATETIME as the wall-clock time it is in the
// platform's zone. Both drivers hand it over as that wall clock in UTC;
// converting with In would shift it by the zone's offset.
func (s *Store) localTime(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), s.zone)
}

// readDateTime reads a stored DATETIME, read as text, as the wall-clock
// time it is in the platform's zone. Both engines write the platform's
// "2006-01-02 15:04:05" (a fraction may follow); anything else is read with
// the SQLite driver's layouts, as a DATETIME column would have been.
func (s *Store) readDateTime(v string) (time.Time, error) {
	if t, err := datetime.Parse(v, s.zone); err == nil {
		return t, nil
	}
	v = strings.TrimSuffix(v, "Z")
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return s.localTime(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable DATETIME %q", v)
}
