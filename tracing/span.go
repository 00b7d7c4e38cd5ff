package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
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

// Start starts a span named name in ctx with t, a child of ctx's span.
// It starts none when t is nil (tracing off) or when ctx's span records
// nothing: outside a traced request, or in one the sampler left out,
// whose children it would leave out too. It then returns ctx as it is
// and a span that records nothing, at no cost.
func Start(ctx context.Context, t trace.Tracer, name string) (context.Context, trace.Span) {
	return startChild(ctx, t, name, trace.SpanKindInternal, nil)
}

// startChild is Start for a span of kind with attributes.
func startChild(ctx context.Context, t trace.Tracer, name string, kind trace.SpanKind, attributes []attribute.KeyValue) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if t == nil || !parent.IsRecording() {
		// The span of a context without one: the API's no-op span, no
		// allocation.
		return ctx, trace.SpanFromContext(context.Background())
	}
	return begin(ctx, parent.SpanContext(), t, spanStart{name: name, kind: kind, attributes: attributes})
}

// begin starts a span in ctx under parent, ctx's span context, with t.
// With a Recorder's tracer it skips what Start's options cost: the
// facade starts half a dozen spans a request.
func begin(ctx context.Context, parent trace.SpanContext, t trace.Tracer, st spanStart) (context.Context, trace.Span) {
	if t, ok := t.(*tracer); ok {
		s := t.start(ctx, parent, st)
		return trace.ContextWithSpan(ctx, s), s
	}
	return t.Start(ctx, st.name, trace.WithSpanKind(st.kind), trace.WithAttributes(st.attributes...))
}

// Recording reports whether ctx's span records: whether what runs in ctx
// is traced.
func Recording(ctx context.Context) bool {
	return trace.SpanFromContext(ctx).IsRecording()
}

// End ends span, failed with err's message when err is not nil.
func End(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Fail marks span as failed, for why.
func Fail(span trace.Span, why string) {
	span.SetStatus(codes.Error, why)
}
