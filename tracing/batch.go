package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Batching is how spans are sent: in batches, as the standard OTEL_BSP_
// variables say (see batchingFromEnv). Zero fields take the
// specification's defaults.
type Batching struct {
	Delay    time.Duration // between two sends: OTEL_BSP_SCHEDULE_DELAY, 5s
	Timeout  time.Duration // of a send: OTEL_BSP_EXPORT_TIMEOUT, 30s
	MaxQueue int           // spans kept to send, past which they are dropped: OTEL_BSP_MAX_QUEUE_SIZE, 2048
	MaxBatch int           // spans a send at most: OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512
}

func (b Batching) withDefaults() Batching {
	if b.Delay <= 0 {
		b.Delay = 5 * time.Second
	}
	if b.Timeout <= 0 {
		b.Timeout = 30 * time.Second
	}
	if b.MaxQueue <= 0 {
		b.MaxQueue = 2048
	}
	if b.MaxBatch <= 0 {
		b.MaxBatch = 512
	}
	b.MaxBatch = min(b.MaxBatch, b.MaxQueue)
	return b
}

// batchingFromEnv reads the OTEL_BSP_ variables: durations in
// milliseconds, sizes in spans, each a positive integer when set.
func batchingFromEnv(getenv func(string) string) (Batching, error) {
	var b Batching
	for _, v := range []struct {
		name string
		set  func(n int)
	}{
		{"OTEL_BSP_SCHEDULE_DELAY", func(n int) { b.Delay = time.Duration(n) * time.Millisecond }},
		{"OTEL_BSP_EXPORT_TIMEOUT", func(n int) { b.Timeout = time.Duration(n) * time.Millisecond }},
		{"OTEL_BSP_MAX_QUEUE_SIZE", func(n int) { b.MaxQueue = n }},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", func(n int) { b.MaxBatch = n }},
	} {
		s := strings.TrimSpace(getenv(v.name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return Batching{}, fmt.Errorf("%s=%q: want a positive integer", v.name, s)
		}
		v.set(n)
	}
	return b, nil
}

// sender hands the records of the spans that end to a Client, converted
// to OTLP, in batches: when MaxBatch of them wait, or Delay after the
// last send. It wakes its goroutine once a batch rather than once a
// span: waking a goroutine for each of the six or so spans of a request
// costs more CPU than the spans themselves. Spans beyond MaxQueue are
// dropped; the log says when that starts and when it stops.
type sender struct {
	client Client
	cfg    Batching
	log    *slog.Logger

	mu      sync.Mutex
	queue   []*record
	dropped int // spans dropped since the last send

	send     sync.Mutex // held by the one sending
	otlp     *otlpSpans // under send
	spare    []*record  // the queue to be, under send
	dropping int        // spans dropped since drops started, under send
	failed   int        // spans of the batches not sent since sends started failing, under send

	sent atomic.Int64 // spans handed to the client, or ended with none

	ready   chan struct{} // a batch waits
	stop    chan struct{}
	done    chan struct{}
	stopped atomic.Bool
}

func newSender(client Client, b Batching, otlp *otlpSpans, log *slog.Logger) *sender {
	b = b.withDefaults()
	s := &sender{
		client: client,
		cfg:    b,
		log:    log,
		otlp:   otlp,
		queue:  make([]*record, 0, b.MaxQueue),
		spare:  make([]*record, 0, b.MaxQueue),
		ready:  make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go s.run()
	return s
}

// add queues the record of a span that ended, or drops it when the
// queue is full or the sender stopped.
func (s *sender) add(r *record) {
	s.mu.Lock()
	stopped := s.stopped.Load()
	if stopped || len(s.queue) == s.cfg.MaxQueue {
		if !stopped { // after shutdown, nothing is told any more
			s.dropped++
		}
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, r)
	full := len(s.queue) == s.cfg.MaxBatch
	s.mu.Unlock()
	if full {
		select {
		case s.ready <- struct{}{}:
		default: // the sender has been told already
		}
	}
}

// run sends what waits, every Delay or as soon as a batch is full, until
// shutdown.
func (s *sender) run() {
	defer close(s.done)
	t := time.NewTimer(s.cfg.Delay)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.ready:
		}
		s.flush(context.Background())
		t.Reset(s.cfg.Delay)
	}
}

// flush sends every span waiting, in batches of MaxBatch, each within
// Timeout and ctx. The spans of a batch that was not sent are not sent
// again (see reportSend).
func (s *sender) flush(ctx context.Context) {
	s.send.Lock()
	defer s.send.Unlock()
	s.mu.Lock()
	recs, dropped := s.queue, s.dropped
	s.queue, s.spare, s.dropped = s.spare, nil, 0
	s.mu.Unlock()
	s.reportDrops(dropped)
	for batch := range slices.Chunk(recs, s.cfg.MaxBatch) {
		s.upload(ctx, batch)
	}
	clear(recs)
	s.spare = recs[:0]
}

// upload converts batch to OTLP and sends it. With no client, the spans
// end there, as they would in a no-op exporter.
func (s *sender) upload(ctx context.Context, batch []*record) {
	s.sent.Add(int64(len(batch)))
	if s.client == nil {
		return
	}
	spans := s.otlp.convert(batch)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	err := s.client.UploadTraces(ctx, spans)
	cancel()
	s.otlp.reset()
	s.reportSend(err, len(batch))
}

// reportDrops logs a line when spans start being dropped, and one when
// none was since the last send, with how many were: a line a spell of
// drops, not a line a send.
func (s *sender) reportDrops(dropped int) {
	switch {
	case dropped > 0:
		if s.dropping == 0 {
			s.log.Warn("tracing: spans dropped: they end faster than they are sent; see OTEL_BSP_MAX_QUEUE_SIZE", "queue", s.cfg.MaxQueue)
		}
		s.dropping += dropped
	case s.dropping > 0:
		s.log.Info("tracing: spans no longer dropped", "dropped", s.dropping)
		s.dropping = 0
	}
}

// forceFlush sends every span waiting now.
func (s *sender) forceFlush(ctx context.Context) error {
	s.flush(ctx)
	return ctx.Err()
}

// shutdown stops the sender and sends what waits. Spans that end after
// it are dropped.
func (s *sender) shutdown(ctx context.Context) error {
	s.mu.Lock()
	already := s.stopped.Swap(true)
	s.mu.Unlock()
	if already {
		return nil
	}
	close(s.stop)
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.flush(ctx)
	return ctx.Err()
}
