package store

import "context"

// Observer watches the statements a store runs, for metrics and traces:
// Statement is called as each starts, with the statement's name (a fixed
// text such as "chats by staff", never its SQL or arguments), and the
// function it returns as it ends, with its outcome (nil, or the
// classified error). The context it returns carries the statement's run,
// so a tracer may start a span in it.
type Observer interface {
	Statement(ctx context.Context, name string) (context.Context, func(error))
}

// Observers is an Observer that tells each of its elements, in order.
type Observers []Observer

// Statement starts the statement for each observer in turn, each in the
// context the one before returned, and ends it for them in reverse order.
func (os Observers) Statement(ctx context.Context, name string) (context.Context, func(error)) {
	switch len(os) {
	case 0:
		return ctx, func(error) {}
	case 1:
		return os[0].Statement(ctx, name)
	}
	ends := make([]func(error), len(os))
	for i, o := range os {
		ctx, ends[i] = o.Statement(ctx, name)
	}
	return ctx, func(err error) {
		for i := len(ends) - 1; i >= 0; i-- {
			ends[i](err)
		}
	}
}

func (s *Store) observe(ctx context.Context, name string) (context.Context, func(error)) {
	if s.observer == nil {
		return ctx, func(error) {}
	}
	return s.observer.Statement(ctx, name)
}
