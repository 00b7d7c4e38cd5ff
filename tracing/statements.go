package tracing

import (
	"context"

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
		// made once, not per statement: the span copies the attribute
		start: []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", engine)),
		},
	}
}

type statements struct {
	tracer trace.Tracer
	start  []trace.SpanStartOption
}

func (s statements) Statement(ctx context.Context, name string) (context.Context, func(error)) {
	if !Recording(ctx) {
		return ctx, noStatement
	}
	ctx, span := s.tracer.Start(ctx, name, s.start...)
	return ctx, func(err error) { End(span, err) }
}

// noStatement ends a statement that has no span.
func noStatement(error) {}
