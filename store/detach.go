package store

import (
	"context"
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
// statement's context detached, and the pool's connections (sqliteConn,
// mysqlConn) hand the driver the context within.
//
// What database/sql no longer watches is a wait for a pool connection:
// it lasts until a connection is free, which the statements holding them
// are held to by their own contexts, and a statement whose context ended
// meanwhile does not start.

// detached is a context that never ends, holding one that may: what
// database/sql sees of a statement's context.
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
