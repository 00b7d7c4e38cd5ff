package tracing

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestSampleAsTheSDK: the recorder takes the default sampler's decision
// itself, and takes it as the SDK's ParentBased(AlwaysSample()) does,
// for a root and for each kind of parent, trace state included; any
// other sampler, parent-based ones that differ in one of their five
// samplers among them, is asked.
func TestSampleAsTheSDK(t *testing.T) {
	state, err := trace.ParseTraceState("vendor=a,other=b")
	if err != nil {
		t.Fatal(err)
	}
	traceID := trace.TraceID{1, 2, 3}
	parent := func(remote, sampled bool) trace.SpanContext {
		var flags trace.TraceFlags
		return trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: traceID, SpanID: trace.SpanID{4, 5}, TraceFlags: flags.WithSampled(sampled), TraceState: state, Remote: remote,
		})
	}
	p := NewRecorder(nil, Options{})
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	if !p.parentBasedOn {
		t.Fatal("the default sampler is not taken by the recorder itself")
	}
	sdk := sdktrace.ParentBased(sdktrace.AlwaysSample())
	for _, tc := range []struct {
		name   string
		parent trace.SpanContext
	}{
		{"a root", trace.SpanContext{}},
		{"a remote sampled parent", parent(true, true)},
		{"a remote parent not sampled", parent(true, false)},
		{"a local sampled parent", parent(false, true)},
		{"a local parent not sampled", parent(false, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := trace.ContextWithSpanContext(context.Background(), tc.parent)
			want := sdk.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: traceID, Name: "chats by staff", Kind: trace.SpanKindClient})
			got := p.sample(ctx, tc.parent, traceID, trace.SpanKindClient, spanStart{name: "chats by staff"})
			if got.Decision != want.Decision || got.Tracestate.String() != want.Tracestate.String() || len(got.Attributes) != len(want.Attributes) {
				t.Errorf("decision %v, trace state %q, %d attributes; the SDK's: %v, %q, %d",
					got.Decision, got.Tracestate, len(got.Attributes), want.Decision, want.Tracestate, len(want.Attributes))
			}
		})
	}

	for _, s := range []sdktrace.Sampler{
		sdktrace.AlwaysSample(),
		sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.5)),
		sdktrace.ParentBased(sdktrace.AlwaysSample(), sdktrace.WithLocalParentNotSampled(sdktrace.AlwaysSample())),
		sdktrace.ParentBased(sdktrace.AlwaysSample(), sdktrace.WithRemoteParentNotSampled(sdktrace.AlwaysSample())),
	} {
		other := NewRecorder(nil, Options{Sampler: s})
		if other.parentBasedOn {
			t.Errorf("sampler %s is taken for the default", s.Description())
		}
		_ = other.Shutdown(context.Background())
	}
}
