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

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// sqlitePragmas run on every new SQLite connection. mmap serves reads from
// the kernel's page cache without a pread per page and without copying
// pages into SQLite's own cache (anonymous memory, per connection). It
// covers files up to 2 GiB, SQLite's default ceiling: a file larger than
// the mapping is read through pread beyond it, and a production-sized
// legacy database is well over the 256 MiB this once mapped.
var sqlitePragmas = []string{
	"PRAGMA mmap_size = 2147418112",
	"PRAGMA cache_size = -16000",
}

// connector opens SQLite connections with our pragmas, without registering
// a driver under a global name.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.driver }

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
	drv := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range sqlitePragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return fmt.Errorf("sqlite: %s: %w", p, err)
			}
		}
		return nil
	}}
	db := sqlx.NewDb(sql.OpenDB(connector{dsn: dsn, driver: drv}), "sqlite3")
	s := newStore(db, "sqlite", opt)
	s.usePool(opt.pool(Pool{MaxOpen: max(4, 2*runtime.NumCPU())}))
	if err := s.Ping(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// isSQLiteUnavailable reports errors that mean "try again later": the
// file is locked or busy, or cannot be opened or read, or a statement was
// interrupted because its request ran out of time.
func isSQLiteUnavailable(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrInterrupt, sqlite3.ErrCantOpen, sqlite3.ErrIoErr, sqlite3.ErrPerm, sqlite3.ErrAuth, sqlite3.ErrNotADB, sqlite3.ErrProtocol:
		return true
	}
	return false
}
