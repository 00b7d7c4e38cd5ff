package tracing

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// otlpSpans converts the records of a batch to OTLP: one ResourceSpans,
// the process's, with a ScopeSpans for each tracer (the instrumentation
// that started the spans). It reuses the messages of a batch for the
// next (reset), once the client has sent them: a message for each span,
// attribute and value would cost more allocations than the spans made on
// the request's path. It is the sender's alone.
type otlpSpans struct {
	out    []*tracepb.ResourceSpans // the one, whose resource is converted once
	scopes map[*tracer]*tracepb.ScopeSpans

	spans     arena[tracepb.Span]
	statuses  arena[tracepb.Status]
	ids       arena[byte]
	pointers  arena[*commonpb.KeyValue]
	keyValues arena[commonpb.KeyValue]
	values    arena[commonpb.AnyValue]
	strings   arena[commonpb.AnyValue_StringValue]
	ints      arena[commonpb.AnyValue_IntValue]
}

func newOTLPSpans(res *resource.Resource) *otlpSpans {
	rs := &tracepb.ResourceSpans{}
	if res != nil {
		rs.Resource = &resourcepb.Resource{Attributes: anyKeyValues(res.Attributes())}
		rs.SchemaUrl = res.SchemaURL()
	}
	return &otlpSpans{out: []*tracepb.ResourceSpans{rs}, scopes: map[*tracer]*tracepb.ScopeSpans{}}
}

// convert is batch in OTLP, valid until reset. Each message it takes
// from the arenas it sets whole, by a composite literal: they come as the
// last batch left them.
func (o *otlpSpans) convert(batch []*record) []*tracepb.ResourceSpans {
	rs := o.out[0]
	for _, r := range batch {
		ss := o.scope(r.tracer)
		if len(ss.Spans) == 0 { // the scope's first span of the batch
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		ss.Spans = append(ss.Spans, o.span(r))
	}
	return o.out
}

// reset makes the messages of the batch converted last ready for the
// next.
func (o *otlpSpans) reset() {
	rs := o.out[0]
	for _, ss := range rs.ScopeSpans {
		clear(ss.Spans)
		ss.Spans = ss.Spans[:0]
	}
	rs.ScopeSpans = rs.ScopeSpans[:0]
	o.spans.reset()
	o.statuses.reset()
	o.ids.reset()
	o.pointers.reset()
	o.keyValues.reset()
	o.values.reset()
	o.strings.reset()
	o.ints.reset()
}

// scope is t's ScopeSpans, made once.
func (o *otlpSpans) scope(t *tracer) *tracepb.ScopeSpans {
	ss, ok := o.scopes[t]
	if !ok {
		ss = &tracepb.ScopeSpans{
			Scope: &commonpb.InstrumentationScope{
				Name:       t.scope.name,
				Version:    t.scope.version,
				Attributes: anyKeyValues(t.attributes.ToSlice()),
			},
			SchemaUrl: t.scope.schemaURL,
		}
		o.scopes[t] = ss
	}
	return ss
}

func (o *otlpSpans) span(r *record) *tracepb.Span {
	traceID, spanID := r.sc.TraceID(), r.sc.SpanID()
	var parentID []byte
	if r.parent.IsValid() {
		parentID = o.bytes(r.parent[:])
	}
	start := r.start.UnixNano()
	attrs, invalid := o.attributes(r.attributes)
	s := o.spans.next()
	*s = tracepb.Span{
		TraceId:                o.bytes(traceID[:]),
		SpanId:                 o.bytes(spanID[:]),
		ParentSpanId:           parentID,
		TraceState:             r.sc.TraceState().String(),
		Flags:                  spanFlags(r),
		Name:                   r.name,
		Kind:                   tracepb.Span_SpanKind(r.kind), // the same numbers, both the specification's
		StartTimeUnixNano:      uint64(max(0, start)),
		EndTimeUnixNano:        uint64(max(0, start+int64(r.end.Sub(r.start)))), // by the monotonic clock, as the span's duration
		Attributes:             attrs,
		DroppedAttributesCount: uint32(r.droppedAttributes + invalid),
		Events:                 events(r.events),
		DroppedEventsCount:     uint32(r.droppedEvents),
		DroppedLinksCount:      uint32(r.droppedLinks),
		Status:                 o.status(r.status),
	}
	return s
}

// spanFlags are the span's W3C trace flags, and whether its parent is
// remote, as OTLP puts them together.
func spanFlags(r *record) uint32 {
	flags := uint32(r.sc.TraceFlags()) | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if r.remoteParent {
		flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
	}
	return flags
}

func (o *otlpSpans) bytes(b []byte) []byte {
	out := o.ids.take(len(b))
	copy(out, b)
	return out
}

func (o *otlpSpans) status(st sdktrace.Status) *tracepb.Status {
	s := o.statuses.next()
	switch st.Code {
	case codes.Error:
		*s = tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: st.Description}
	case codes.Ok:
		*s = tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK}
	default:
		*s = tracepb.Status{}
	}
	return s
}

// attributes converts attrs, a key set more than once with its last
// value; it leaves out the invalid ones (no key, or no value), and says
// how many.
func (o *otlpSpans) attributes(attrs []attribute.KeyValue) (out []*commonpb.KeyValue, invalid int) {
	out = o.pointers.take(len(attrs))[:0]
	for i, kv := range attrs {
		switch {
		case !kv.Valid():
			invalid++
		case !setAgain(attrs[i+1:], kv.Key):
			kp := o.keyValues.next()
			*kp = commonpb.KeyValue{Key: string(kv.Key), Value: o.value(kv.Value)}
			out = append(out, kp)
		}
	}
	return out, invalid
}

func setAgain(attrs []attribute.KeyValue, key attribute.Key) bool {
	for _, kv := range attrs {
		if kv.Key == key {
			return true
		}
	}
	return false
}

// value converts v, from the arenas for the strings and integers the
// facade's spans hold.
func (o *otlpSpans) value(v attribute.Value) *commonpb.AnyValue {
	switch v.Type() {
	case attribute.STRING:
		s := o.strings.next()
		*s = commonpb.AnyValue_StringValue{StringValue: v.AsString()}
		av := o.values.next()
		*av = commonpb.AnyValue{Value: s}
		return av
	case attribute.INT64:
		n := o.ints.next()
		*n = commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}
		av := o.values.next()
		*av = commonpb.AnyValue{Value: n}
		return av
	}
	return anyValue(v)
}

func events(evs []event) []*tracepb.Span_Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]*tracepb.Span_Event, len(evs))
	for i, e := range evs {
		out[i] = &tracepb.Span_Event{TimeUnixNano: uint64(max(0, e.at.UnixNano())), Name: e.name, Attributes: anyKeyValues(e.attributes)}
	}
	return out
}

// anyKeyValues converts attrs to messages of their own, for what is
// converted once (the resource, a scope) or seldom (events, values
// other than strings and integers).
func anyKeyValues(attrs []attribute.KeyValue) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for _, kv := range attrs {
		if kv.Valid() {
			out = append(out, &commonpb.KeyValue{Key: string(kv.Key), Value: anyValue(kv.Value)})
		}
	}
	return out
}

func anyValue(v attribute.Value) *commonpb.AnyValue {
	switch v.Type() {
	case attribute.BOOL:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v.AsBool()}}
	case attribute.INT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}}
	case attribute.FLOAT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}}
	case attribute.STRING:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v.AsString()}}
	case attribute.BYTESLICE:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: v.AsByteSlice()}}
	case attribute.BOOLSLICE:
		return arrayOf(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		return arrayOf(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		return arrayOf(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		return arrayOf(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		return arrayOf(v.AsSlice(), func(v attribute.Value) attribute.Value { return v })
	case attribute.MAP:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: anyKeyValues(v.AsMap())}}}
	}
	return &commonpb.AnyValue{} // empty
}

func arrayOf[T any](vs []T, value func(T) attribute.Value) *commonpb.AnyValue {
	out := make([]*commonpb.AnyValue, len(vs))
	for i, v := range vs {
		out[i] = anyValue(value(v))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: out}}}
}

// arena hands out values of T from a chunk it keeps from batch to batch,
// growing it when a batch needs more; reset takes them all back for the
// next batch. They come as the last batch left them, for the taker to
// set whole: zeroing them first would cost as much again (with the
// write barriers the collector's marking adds to each pointer cleared).
// Values are never copied once handed out, as protobuf messages must
// not be.
type arena[T any] struct {
	chunk []T
	used  int
}

// take is n values in a row.
func (a *arena[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if a.used+n > len(a.chunk) {
		// The old chunk stays with the messages that point into it, until
		// the batch is sent; the next batch starts on the new one.
		a.chunk = make([]T, max(2*len(a.chunk), n, 64))
		a.used = 0
	}
	out := a.chunk[a.used : a.used+n : a.used+n]
	a.used += n
	return out
}

func (a *arena[T]) next() *T { return &a.take(1)[0] }

func (a *arena[T]) reset() { a.used = 0 }
