package legacy

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/trace"

	"opfacade/tracing"
)

// failSpan marks the request's span (see tracing.Handler) failed with e:
// the envelope's code and, in English, why. The request's work has no
// span of its own: it would be the request's, less reading the body,
// and a span costs the request more than anything else tracing does; the
// resolvers it calls and their statements are inside the request's.
func failSpan(r *http.Request, e apiError) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	why := strconv.Itoa(e.Code)
	if e.reason != "" {
		why += " " + e.reason
	}
	tracing.Fail(span, why)
}
