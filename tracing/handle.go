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

// span is a Recorder's span: what the instrumentation holds and the
// context carries. Its SpanContext never changes, so a context that holds
// it stays valid after End (the access log reads the trace id of a
// request's span once it has ended). What it records is in rec, a pooled
// record, until End detaches it and hands it to the sender; a span the
// sampler left out never has one. Its methods are safe to call from
// several goroutines, during and after End.
type span struct {
	embedded.Span
	recorder *Recorder
	sc       trace.SpanContext
	rec      atomic.Pointer[record]
}

func (s *span) SpanContext() trace.SpanContext       { return s.sc }
func (s *span) IsRecording() bool                    { return s.rec.Load() != nil }
func (s *span) TracerProvider() trace.TracerProvider { return s.recorder }

// lock is the span's record, locked, while the span records; nil once it
// has ended, or when it never recorded. The record may have been handed
// on and reused between the load and the lock: it is the span's only if
// the span still holds it once locked.
func (s *span) lock() *record {
	r := s.rec.Load()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	if s.rec.Load() != r {
		r.mu.Unlock()
		return nil
	}
	return r
}

func (s *span) SetName(name string) {
	if r := s.lock(); r != nil {
		r.name = name
		r.mu.Unlock()
	}
}

// SetAttributes copies kv into the record; a key set twice keeps its
// last value (the sender drops the earlier ones).
func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	if r := s.lock(); r != nil {
		r.addAttributes(kv)
		r.mu.Unlock()
	}
}

// SetStatus sets the status as the specification says: Ok is final,
// Unset changes nothing, and only an error keeps a description.
func (s *span) SetStatus(code codes.Code, description string) {
	r := s.lock()
	if r == nil {
		return
	}
	defer r.mu.Unlock()
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
	r := s.lock()
	if r == nil {
		return sdktrace.Status{}
	}
	defer r.mu.Unlock()
	return r.status
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
	r := s.lock()
	if r == nil {
		return
	}
	defer r.mu.Unlock()
	if len(r.events) == maxEvents {
		r.droppedEvents++
		return
	}
	r.events = append(r.events, event{name: name, at: at, attributes: attrs})
}

// AddLink counts the link as dropped: the facade links no spans.
func (s *span) AddLink(trace.Link) {
	if r := s.lock(); r != nil {
		r.droppedLinks++
		r.mu.Unlock()
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
	r := s.lock()
	if r == nil {
		return // ended meanwhile
	}
	s.rec.Store(nil)
	r.end = end
	r.mu.Unlock()
	s.recorder.ended(r)
}

// record is what a span records, from its start to the sender, which
// converts it and puts it back in the pool.
type record struct {
	mu sync.Mutex // held by the span's methods; never reset, as a late one may be waiting on it
	recorded
}

// recorded is a record's content.
type recorded struct {
	tracer       *tracer
	name         string
	kind         trace.SpanKind
	sc           trace.SpanContext
	parent       trace.SpanID // zero for a root
	remoteParent bool
	start, end   time.Time
	status       sdktrace.Status
	attributes   []attribute.KeyValue
	events       []event

	droppedAttributes, droppedEvents, droppedLinks int
}

type event struct {
	name       string
	at         time.Time
	attributes []attribute.KeyValue
}

// The records not in use, in two pools by the room they keep for
// attributes: the HTTP server span's dozen or so, the other spans' one
// or two. The GC reads every slot of a record's attributes, used or not,
// while the record waits in the sender's queue or in a pool: a statement
// span's record with room for a dozen would cost it a dozen.
//
// A span's record costs no allocation once the sender has handed back as
// many as are under way. Pooled, the records cost less than allocated
// with their spans: the bytes a request allocates set how often the GC
// reads the whole heap.
const fewAttributes = 4

var (
	smallRecords = sync.Pool{New: func() any { return newRecordWithRoom(fewAttributes) }}
	largeRecords = sync.Pool{New: func() any { return newRecordWithRoom(16) }}
)

func newRecordWithRoom(n int) *record {
	return &record{recorded: recorded{attributes: make([]attribute.KeyValue, 0, n)}}
}

// newRecord is a record for a span of kind: a large one for a server
// span.
func newRecord(kind trace.SpanKind) *record {
	if kind == trace.SpanKindServer {
		return largeRecords.Get().(*record)
	}
	return smallRecords.Get().(*record)
}

// release puts r back in the pool its room is for. The attributes it
// held go, and with them what they kept of their request; the rest of
// what it holds of its span, names and ids, stays until the next span
// that takes it sets it whole (see tracer.start).
func (r *record) release() {
	clear(r.attributes)
	if cap(r.attributes) > fewAttributes {
		largeRecords.Put(r)
		return
	}
	smallRecords.Put(r)
}

// addAttributes copies kv, as many as the limit leaves room for.
func (r *record) addAttributes(kv []attribute.KeyValue) {
	if room := maxAttributes - len(r.attributes); len(kv) > room {
		r.droppedAttributes += len(kv) - room
		kv = kv[:room]
	}
	r.attributes = append(r.attributes, kv...)
}
