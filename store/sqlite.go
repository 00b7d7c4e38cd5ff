package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// SQLitePragmas run on every new SQLite connection. mmap serves reads from
// the kernel's page cache without a pread per page and without copying
// pages into SQLite's own cache (anonymous memory, per connection). It
// covers files up to 2 GiB, SQLite's default ceiling: a file larger than
// the mapping is read through pread beyond it, and a production-sized
// legacy database is well over the 256 MiB this once mapped.
var SQLitePragmas = []string{
	"PRAGMA mmap_size = 2147418112",
	"PRAGMA cache_size = -16000",
}

// connector opens SQLite connections with our pragmas, without registering
// a driver under a global name. Every connection of a pool must read the
// same file (see sqliteFile): a connection opened after another file was
// moved to the path is refused.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
	file   *poolFile
}

func (c connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	// Checked after opening: a file moved into place just before is seen.
	id, err := identify(c.file.path)
	if err == nil && !c.file.same(id) {
		err = errReplaced
	}
	if err != nil {
		_ = conn.Close()
		return nil, errFileGone{err}
	}
	return attachConn(conn) // see detached
}

func (c connector) Driver() driver.Driver { return c.driver }

// poolFile is the file a pool's connections read: the first one's, or
// the one the pool was opened for. Its zero id is none yet: no file has
// device and inode 0.
type poolFile struct {
	path string
	mu   sync.Mutex
	id   fileID
}

// current is the pool's file, once a connection has opened it.
func (f *poolFile) current() fileID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.id
}

// same reports whether id is the pool's file, which it becomes when the
// pool has none yet.
func (f *poolFile) same(id fileID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.id == (fileID{}) {
		f.id = id
	}
	return f.id == id
}

// SQLiteFile returns the file a -db value names, and false when the value
// names a MySQL database instead.
func SQLiteFile(dsn string) (string, bool) {
	if isMySQL(dsn) {
		return "", false
	}
	file, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return file, true
}

// SQLiteDSN turns a file path or file: URI into the DSN the store opens:
// busy timeout, WAL when the file is writable, read-only otherwise. A file
// that exists is opened without create, so one that vanishes under a
// running server is an outage (SQLITE_CANTOPEN), not a new empty
// database.
func SQLiteDSN(path string) (string, error) {
	file, _ := SQLiteFile(path)
	_, rawQuery, _ := strings.Cut(path, "?")
	if file == "" || file == ":memory:" {
		return "", errors.New("sqlite: a database file is required (each pooled :memory: connection would be its own empty database)")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("sqlite: bad DSN parameters: %w", err)
	}
	setDefault(q, "_busy_timeout", "5000")
	setDefault(q, "_txlock", "immediate")
	if q.Get("mode") != "ro" {
		if writable(file) {
			if _, err := os.Stat(file); err == nil {
				setDefault(q, "mode", "rw")
			}
			setDefault(q, "_journal_mode", "WAL")
			setDefault(q, "_synchronous", "NORMAL")
		} else {
			q.Set("mode", "ro")
		}
	}
	return "file:" + file + "?" + q.Encode(), nil
}

func setDefault(q url.Values, k, v string) {
	if q.Get(k) == "" {
		q.Set(k, v)
	}
}

// writable reports whether the file (or, when it does not exist yet, its
// directory) can be written.
func writable(file string) bool {
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err == nil {
		_ = f.Close()
		return true
	}
	return errors.Is(err, os.ErrNotExist)
}

func openSQLite(ctx context.Context, path string, opt Options) (*Store, error) {
	dsn, err := SQLiteDSN(path)
	if err != nil {
		return nil, err
	}
	if err := readySQLite(); err != nil {
		return nil, err
	}
	file, _ := SQLiteFile(path)
	pf := &poolFile{path: file}
	s := newStore(openSQLiteDB(dsn, pf), "sqlite", opt)
	s.usePool(opt.pool(Pool{MaxOpen: max(4, 2*runtime.NumCPU())}))
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	// Known only now, from the connection the ping opened: opening may
	// have created the file.
	s.file = newSQLiteFile(file, dsn, pf.current())
	return s, nil
}

// SQLiteDriver readies the process for SQLite as the store runs it (the
// C heap kept, RetainCHeap; each statement's plan kept, KeepSQLitePlans)
// and returns the driver the store opens its connections with, each new
// one running SQLitePragmas. The benchmark's baseline opens its own with
// it.
func SQLiteDriver() (*sqlite3.SQLiteDriver, error) {
	if err := readySQLite(); err != nil {
		return nil, err
	}
	return newSQLiteDriver(), nil
}

// readySQLite sets the process's settings for SQLite; setting them again
// changes nothing.
func readySQLite() error {
	RetainCHeap()
	return KeepSQLitePlans()
}

// newSQLiteDriver is a driver whose every new connection runs
// SQLitePragmas.
func newSQLiteDriver() *sqlite3.SQLiteDriver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range SQLitePragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return fmt.Errorf("sqlite: %s: %w", p, err)
			}
		}
		return nil
	}}
}

// openSQLiteDB returns a pool over dsn whose connections run our pragmas
// and read file.
func openSQLiteDB(dsn string, file *poolFile) *sqlx.DB {
	return sqlx.NewDb(sql.OpenDB(connector{dsn: dsn, driver: newSQLiteDriver(), file: file}), "sqlite3")
}

// sqliteFile is the file a SQLite store reads. Pooled connections keep
// the file they opened: after the path is deleted, made unreadable or
// replaced (a restored backup moved into place), they would go on reading
// the old file, and new connections the new one, side by side. So the
// store checks the path (see Store.use): a missing or unreadable file is
// an outage; another file at the path replaces every connection.
type sqliteFile struct {
	path string
	dsn  string
	id   fileID // the file the current handle reads; guarded by Store.swap

	opened time.Time    // the origin of last, on the monotonic clock
	last   atomic.Int64 // when the path last held id, as nanoseconds since opened
}

// FileCheckInterval is how long a serving SQLite store goes without
// checking its file's path while statements succeed. Checking costs two
// system calls, about 5% of a one-chat request's CPU; an operator's move,
// deletion or chmod is seen within this interval instead of at the very
// next request.
const FileCheckInterval = 100 * time.Millisecond

func newSQLiteFile(path, dsn string, id fileID) *sqliteFile {
	return &sqliteFile{path: path, dsn: dsn, id: id, opened: time.Now()}
}

// due says whether FileCheckInterval has passed since the last check.
func (f *sqliteFile) due(now time.Time) bool {
	return now.Sub(f.opened)-time.Duration(f.last.Load()) >= FileCheckInterval
}

// checked records a check, started at now, that found the path holding
// the file the store reads.
func (f *sqliteFile) checked(now time.Time) {
	f.last.Store(int64(now.Sub(f.opened)))
}

// fileID tells files apart: a file moved into place has another inode.
type fileID struct{ dev, ino uint64 }

// identify returns the identity of the file at path, or an error when
// there is none the server can read. Read permission is judged by the
// mode as well as by access(2): a file chmod 000 is meant to be
// unreadable, even to a server that runs as root.
func identify(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&0o444 == 0 {
		return fileID{}, &os.PathError{Op: "read", Path: path, Err: os.ErrPermission}
	}
	if err := syscall.Access(path, rOK); err != nil {
		return fileID{}, &os.PathError{Op: "access", Path: path, Err: err}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, nil
}

const rOK = 0x4 // access(2)'s R_OK

// errReplaced says a request's statements would read two files.
var errReplaced = errors.New("the file was replaced while the request ran")

// errFileGone wraps what identify found, so classify sees an outage.
type errFileGone struct{ err error }

func (e errFileGone) Error() string {
	return "sqlite: the database file cannot be read: " + e.err.Error()
}
func (e errFileGone) Unwrap() error { return e.err }

// reopen replaces the handle with one over the file now at the path,
// once every statement on the old one has ended.
func (s *Store) reopen(id fileID) {
	s.swap.Lock()
	defer s.swap.Unlock()
	if id == s.file.id {
		return // another statement reopened it first
	}
	if err := s.h.close(); err != nil {
		s.outage.log.Warn("closing the replaced database file", "file", s.file.path, "err", err)
	}
	s.h = newHandle(openSQLiteDB(s.file.dsn, &poolFile{path: s.file.path, id: id}), s.h.gen+1)
	s.usePool(s.pool)
	s.file.id = id
	s.outage.log.Warn("the database file was replaced; reading the new one", "file", s.file.path)
}
