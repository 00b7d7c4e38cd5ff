package tracing_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"opfacade/tracing"
)

// TestBatch: ended spans go to the exporter in batches of at most
// MaxBatch, as soon as a batch is full; the rest on a flush or at
// shutdown, after which none is taken. Spans the sampler left out are
// not sent.
func TestBatch(t *testing.T) {
	exp := newBatchExporter()
	var log bytes.Buffer
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracing.Batch(exp,
		tracing.Batching{Delay: time.Hour, MaxBatch: 4}, slog.New(slog.NewTextHandler(&log, nil)))))
	tr := tp.Tracer("test")
	end := func(ctx context.Context, n int) {
		for range n {
			_, s := tr.Start(ctx, "work")
			s.End()
		}
	}

	for range 2 {
		end(context.Background(), 4)
		if n := exp.wait(t); n != 4 {
			t.Errorf("a batch of %d spans, want 4", n)
		}
	}
	end(context.Background(), 1)
	sampledOut := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1},
	}))
	end(sampledOut, 3)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := exp.wait(t); n != 1 {
		t.Errorf("flushed %d spans, want the one left", n)
	}
	end(context.Background(), 2)
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	end(context.Background(), 1)
	if n := exp.wait(t); n != 2 {
		t.Errorf("%d spans sent at shutdown, want 2", n)
	}
	if exp.sent() != 11 || !exp.shut {
		t.Errorf("%d spans sent, exporter shut down: %v; want 11, true", exp.sent(), exp.shut)
	}
	if log.Len() > 0 {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestBatchDelay: a span is sent Delay after the last send, however few
// wait.
func TestBatchDelay(t *testing.T) {
	exp := newBatchExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracing.Batch(exp, tracing.Batching{Delay: time.Millisecond}, slog.New(slog.DiscardHandler))))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, s := tp.Tracer("test").Start(context.Background(), "work")
	s.End()
	if n := exp.wait(t); n != 1 {
		t.Errorf("sent %d spans, want 1", n)
	}
}

// TestBatchDrops: spans that end while MaxQueue wait are dropped; the log
// says so when it starts, and how many were when it stops.
func TestBatchDrops(t *testing.T) {
	exp := newBatchExporter()
	exp.hold = make(chan struct{})
	var log bytes.Buffer
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracing.Batch(exp,
		tracing.Batching{Delay: time.Hour, MaxQueue: 4}, slog.New(slog.NewTextHandler(&log, nil)))))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	end := func(n int) {
		for range n {
			_, s := tp.Tracer("test").Start(context.Background(), "work")
			s.End()
		}
	}

	end(4) // a full batch: the sender takes it and is held sending it
	<-exp.sending
	end(7) // 4 wait, 3 are dropped
	close(exp.hold)
	if n := exp.wait(t); n != 4 {
		t.Fatalf("first batch of %d spans, want 4", n)
	}
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	end(1)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := []int{exp.wait(t), exp.wait(t)}; got[0] != 4 || got[1] != 1 {
		t.Errorf("then batches of %v spans, want 4 and 1", got)
	}
	var msgs []string
	for l := range strings.Lines(log.String()) {
		_, msg, _ := strings.Cut(l, "msg=")
		msgs = append(msgs, strings.TrimSpace(msg))
	}
	if len(msgs) != 2 || !strings.HasPrefix(msgs[0], `"tracing: spans dropped: they end faster than they are sent; see OTEL_BSP_MAX_QUEUE_SIZE" queue=4`) ||
		msgs[1] != `"tracing: spans no longer dropped" dropped=3` {
		t.Errorf("log:\n%s", log.String())
	}
}

// batchExporter tells each batch it is given, by its size.
type batchExporter struct {
	batches chan int
	sending chan struct{} // told as a send starts
	hold    chan struct{} // when not nil, sends wait for it to close

	mu    sync.Mutex
	total int
	shut  bool
}

func newBatchExporter() *batchExporter {
	return &batchExporter{batches: make(chan int, 100), sending: make(chan struct{}, 100)}
}

func (e *batchExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.sending <- struct{}{}
	if e.hold != nil {
		<-e.hold
	}
	e.mu.Lock()
	e.total += len(spans)
	e.mu.Unlock()
	e.batches <- len(spans)
	return nil
}

func (e *batchExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shut = true
	return nil
}

func (e *batchExporter) sent() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.total
}

// wait is the size of the next batch sent.
func (e *batchExporter) wait(t *testing.T) int {
	t.Helper()
	select {
	case n := <-e.batches:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no batch sent")
		return 0
	}
}
