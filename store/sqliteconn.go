package store

import (
	"context"
	"database/sql/driver"

	"github.com/mattn/go-sqlite3"
)

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
