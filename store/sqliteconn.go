package store

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/mattn/go-sqlite3"
)

// A SQLite statement's context reaches the driver, not database/sql.
// database/sql starts a goroutine for every statement whose context can
// end, to close its rows when it does; starting that goroutine, waking
// another thread to run it, and ending it cost more than a small
// statement. The SQLite driver watches the context itself, without a
// goroutine (sqlite3_interrupt, from context.AfterFunc), and the store
// closes every statement's rows itself, so database/sql's watch guards
// nothing here. Store.read hands database/sql the statement's context
// detached, and the pool's connections (sqliteConn) hand the driver the
// context within.

// detached is a context that never ends, holding one that may: what
// database/sql sees of a SQLite statement's context.
type detached struct{ ctx context.Context }

func detach(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx // nothing to watch
	}
	return &detached{ctx}
}

func (*detached) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*detached) Done() <-chan struct{}       { return nil }
func (*detached) Err() error                  { return nil }
func (d *detached) Value(key any) any         { return d.ctx.Value(key) }

// attached is the context ctx holds when detached, else ctx; with its
// error when it has ended, for a statement that would start after it.
func attached(ctx context.Context) (context.Context, error) {
	if d, ok := ctx.(*detached); ok {
		ctx = d.ctx
	}
	return ctx, ctx.Err()
}

// sqliteConn is a SQLite driver connection that gives the driver the
// context a detached one holds. Every other method is the driver's.
type sqliteConn struct{ *sqlite3.SQLiteConn }

func (c sqliteConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	st, err := c.SQLiteConn.PrepareContext(ctx, query)
	if s, ok := st.(*sqlite3.SQLiteStmt); ok {
		return sqliteStmt{s}, err
	}
	return st, err
}

func (c sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return c.SQLiteConn.QueryContext(ctx, query, args)
}

func (c sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return c.SQLiteConn.ExecContext(ctx, query, args)
}

func (c sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return c.SQLiteConn.BeginTx(ctx, opts)
}

// sqliteStmt is a SQLite driver statement that gives the driver the
// context a detached one holds.
type sqliteStmt struct{ *sqlite3.SQLiteStmt }

func (s sqliteStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return s.SQLiteStmt.QueryContext(ctx, args)
}

func (s sqliteStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return s.SQLiteStmt.ExecContext(ctx, args)
}
