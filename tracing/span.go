package tracing

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Tracer is tp's tracer for the instrumentation named name; nil when tp
// is (tracing off), for Start.
func Tracer(tp trace.TracerProvider, name string) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer(name)
}

// Start starts a span named name in ctx with t. With a nil t (tracing
// off) it starts none: it returns ctx as it is and a span that records
// nothing, at no cost.
func Start(ctx context.Context, t trace.Tracer, name string) (context.Context, trace.Span) {
	if t == nil {
		// The span of a context without one: the API's no-op span, no
		// allocation.
		return ctx, trace.SpanFromContext(context.Background())
	}
	return t.Start(ctx, name)
}

// Fail marks span as failed, for why.
func Fail(span trace.Span, why string) {
	span.SetStatus(codes.Error, why)
}
