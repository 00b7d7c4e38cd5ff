package store

import (
	"context"
	"database/sql/driver"
	"fmt"
)

// mysqlConnector opens the MySQL driver's connections as mysqlConns (see
// detached).
type mysqlConnector struct{ driver.Connector }

func (c mysqlConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	mc, ok := conn.(mysqlDriverConn)
	if !ok {
		// Unwrapped, it would be handed detached contexts and never cut
		// a statement off: refuse rather than serve so.
		_ = conn.Close()
		return nil, fmt.Errorf("mysql: the driver's connection (%T) lacks the methods the store relies on", conn)
	}
	return mysqlConn{mc}, nil
}

// mysqlDriverConn is what the MySQL driver's connections are: the
// interfaces database/sql asks a connection for, each of which mysqlConn
// passes on as it is.
type mysqlDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.NamedValueChecker
	driver.SessionResetter
	driver.Validator
}

// mysqlConn is a MySQL driver connection that gives the driver the
// context a detached one holds. Every other method is the driver's.
type mysqlConn struct{ mysqlDriverConn }

func (c mysqlConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c mysqlConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	st, err := c.mysqlDriverConn.PrepareContext(ctx, query)
	if s, ok := st.(mysqlDriverStmt); ok {
		return mysqlStmt{s}, err
	}
	if st != nil {
		_ = st.Close()
	}
	if err == nil {
		err = fmt.Errorf("mysql: the driver's statement (%T) lacks the methods the store relies on", st)
	}
	return nil, err
}

func (c mysqlConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return c.mysqlDriverConn.QueryContext(ctx, query, args)
}

func (c mysqlConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return c.mysqlDriverConn.ExecContext(ctx, query, args)
}

func (c mysqlConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return c.mysqlDriverConn.BeginTx(ctx, opts)
}

// mysqlDriverStmt is what the MySQL driver's statements are.
type mysqlDriverStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
	//lint:ignore SA1019 the driver's statements implement it, and database/sql still asks for it
	driver.ColumnConverter
	driver.NamedValueChecker
}

// mysqlStmt is a MySQL driver statement that gives the driver the
// context a detached one holds.
type mysqlStmt struct{ mysqlDriverStmt }

func (s mysqlStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return s.mysqlDriverStmt.QueryContext(ctx, args)
}

func (s mysqlStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	return s.mysqlDriverStmt.ExecContext(ctx, args)
}
