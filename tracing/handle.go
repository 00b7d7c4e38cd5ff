package tracing

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Limits a span's record keeps to, as the SDK's defaults do: what is
// beyond is counted as dropped.
const (
	maxAttributes = 128
	maxEvents     = 128
)

// span is a Recorder's span that records: what the instrumentation
// holds and the context carries. Its SpanContext never changes, so a
// context that holds it stays valid after End (the access log reads the
// trace id of a request's span once it has ended). What it records is in
// rec, under rec.mu while it records; End hands rec to the sender, whose
// it is from then on: the span's methods record nothing more. They are
// safe to call from several goroutines, during and after End.
//
// The record is part of the span, one allocation. Records kept in a
// pool took fewer instructions (less allocated, the collector runs less
// often), but cost more to a client waiting on each answer: a pooled
// record comes back written by the sender, on whichever core it ran, to
// be written again on the request's, and the pool's Get and Put run for
// every span.
type span struct {
	embedded.Span
	ended atomic.Bool // set under rec.mu
	rec   record      // its sc and tracer set once, at start: read without the lock
}

func (s *span) SpanContext() trace.SpanContext       { return s.rec.sc }
func (s *span) IsRecording() bool                    { return !s.ended.Load() }
func (s *span) TracerProvider() trace.TracerProvider { return s.rec.tracer.recorder }

// lock locks the span's record, while the span records; it reports
// false, and locks nothing, once the span has ended.
func (s *span) lock() bool {
	s.rec.mu.Lock()
	if s.ended.Load() {
		s.rec.mu.Unlock()
		return false
	}
	return true
}

func (s *span) unlock() { s.rec.mu.Unlock() }

func (s *span) SetName(name string) {
	if s.lock() {
		s.rec.name = name
		s.unlock()
	}
}

// SetAttributes copies kv into the record; a key set twice keeps its
// last value (the sender drops the earlier ones).
func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	if s.lock() {
		s.rec.addAttributes(kv)
		s.unlock()
	}
}

// SetStatus sets the status as the specification says: Ok is final,
// Unset changes nothing, and only an error keeps a description.
func (s *span) SetStatus(code codes.Code, description string) {
	if !s.lock() {
		return
	}
	defer s.unlock()
	r := &s.rec
	if code < r.status.Code || code == codes.Unset {
		return
	}
	r.status = sdktrace.Status{Code: code}
	if code == codes.Error {
		r.status.Description = description
	}
}

// Status is the status set so far, while the span records; the zero
// status after End. It is what tells the HTTP span whether the work
// inside failed it already (see failed), as the SDK's spans tell it.
func (s *span) Status() sdktrace.Status {
	if !s.lock() {
		return sdktrace.Status{}
	}
	defer s.unlock()
	return s.rec.status
}

func (s *span) AddEvent(name string, opts ...trace.EventOption) {
	if !s.IsRecording() {
		return
	}
	c := trace.NewEventConfig(opts...)
	s.addEvent(name, c.Timestamp(), c.Attributes())
}

// RecordError records err as the exception event of the specification,
// its type and message, without a stack trace; it leaves the status as
// it is.
func (s *span) RecordError(err error, opts ...trace.EventOption) {
	if err == nil || !s.IsRecording() {
		return
	}
	c := trace.NewEventConfig(opts...)
	attrs := append([]attribute.KeyValue{
		semconv.ExceptionType(fmt.Sprintf("%T", err)),
		semconv.ExceptionMessage(err.Error()),
	}, c.Attributes()...)
	s.addEvent(semconv.ExceptionEventName, c.Timestamp(), attrs)
}

func (s *span) addEvent(name string, at time.Time, attrs []attribute.KeyValue) {
	if !s.lock() {
		return
	}
	defer s.unlock()
	r := &s.rec
	if len(r.events) == maxEvents {
		r.droppedEvents++
		return
	}
	r.events = append(r.events, event{name: name, at: at, attributes: attrs})
}

// AddLink counts the link as dropped: the facade links no spans.
func (s *span) AddLink(trace.Link) {
	if s.lock() {
		s.rec.droppedLinks++
		s.unlock()
	}
}

// End ends the span, at most once, and hands its record to the sender.
func (s *span) End(opts ...trace.SpanEndOption) {
	if !s.IsRecording() {
		return
	}
	end := time.Now()
	if len(opts) > 0 {
		if c := trace.NewSpanEndConfig(opts...); !c.Timestamp().IsZero() {
			end = c.Timestamp()
		}
	}
	if !s.lock() {
		return // ended meanwhile
	}
	s.ended.Store(true)
	s.rec.end = end
	s.unlock()
	s.rec.tracer.recorder.ended(&s.rec)
}

// unsampled is the span of a span context the sampler left out: it
// records nothing, and carries the trace on to its children and to the
// traceparent sent on, at the cost of its context alone.
type unsampled struct {
	embedded.Span
	recorder *Recorder
	sc       trace.SpanContext
}

func (s *unsampled) SpanContext() trace.SpanContext        { return s.sc }
func (s *unsampled) IsRecording() bool                     { return false }
func (s *unsampled) TracerProvider() trace.TracerProvider  { return s.recorder }
func (*unsampled) SetName(string)                          {}
func (*unsampled) SetAttributes(...attribute.KeyValue)     {}
func (*unsampled) SetStatus(codes.Code, string)            {}
func (*unsampled) AddEvent(string, ...trace.EventOption)   {}
func (*unsampled) RecordError(error, ...trace.EventOption) {}
func (*unsampled) AddLink(trace.Link)                      {}
func (*unsampled) End(...trace.SpanEndOption)              {}

// record is what a span records, from its start to the sender, which
// converts it.
type record struct {
	mu           sync.Mutex // held by the span's methods
	tracer       *tracer
	name         string
	kind         trace.SpanKind
	sc           trace.SpanContext
	parent       trace.SpanID // zero for a root
	remoteParent bool
	start, end   time.Time
	status       sdktrace.Status
	attributes   []attribute.KeyValue // in few, or, for the HTTP server span's dozen, in a slice of its own
	few          [2]attribute.KeyValue
	events       []event

	droppedAttributes, droppedEvents, droppedLinks int
}

type event struct {
	name       string
	at         time.Time
	attributes []attribute.KeyValue
}

// serverRoom is the room a server span's record makes for its
// attributes: the HTTP server span's dozen or so (see serverAttributes).
const serverRoom = 16

// addAttributes copies kv, as many as the limit leaves room for.
func (r *record) addAttributes(kv []attribute.KeyValue) {
	if room := maxAttributes - len(r.attributes); len(kv) > room {
		r.droppedAttributes += len(kv) - room
		kv = kv[:room]
	}
	r.attributes = append(r.attributes, kv...)
}
