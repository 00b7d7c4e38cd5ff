package tracing

import (
	"context"
	"log/slog"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// reporting is an exporter that logs its failures where the facade logs,
// a line when exports start failing and one when they succeed again,
// never a line per batch. The error is not passed on: it is told here,
// and an SDK processor would hand it to the SDK's global error handler,
// which writes plain lines to stderr in the middle of the JSON log.
type reporting struct {
	sdktrace.SpanExporter
	log *slog.Logger

	mu      sync.Mutex
	dropped int // spans of the failed batches since the last success
}

func (r *reporting) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := r.SpanExporter.ExportSpans(ctx, spans)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && r.dropped == 0:
		r.log.Warn("tracing: spans not sent; the collector does not take them", "err", err)
		r.dropped += len(spans)
	case err != nil:
		r.dropped += len(spans)
	case r.dropped > 0:
		r.log.Info("tracing: spans sent again", "dropped", r.dropped)
		r.dropped = 0
	}
	return nil
}
