package tracing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"opfacade/tracing"
	"opfacade/tracing/tracingtest"
)

// TestStart: a span is started only inside a span that records; outside
// one, or inside one the sampler left out, the context comes back as it
// was and nothing is allocated. The statements' spans follow the same
// rule.
func TestStart(t *testing.T) {
	tp, client := newRecorder(t, tracing.Options{})
	tr := tp.Tracer("test")
	stmts := tracing.Statements(tp, "sqlite")
	sampled, root := tr.Start(context.Background(), "request")
	sampledOut := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, // flags 0: not sampled
	}))

	for _, tc := range []struct {
		name   string
		ctx    context.Context
		tracer trace.Tracer
		starts bool
	}{
		{"in a sampled request", sampled, tr, true},
		{"tracing off", sampled, nil, false},
		{"outside a request", context.Background(), tr, false},
		{"in a request the sampler left out", sampledOut, tr, false},
	} {
		ctx, span := tracing.Start(tc.ctx, tc.tracer, "Staff.chats")
		recording := span.IsRecording()
		tracing.End(span, errors.New("no table"))
		if started := ctx != tc.ctx; started != tc.starts || recording != tc.starts {
			t.Errorf("%s: a new context %v, a recording span %v; want %v", tc.name, started, recording, tc.starts)
		}
		if tc.tracer != nil { // the statements' spans are on or off with the rest
			sctx := stmts.StatementStarts(tc.ctx, "chats by staff")
			stmts.StatementEnds(sctx, "chats by staff", time.Millisecond, nil)
			if started := sctx != tc.ctx; started != tc.starts {
				t.Errorf("%s: a statement's span started: %v; want %v", tc.name, started, tc.starts)
			}
		}
		if !tc.starts {
			if n := testing.AllocsPerRun(10, func() {
				_, span := tracing.Start(tc.ctx, tc.tracer, "Staff.chats")
				tracing.End(span, nil)
				if tc.tracer != nil {
					stmts.StatementEnds(stmts.StatementStarts(tc.ctx, "chats by staff"), "chats by staff", time.Millisecond, nil)
				}
			}); n != 0 {
				t.Errorf("%s: %v allocations", tc.name, n)
			}
		}
	}
	root.End()

	spans := sent(t, tp, client)
	if len(spans) != 3 { // Staff.chats, the statement, and the request
		t.Fatalf("%d spans, want 3", len(spans))
	}
	if s := spans[0]; s.Name != "Staff.chats" || s.Status != codes.Error || s.Description != "no table" || s.Parent != root.SpanContext().SpanID() {
		t.Errorf("span %s: status %v %q, parent %v", s.Name, s.Status, s.Description, s.Parent)
	}
}

// newRecorder is a Recorder that keeps the spans it sends in client,
// shut down when the test ends.
func newRecorder(t testing.TB, o tracing.Options) (*tracing.Recorder, *tracingtest.Client) {
	t.Helper()
	client := &tracingtest.Client{}
	rec := tracing.NewRecorder(client, o)
	t.Cleanup(func() { _ = rec.Shutdown(context.Background()) })
	return rec, client
}

// sent sends the spans that have ended and returns every span sent.
func sent(t testing.TB, rec *tracing.Recorder, client *tracingtest.Client) []tracingtest.Span {
	t.Helper()
	if err := rec.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return client.Spans()
}
