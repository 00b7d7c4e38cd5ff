package tracing_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"opfacade/tracing"
	"opfacade/tracing/tracingtest"
)

// TestRecorderSpans: what spans record reaches the client as OTLP, in
// one ResourceSpans with the resource, a ScopeSpans for each tracer:
// names (the last set), kinds, ids (a child in its parent's trace, under
// it), statuses as the specification orders them, attributes of every
// type (a key set twice with its last value), the exception event of an
// error, and times.
func TestRecorderSpans(t *testing.T) {
	res := resource.NewSchemaless(attribute.String("service.name", "facade-test"))
	tp, client := newRecorder(t, tracing.Options{Resource: res})
	server, store := tp.Tracer("opfacade/http"), tp.Tracer("opfacade/store", trace.WithInstrumentationVersion("1.2"))
	before := time.Now()

	ctx, root := server.Start(context.Background(), "GET",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attribute.String("url.path", "/query")))
	root.SetName("GET /query")
	root.SetAttributes(
		attribute.Int("http.response.status_code", 200),
		attribute.Bool("cached", true),
		attribute.Float64("ratio", 0.5),
		attribute.StringSlice("tags", []string{"a", "b"}),
		attribute.String("url.path", "/query/again"),
	)
	_, stmt := store.Start(ctx, "chats by staff", trace.WithSpanKind(trace.SpanKindClient))
	stmt.SetAttributes(attribute.String("db.system", "sqlite"))
	stmt.SetStatus(codes.Error, "no table")
	stmt.RecordError(errors.New("no table"))
	stmt.End()
	root.SetStatus(codes.Ok, "dropped: only an error has a description")
	root.SetStatus(codes.Error, "ignored: ok is final")
	root.End()

	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches := client.Batches()
	if len(batches) != 1 || len(batches[0]) != 1 {
		t.Fatalf("%d batches, want one of one ResourceSpans", len(batches))
	}
	rs := batches[0][0]
	if got := stringValue(rs.GetResource().GetAttributes(), "service.name"); got != "facade-test" {
		t.Errorf("resource service.name %q, want facade-test", got)
	}
	if len(rs.ScopeSpans) != 2 {
		t.Fatalf("%d ScopeSpans, want one for each tracer", len(rs.ScopeSpans))
	}
	storeScope, httpScope := rs.ScopeSpans[0], rs.ScopeSpans[1] // in the order their spans ended
	if storeScope.Scope.GetName() != "opfacade/store" || storeScope.Scope.GetVersion() != "1.2" || httpScope.Scope.GetName() != "opfacade/http" ||
		len(storeScope.Spans) != 1 || len(httpScope.Spans) != 1 {
		t.Fatalf("scopes %v and %v, want opfacade/store 1.2 and opfacade/http, a span each", storeScope.Scope, httpScope.Scope)
	}
	s, r := storeScope.Spans[0], httpScope.Spans[0]

	rootTrace, rootSpan, stmtSpan := root.SpanContext().TraceID(), root.SpanContext().SpanID(), stmt.SpanContext().SpanID()
	if !bytes.Equal(r.TraceId, rootTrace[:]) || !bytes.Equal(r.SpanId, rootSpan[:]) || len(r.ParentSpanId) != 0 {
		t.Errorf("root: trace %x span %x parent %x, want %s %s and none", r.TraceId, r.SpanId, r.ParentSpanId, rootTrace, rootSpan)
	}
	if !bytes.Equal(s.TraceId, r.TraceId) || !bytes.Equal(s.SpanId, stmtSpan[:]) || !bytes.Equal(s.ParentSpanId, r.SpanId) || bytes.Equal(s.SpanId, r.SpanId) {
		t.Errorf("statement: trace %x span %x parent %x, want the root's trace, a span of its own under the root", s.TraceId, s.SpanId, s.ParentSpanId)
	}
	wantFlags := uint32(trace.FlagsSampled) | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if r.Flags != wantFlags || s.Flags != wantFlags {
		t.Errorf("flags %#x and %#x, want %#x: sampled, parent known to be local", r.Flags, s.Flags, wantFlags)
	}

	if r.Name != "GET /query" || r.Kind != tracepb.Span_SPAN_KIND_SERVER || r.Status.GetCode() != tracepb.Status_STATUS_CODE_OK || r.Status.GetMessage() != "" {
		t.Errorf("root: %q, kind %v, status %v %q; want GET /query, server, ok without a description", r.Name, r.Kind, r.Status.GetCode(), r.Status.GetMessage())
	}
	if s.Name != "chats by staff" || s.Kind != tracepb.Span_SPAN_KIND_CLIENT || s.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || s.Status.GetMessage() != "no table" {
		t.Errorf("statement: %q, kind %v, status %v %q; want chats by staff, client, error no table", s.Name, s.Kind, s.Status.GetCode(), s.Status.GetMessage())
	}
	str := func(s string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
	}
	wantAttrs := map[string]*commonpb.AnyValue{
		"url.path":                  str("/query/again"),
		"http.response.status_code": {Value: &commonpb.AnyValue_IntValue{IntValue: 200}},
		"cached":                    {Value: &commonpb.AnyValue_BoolValue{BoolValue: true}},
		"ratio":                     {Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 0.5}},
		"tags":                      {Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{str("a"), str("b")}}}},
	}
	if len(r.Attributes) != len(wantAttrs) {
		t.Errorf("root: %d attributes, want %d: %v", len(r.Attributes), len(wantAttrs), r.Attributes)
	}
	for _, kv := range r.Attributes {
		if !proto.Equal(kv.Value, wantAttrs[kv.Key]) {
			t.Errorf("root: attribute %s = %v, want %v", kv.Key, kv.Value, wantAttrs[kv.Key])
		}
	}
	if got := stringValue(s.Attributes, "db.system"); got != "sqlite" {
		t.Errorf("statement: db.system %q, want sqlite", got)
	}
	if len(s.Events) != 1 || s.Events[0].Name != "exception" || stringValue(s.Events[0].Attributes, "exception.message") != "no table" ||
		stringValue(s.Events[0].Attributes, "exception.type") != "*errors.errorString" {
		t.Errorf("statement: events %v, want the exception", s.Events)
	}

	after := uint64(time.Now().UnixNano())
	for _, sp := range []*tracepb.Span{r, s} {
		if sp.StartTimeUnixNano < uint64(before.UnixNano()) || sp.EndTimeUnixNano < sp.StartTimeUnixNano || sp.EndTimeUnixNano > after {
			t.Errorf("span %s from %d to %d, want within %d to %d", sp.Name, sp.StartTimeUnixNano, sp.EndTimeUnixNano, before.UnixNano(), after)
		}
	}
}

// TestRecorderRemoteParent: a span started in the context a traceparent
// was extracted to continues the caller's trace, under the caller's
// span, which OTLP marks remote; the traceparent sent on from it names
// the new span.
func TestRecorderRemoteParent(t *testing.T) {
	tp, client := newRecorder(t, tracing.Options{})
	ctx := extract("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx, s := tp.Tracer("test").Start(ctx, "request")
	s.End()
	if got, want := inject(ctx), "00-4bf92f3577b34da6a3ce929d0e0e4736-"+s.SpanContext().SpanID().String()+"-01"; got != want {
		t.Errorf("traceparent sent on %s, want %s", got, want)
	}
	spans := sent(t, tp, client)
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	sp := spans[0]
	if sp.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sp.Parent.String() != "00f067aa0ba902b7" || !sp.RemoteParent {
		t.Errorf("span in trace %s under %s (remote: %v), want the caller's", sp.TraceID, sp.Parent, sp.RemoteParent)
	}
}

// TestRecorderSampling: the sampler decides which spans are recorded and
// sent; one it leaves out records nothing, costs its context alone, and
// still carries the trace to its children and to the traceparent sent
// on, not sampled. Parent-based samplers follow the caller's choice.
func TestRecorderSampling(t *testing.T) {
	const sampledCaller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const unsampledCaller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	for _, tc := range []struct {
		name     string
		sampler  sdktrace.Sampler
		caller   string // traceparent; "" for a new trace
		recorded bool
	}{
		{"ratio 0", sdktrace.TraceIDRatioBased(0), "", false},
		{"ratio 1", sdktrace.TraceIDRatioBased(1), "", true},
		{"ratio 0, a sampled caller", sdktrace.TraceIDRatioBased(0), sampledCaller, false},
		{"parent-based ratio 0, a sampled caller", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0)), sampledCaller, true},
		{"parent-based ratio 0, a new trace", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0)), "", false},
		{"the default, an unsampled caller", nil, unsampledCaller, false},
		{"the default, a sampled caller", nil, sampledCaller, true},
		{"the default, a new trace", nil, "", true},
		{"always on, an unsampled caller", sdktrace.AlwaysSample(), unsampledCaller, true},
		{"always off", sdktrace.NeverSample(), sampledCaller, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, client := newRecorder(t, tracing.Options{Sampler: tc.sampler})
			tr := tp.Tracer("test")
			ctx := context.Background()
			if tc.caller != "" {
				ctx = extract(tc.caller)
			}
			ctx, s := tr.Start(ctx, "request")
			_, child := tr.Start(ctx, "child")
			sc := s.SpanContext()
			if s.IsRecording() != tc.recorded || child.IsRecording() != tc.recorded || !sc.IsValid() || sc.IsSampled() != tc.recorded {
				t.Errorf("recording %v (child %v), context valid %v and sampled %v; want recording and sampled %v",
					s.IsRecording(), child.IsRecording(), sc.IsValid(), sc.IsSampled(), tc.recorded)
			}
			if tc.caller != "" && sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("trace %s, want the caller's", sc.TraceID())
			}
			if child.SpanContext().TraceID() != sc.TraceID() {
				t.Errorf("child in trace %s, want its parent's %s", child.SpanContext().TraceID(), sc.TraceID())
			}
			flags := "-00"
			if tc.recorded {
				flags = "-01"
			}
			if got, want := inject(ctx), "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+flags; got != want {
				t.Errorf("traceparent sent on %s, want %s", got, want)
			}
			child.End()
			s.End()
			if n, want := len(sent(t, tp, client)), map[bool]int{true: 2}[tc.recorded]; n != want {
				t.Errorf("%d spans sent, want %d", n, want)
			}
		})
	}
}

// TestRecorderSpanAfterEnd: a span's context outlives it, and the span
// stays safe to call once ended, from any goroutine, while the sender
// converts its record: it records nothing more, and nothing set late
// reaches the client.
func TestRecorderSpanAfterEnd(t *testing.T) {
	tp, client := newRecorder(t, tracing.Options{Batching: tracing.Batching{Delay: time.Millisecond, MaxBatch: 8}})
	tr := tp.Tracer("test")
	ctx, s := tr.Start(context.Background(), "request")
	sc := s.SpanContext()
	s.SetAttributes(attribute.Int("before", 1))
	s.End()
	late := func(s trace.Span) {
		s.SetAttributes(attribute.Int("after", 1))
		s.SetName("renamed")
		s.SetStatus(codes.Error, "late")
		s.AddEvent("late")
		s.RecordError(errors.New("late"))
		s.End()
	}
	late(s)
	if s.IsRecording() || !trace.SpanFromContext(ctx).SpanContext().Equal(sc) || !sc.IsValid() {
		t.Errorf("after End: recording %v, the context's span context %v; want false, %v", s.IsRecording(), trace.SpanFromContext(ctx).SpanContext(), sc)
	}

	// Spans that start and end, while goroutines of their own call the
	// spans that ended before them late, and race with their End: the
	// race detector watches.
	var wg sync.WaitGroup
	ended := s
	for i := range 200 {
		_, other := tr.Start(ctx, "other")
		before := ended
		wg.Go(func() {
			late(before)
			_ = trace.SpanFromContext(ctx).SpanContext().TraceID()
		})
		wg.Go(func() { other.SetAttributes(attribute.Int("i", i)) }) // before End or not at all
		other.End()
		ended = other
	}
	wg.Wait()

	spans := sent(t, tp, client)
	if len(spans) != 201 {
		t.Fatalf("%d spans, want 201", len(spans))
	}
	for _, sp := range spans {
		_, after := sp.Attr("after")
		if after || sp.Name == "renamed" || sp.Status != codes.Unset || len(sp.Events) > 0 {
			t.Errorf("span %s has what was set after it ended: %v, status %v, events %v", sp.Name, sp.Attributes, sp.Status, sp.Events)
		}
	}
	if spans[0].Name != "request" || len(spans[0].Attributes) != 1 {
		t.Errorf("first span %s %v, want request with what it was given before End", spans[0].Name, spans[0].Attributes)
	}
}

// TestRecorderAllocations: a span costs the request its handle, which
// holds its record, and its context, and nothing more: a statement's
// attributes fit in the record, and the messages a batch is converted to
// are reused.
func TestRecorderAllocations(t *testing.T) {
	tp := tracing.NewRecorder(tracingtest.Discard{}, tracing.Options{Batching: tracing.Batching{Delay: time.Hour}})
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("test")
	ctx, root := tr.Start(context.Background(), "request")
	defer root.End()
	kind := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	attrs := []attribute.KeyValue{attribute.String("db.system", "sqlite"), attribute.Int("rows", 3)}
	const spans = 100
	allocs := testing.AllocsPerRun(20, func() {
		for range spans {
			_, s := tr.Start(ctx, "chats by staff", kind...)
			s.SetAttributes(attrs...)
			s.SetStatus(codes.Error, "no table")
			s.End()
		}
		_ = tp.ForceFlush(context.Background()) // the batch's own few: its deadline
	})
	t.Logf("%.0f allocations for %d spans and their batch", allocs, spans)
	if allocs > 2*spans+10 {
		t.Errorf("%.0f allocations for %d spans and their batch, want at most 2 a span", allocs, spans)
	}
}

func extract(traceparent string) context.Context {
	return propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(http.Header{"Traceparent": {traceparent}}))
}

func inject(ctx context.Context) string {
	h := http.Header{}
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
	return h.Get("Traceparent")
}

func stringValue(attrs []*commonpb.KeyValue, key string) string {
	for _, kv := range attrs {
		if kv.Key == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}
