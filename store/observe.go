package store

import (
	"context"
	"time"
)

// Observer watches the statements a store runs, for metrics and traces.
// StatementStarts is called as each starts, with the statement's name (a
// fixed text such as "chats by staff", never its SQL or arguments), and
// returns the context the statement runs in, so that a tracer may start
// a span in it. StatementEnds is called as it ends, with that context,
// how long it took (a wait for a connection and reading its rows
// included) and its outcome (nil, or the classified error). Neither
// hands back anything to call later: what watches every statement must
// not cost an allocation for each.
type Observer interface {
	StatementStarts(ctx context.Context, name string) context.Context
	StatementEnds(ctx context.Context, name string, took time.Duration, err error)
}

// Observers is an Observer that tells each of its elements, in order.
type Observers []Observer

// StatementStarts starts the statement for each observer in turn, each in
// the context the one before returned.
func (os Observers) StatementStarts(ctx context.Context, name string) context.Context {
	for _, o := range os {
		ctx = o.StatementStarts(ctx, name)
	}
	return ctx
}

// StatementEnds ends the statement for each observer in reverse order,
// each with the context the last one's start returned.
func (os Observers) StatementEnds(ctx context.Context, name string, took time.Duration, err error) {
	for i := len(os) - 1; i >= 0; i-- {
		os[i].StatementEnds(ctx, name, took, err)
	}
}
