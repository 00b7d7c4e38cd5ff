package legacy

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/trace"

	"opfacade/model"
	"opfacade/tracing"
)

// spanName names the span of a request's work, inside the HTTP request's.
const spanName = "legacy receives"

// startSpan starts the span of r's work, when r is traced, and returns
// r carrying it; otherwise r as it is, with no copy made.
func (h *Handler) startSpan(r *http.Request) (*http.Request, trace.Span) {
	ctx, span := tracing.Start(r.Context(), h.cfg.Tracer, spanName)
	if ctx == r.Context() {
		return r, span
	}
	return r.WithContext(ctx), span
}

// failSpan marks the work's span failed with e: the envelope's code and,
// in English, why.
func failSpan(span trace.Span, e apiError) {
	if !span.IsRecording() {
		return
	}
	why := strconv.Itoa(e.Code)
	if e.reason != "" {
		why += " " + e.reason
	}
	tracing.Fail(span, why)
}

// staffByID calls the resolver of Query.staff in a span named as that
// field, as the GraphQL endpoint's root field spans are (see
// tracing.GraphQL), failed when the call failed.
func (h *Handler) staffByID(ctx context.Context, id string) (_ *model.Staff, err error) {
	ctx, span := tracing.Start(ctx, h.cfg.Tracer, "Query.staff")
	defer func() { tracing.End(span, err) }()
	return h.cfg.Resolvers.StaffByID(ctx, id)
}
