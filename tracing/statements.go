package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"opfacade/store"
)

// Statements is a store.Observer that gives each SQL statement a span,
// named by the statement's name ("chats by staff"), with db.system the
// store's engine (sqlite or mysql), failed when the statement fails. A
// statement outside a traced request (the readiness check, a probe's)
// gets none. With a nil tp it returns nil: no observer.
func Statements(tp trace.TracerProvider, engine string) store.Observer {
	if tp == nil {
		return nil
	}
	return statements{
		tracer: tp.Tracer("opfacade/store"),
		system: attribute.String("db.system", engine),
		start:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)},
	}
}

type statements struct {
	tracer trace.Tracer
	system attribute.KeyValue
	start  []trace.SpanStartOption // made once, not per statement
}

func (s statements) Statement(ctx context.Context, name string) (context.Context, func(error)) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, func(error) {}
	}
	ctx, span := s.tracer.Start(ctx, name, s.start...)
	if span.IsRecording() {
		span.SetAttributes(s.system)
	}
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
