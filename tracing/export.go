package tracing

import (
	"context"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Client sends spans, converted to OTLP, to a collector: in the server,
// otlptracehttp's client (an otlptrace.Client), which reads the
// OTEL_EXPORTER_OTLP_ variables itself; in tests and the benchmark, one
// that keeps or counts them. UploadTraces must not keep spans, or
// anything in them, once it returns: the sender reuses the messages for
// its next batch (otlptracehttp's writes them out first).
type Client interface {
	UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error
}

// reportSend logs a line when sends start failing and one when they
// succeed again, with how many spans were lost: a line a spell of
// failures, never a line a batch. The client's own error handling
// (otlptracehttp's retries) has run by then.
func (s *sender) reportSend(err error, spans int) {
	switch {
	case err != nil && s.failed == 0:
		s.log.Warn("tracing: spans not sent; the collector does not take them", "err", err)
		s.failed += spans
	case err != nil:
		s.failed += spans
	case s.failed > 0:
		s.log.Info("tracing: spans sent again", "dropped", s.failed)
		s.failed = 0
	}
}
