package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"
)

// A statement's context reaches the driver, not database/sql. database/sql
// starts a goroutine for every statement whose context can end, to close
// its rows when it does; starting that goroutine, waking another thread
// to run it, and ending it cost more than a small statement. Both drivers
// watch the context themselves: SQLite's interrupts the statement
// (sqlite3_interrupt, from context.AfterFunc), MySQL's closes the
// connection under it (its watcher, one a connection, not one a
// statement). And the store closes every statement's rows itself. So
// database/sql's watch guards nothing: Store.read hands database/sql the
// statement's context detached, and the pool's connections (see
// attachConn) hand the driver the context within.
//
// What database/sql no longer watches is a wait for a pool connection:
// it lasts until a connection is free, which the statements holding them
// are held to by their own contexts, and a statement whose context ended
// meanwhile does not start.

// detached is a context that never ends, holding one that may: what
// database/sql sees of a statement's context.
type detached struct{ end ending }

func detach(ctx context.Context) context.Context {
	done := ctx.Done()
	if done == nil {
		return ctx // nothing to watch
	}
	return &detached{ending{ctx, done}}
}

func (*detached) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*detached) Done() <-chan struct{}       { return nil }
func (*detached) Err() error                  { return nil }
func (d *detached) Value(key any) any         { return d.end.ctx.Value(key) }

// ending is what the driver sees of a detached statement's context: when
// it ends and why. The SQLite driver asks Err before and after every row;
// asked of a request's context, Err walks every layer the request, gqlgen
// and the resolvers wrapped around it, a dozen or more, while ending
// answers from the channel it read once. Values (context.AfterFunc looks
// for the cancelable context beneath) come from the context itself.
type ending struct {
	ctx  context.Context
	done <-chan struct{}
}

func (e *ending) Deadline() (time.Time, bool) { return e.ctx.Deadline() }
func (e *ending) Done() <-chan struct{}       { return e.done }
func (e *ending) Value(key any) any           { return e.ctx.Value(key) }

func (e *ending) Err() error {
	select {
	case <-e.done:
		return e.ctx.Err()
	default:
		return nil
	}
}

// attached is the context the driver is given for ctx: what ctx holds
// when detached, else ctx; with its error when it has ended, for a
// statement that would start after it.
func attached(ctx context.Context) (context.Context, error) {
	if d, ok := ctx.(*detached); ok {
		return &d.end, d.end.Err()
	}
	return ctx, ctx.Err()
}

// onAttached runs a driver call with the context attached gives for ctx,
// unless that context has ended: every context-passing method of the
// wrappers below.
func onAttached[T any](ctx context.Context, call func(context.Context) (T, error)) (T, error) {
	ctx, err := attached(ctx)
	if err != nil {
		var none T
		return none, err
	}
	return call(ctx)
}

// driverConn is what database/sql asks of both drivers' connections.
type driverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

// attachConn wraps a driver's connection so that it hands the driver the
// context a detached one holds, keeping what the MySQL driver's
// connections add (see mysqlConn). A connection without the methods the
// store relies on is closed and refused: unwrapped, it would be handed
// detached contexts and never cut a statement off.
func attachConn(conn driver.Conn) (driver.Conn, error) {
	switch c := conn.(type) {
	case mysqlDriverConn:
		return mysqlConn{attachingConn{c}, c}, nil
	case driverConn:
		return attachingConn{c}, nil
	}
	_ = conn.Close()
	return nil, fmt.Errorf("the database driver's connection (%T) lacks the methods the store relies on", conn)
}

// attachingConn is a driver connection that gives the driver the context
// a detached one holds. Every other method is the driver's.
type attachingConn struct{ driverConn }

func (c attachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c attachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := onAttached(ctx, func(ctx context.Context) (driver.Stmt, error) { return c.driverConn.PrepareContext(ctx, query) })
	if err != nil {
		return nil, err
	}
	return attachStmt(st)
}

func (c attachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return onAttached(ctx, func(ctx context.Context) (driver.Rows, error) { return c.driverConn.QueryContext(ctx, query, args) })
}

func (c attachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return onAttached(ctx, func(ctx context.Context) (driver.Result, error) { return c.driverConn.ExecContext(ctx, query, args) })
}

func (c attachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return onAttached(ctx, func(ctx context.Context) (driver.Tx, error) { return c.driverConn.BeginTx(ctx, opts) })
}

// driverStmt is what database/sql asks of both drivers' statements.
type driverStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// attachStmt wraps a driver's statement as attachConn wraps a
// connection.
func attachStmt(st driver.Stmt) (driver.Stmt, error) {
	switch s := st.(type) {
	case mysqlDriverStmt:
		return mysqlStmt{attachingStmt{s}, s}, nil
	case driverStmt:
		return attachingStmt{s}, nil
	}
	_ = st.Close()
	return nil, fmt.Errorf("the database driver's statement (%T) lacks the methods the store relies on", st)
}

// attachingStmt is a driver statement that gives the driver the context
// a detached one holds.
type attachingStmt struct{ driverStmt }

func (s attachingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return onAttached(ctx, func(ctx context.Context) (driver.Rows, error) { return s.driverStmt.QueryContext(ctx, args) })
}

func (s attachingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return onAttached(ctx, func(ctx context.Context) (driver.Result, error) { return s.driverStmt.ExecContext(ctx, args) })
}
