package tracing_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"opfacade/tracing"
)

// TestBatch: ended spans go to the client in batches of at most
// MaxBatch, as soon as a batch is full; the rest on a flush or at
// shutdown, after which none is taken. Spans the sampler left out are
// not sent.
func TestBatch(t *testing.T) {
	client := newBatchClient()
	var log bytes.Buffer
	tp := tracing.NewRecorder(client, tracing.Options{Batching: tracing.Batching{Delay: time.Hour, MaxBatch: 4}, Log: slog.New(slog.NewTextHandler(&log, nil))})
	tr := tp.Tracer("test")
	end := func(ctx context.Context, n int) {
		for range n {
			_, s := tr.Start(ctx, "work")
			s.End()
		}
	}

	for range 2 {
		end(context.Background(), 4)
		if n := client.wait(t); n != 4 {
			t.Errorf("a batch of %d spans, want 4", n)
		}
	}
	end(context.Background(), 1)
	end(notSampled(), 3)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := client.wait(t); n != 1 {
		t.Errorf("flushed %d spans, want the one left", n)
	}
	end(context.Background(), 2)
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	end(context.Background(), 1)
	if n := client.wait(t); n != 2 {
		t.Errorf("%d spans sent at shutdown, want 2", n)
	}
	if client.sent() != 11 || tp.Sent() != 11 {
		t.Errorf("%d spans sent, the recorder says %d: want 11", client.sent(), tp.Sent())
	}
	if log.Len() > 0 {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestBatchNoClient: with no client, spans are recorded and batched as
// with one, and dropped where a client would take them (as a no-op
// exporter drops them): counted by Sent, the sampler's choice kept, no
// line logged.
func TestBatchNoClient(t *testing.T) {
	var log bytes.Buffer
	tp := tracing.NewRecorder(nil, tracing.Options{Batching: tracing.Batching{Delay: time.Hour, MaxBatch: 4}, Log: slog.New(slog.NewTextHandler(&log, nil))})
	tr := tp.Tracer("test")
	for _, ctx := range []context.Context{context.Background(), notSampled()} {
		for range 6 {
			_, s := tr.Start(ctx, "work")
			if s.IsRecording() != (ctx == context.Background()) {
				t.Fatalf("span recording %v, want it for the sampled trace alone", s.IsRecording())
			}
			s.End()
		}
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tp.Sent() != 6 {
		t.Errorf("%d spans ended at the sender, want the 6 sampled", tp.Sent())
	}
	if log.Len() > 0 {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestBatchDelay: a span is sent Delay after the last send, however few
// wait.
func TestBatchDelay(t *testing.T) {
	client := newBatchClient()
	tp := tracing.NewRecorder(client, tracing.Options{Batching: tracing.Batching{Delay: time.Millisecond}})
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, s := tp.Tracer("test").Start(context.Background(), "work")
	s.End()
	if n := client.wait(t); n != 1 {
		t.Errorf("sent %d spans, want 1", n)
	}
}

// TestBatchDrops: spans that end while MaxQueue wait are dropped; the log
// says so when it starts, and how many were when it stops.
func TestBatchDrops(t *testing.T) {
	client := newBatchClient()
	client.hold = make(chan struct{})
	var log bytes.Buffer
	tp := tracing.NewRecorder(client, tracing.Options{Batching: tracing.Batching{Delay: time.Hour, MaxQueue: 4}, Log: slog.New(slog.NewTextHandler(&log, nil))})
	defer func() { _ = tp.Shutdown(context.Background()) }()
	end := func(n int) {
		for range n {
			_, s := tp.Tracer("test").Start(context.Background(), "work")
			s.End()
		}
	}

	end(4) // a full batch: the sender takes it and is held sending it
	<-client.sending
	end(7) // 4 wait, 3 are dropped
	close(client.hold)
	if n := client.wait(t); n != 4 {
		t.Fatalf("first batch of %d spans, want 4", n)
	}
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	end(1)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := []int{client.wait(t), client.wait(t)}; got[0] != 4 || got[1] != 1 {
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

// notSampled is the context of a caller's span whose trace is not
// sampled.
func notSampled() context.Context {
	return trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, // flags 0: not sampled
	}))
}

// batchClient tells each batch it is given, by its number of spans.
type batchClient struct {
	batches chan int
	sending chan struct{} // told as a send starts
	hold    chan struct{} // when not nil, sends wait for it to close

	mu    sync.Mutex
	total int
}

func newBatchClient() *batchClient {
	return &batchClient{batches: make(chan int, 100), sending: make(chan struct{}, 100)}
}

func (c *batchClient) UploadTraces(_ context.Context, spans []*tracepb.ResourceSpans) error {
	c.sending <- struct{}{}
	if c.hold != nil {
		<-c.hold
	}
	n := countSpans(spans)
	c.mu.Lock()
	c.total += n
	c.mu.Unlock()
	c.batches <- n
	return nil
}

func countSpans(spans []*tracepb.ResourceSpans) int {
	n := 0
	for _, rs := range spans {
		for _, ss := range rs.ScopeSpans {
			n += len(ss.Spans)
		}
	}
	return n
}

func (c *batchClient) sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// wait is the number of spans of the next batch sent.
func (c *batchClient) wait(t *testing.T) int {
	t.Helper()
	select {
	case n := <-c.batches:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no batch sent")
		return 0
	}
}
