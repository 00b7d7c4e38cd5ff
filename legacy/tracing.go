package legacy

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/trace"

	"opfacade/tracing"
)

// spanName names the span of a request's work, inside the HTTP request's.
const spanName = "legacy receives"

// startSpan starts the span of r's work, when tracing is on, and returns
// r carrying it; off, r as it is, with no copy made.
func (h *Handler) startSpan(r *http.Request) (*http.Request, trace.Span) {
	ctx, span := tracing.Start(r.Context(), h.cfg.Tracer, spanName)
	if h.cfg.Tracer == nil {
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

// endResolverSpan ends the span of a resolver call, named as the GraphQL
// field it answers ("Staff.chats") as the GraphQL endpoint's spans are,
// failed when the call failed.
func endResolverSpan(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		tracing.Fail(span, err.Error())
	}
	span.End()
}
