// Package tracingtest keeps the spans a tracing.Recorder sends, for
// tests: as the OTLP messages a collector would receive, and decoded.
package tracingtest

import (
	"context"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Client is a tracing.Client that keeps what it is sent, in memory.
type Client struct {
	mu      sync.Mutex
	batches [][]*tracepb.ResourceSpans
}

// UploadTraces keeps a copy of spans: the sender reuses them.
func (c *Client) UploadTraces(_ context.Context, spans []*tracepb.ResourceSpans) error {
	batch := make([]*tracepb.ResourceSpans, len(spans))
	for i, rs := range spans {
		batch[i] = proto.Clone(rs).(*tracepb.ResourceSpans)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, batch)
	return nil
}

// Batches are the batches sent so far, each as the client got it.
func (c *Client) Batches() [][]*tracepb.ResourceSpans {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}

// Spans are the spans sent so far, in the order they were.
func (c *Client) Spans() []Span {
	var out []Span
	for _, batch := range c.Batches() {
		for _, rs := range batch {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, decode(ss.GetScope().GetName(), s))
				}
			}
		}
	}
	return out
}

// Span is a span as it was sent, in the API's types.
type Span struct {
	Scope        string // the tracer's name
	Name         string
	Kind         trace.SpanKind
	TraceID      trace.TraceID
	SpanID       trace.SpanID
	Parent       trace.SpanID // zero for a root
	RemoteParent bool         // the parent is a caller's, from its traceparent
	Sampled      bool
	Start, End   time.Time
	Status       codes.Code
	Description  string // the status's, for an error
	Attributes   []attribute.KeyValue
	Events       []string // their names
	Proto        *tracepb.Span
}

// Attr is the value of the attribute key, as a string, and whether the
// span has it.
func (s Span) Attr(key string) (string, bool) {
	for _, a := range s.Attributes {
		if a.Key == attribute.Key(key) {
			return a.Value.String(), true
		}
	}
	return "", false
}

func decode(scope string, s *tracepb.Span) Span {
	out := Span{
		Scope:        scope,
		Name:         s.Name,
		Kind:         trace.SpanKind(s.Kind),
		RemoteParent: s.Flags&uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK) != 0,
		Sampled:      trace.TraceFlags(s.Flags).IsSampled(),
		Start:        time.Unix(0, int64(s.StartTimeUnixNano)),
		End:          time.Unix(0, int64(s.EndTimeUnixNano)),
		Description:  s.GetStatus().GetMessage(),
		Proto:        s,
	}
	copy(out.TraceID[:], s.TraceId)
	copy(out.SpanID[:], s.SpanId)
	copy(out.Parent[:], s.ParentSpanId)
	switch s.GetStatus().GetCode() {
	case tracepb.Status_STATUS_CODE_ERROR:
		out.Status = codes.Error
	case tracepb.Status_STATUS_CODE_OK:
		out.Status = codes.Ok
	}
	for _, kv := range s.Attributes {
		out.Attributes = append(out.Attributes, attribute.KeyValue{Key: attribute.Key(kv.Key), Value: value(kv.Value)})
	}
	for _, e := range s.Events {
		out.Events = append(out.Events, e.Name)
	}
	return out
}

// value is v in the API's type: a scalar as it is, anything else as its
// protobuf text.
func value(v *commonpb.AnyValue) attribute.Value {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(x.StringValue)
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		return attribute.StringValue(hex.EncodeToString(x.BytesValue))
	}
	return attribute.StringValue(v.String())
}

// Discard is a tracing.Client that sends nothing.
type Discard struct{}

func (Discard) UploadTraces(context.Context, []*tracepb.ResourceSpans) error { return nil }
