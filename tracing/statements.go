package tracing

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"opfacade/store"
)

// Statements is a store.Observer that gives each SQL statement a span,
// named by the statement's name ("chats by staff"), with db.system the
// store's engine (sqlite or mysql), failed when the statement fails. A
// statement outside a traced request (the readiness check, a probe's),
// or in a request the sampler left out, gets none. With a nil tp it
// returns nil: no observer.
func Statements(tp trace.TracerProvider, engine string) store.Observer {
	if tp == nil {
		return nil
	}
	return statements{
		tracer: tp.Tracer("opfacade/store"),
		attrs:  []attribute.KeyValue{attribute.String("db.system", engine)},
	}
}

type statements struct {
	tracer trace.Tracer
	attrs  []attribute.KeyValue
}

// StatementStarts starts the statement's span in ctx, when ctx is traced.
func (s statements) StatementStarts(ctx context.Context, name string) context.Context {
	ctx, _ = startChild(ctx, s.tracer, name, trace.SpanKindClient, s.attrs)
	return ctx
}

// StatementEnds ends the span StatementStarts put in ctx. When it put
// none, ctx's span records nothing, and ending it does nothing.
func (s statements) StatementEnds(ctx context.Context, _ string, _ time.Duration, err error) {
	End(trace.SpanFromContext(ctx), err)
}
