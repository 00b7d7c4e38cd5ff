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
		start:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}, // made once, not per statement
		attrs:  []attribute.KeyValue{attribute.String("db.system", engine)},
	}
}

type statements struct {
	tracer trace.Tracer
	start  []trace.SpanStartOption
	// set once the span is started, not given as a start option, which
	// would be copied twice: into the start's options, made anew for each
	// span, then the span
	attrs []attribute.KeyValue
}

// StatementStarts starts the statement's span in ctx, when ctx is traced.
func (s statements) StatementStarts(ctx context.Context, name string) context.Context {
	if !Recording(ctx) {
		return ctx
	}
	ctx, span := s.tracer.Start(ctx, name, s.start...)
	span.SetAttributes(s.attrs...)
	return ctx
}

// StatementEnds ends the span StatementStarts put in ctx. When it put
// none, ctx's span records nothing, and ending it does nothing.
func (s statements) StatementEnds(ctx context.Context, _ string, _ time.Duration, err error) {
	End(trace.SpanFromContext(ctx), err)
}
