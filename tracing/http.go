package tracing

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// Handler gives each request next serves a span, named by its method and
// the route the mux matched ("POST /query"), continuing the trace of an
// incoming traceparent. The span is in the request's context for what
// next does: put next's access log inside it, so its lines carry the
// trace id. With a nil tp it returns next as it is.
//
// Health probes get no span: they come every few seconds and would
// bury the requests.
func Handler(tp trace.TracerProvider, next http.Handler) http.Handler {
	if tp == nil {
		return next
	}
	return otelhttp.NewHandler(next, "",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(Propagator()),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()), // the facade's metrics are Prometheus's
		otelhttp.WithSpanNameFormatter(spanName),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" }),
	)
}

// spanName is "METHOD route": the pattern the mux matched, once it has
// (otelhttp names the span again after the handler); before, or when no
// route matched, the method alone, so that a name never holds a path a
// client chose.
func spanName(_ string, r *http.Request) string {
	method := knownMethod(r.Method)
	switch {
	case r.Pattern == "":
		return method
	case strings.Contains(r.Pattern, " "): // the pattern names its method: "GET /healthz"
		return r.Pattern
	default:
		return method + " " + r.Pattern
	}
}

// knownMethod is m when it is a standard method, else "HTTP": any token
// is a method to net/http, and span names must stay few.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "HTTP"
}
