package tracing

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Handler gives each request next serves a span, named by its method and
// the route the mux matched ("POST /query"), continuing the trace of an
// incoming traceparent (W3C trace context and baggage). The span is in
// the request's context for what next does: put next's access log inside
// it, so its lines carry the trace id. With a nil tp it returns next as
// it is.
//
// The span is an HTTP server span as OpenTelemetry's semantic
// conventions describe it, with their attributes (method, scheme, path,
// route, status code, server, client and peer addresses, user agent,
// protocol version). It is made here rather than by otelhttp, which
// cost three times the allocations and about four times the CPU: its
// attributes, computed and copied even for a request the sampler leaves
// out, the metrics it records whatever the meter, and a wrapper per
// response. A request left out pays here for its context alone.
//
// Health probes get no span: they come every few seconds and would
// bury the requests.
func Handler(tp trace.TracerProvider, next http.Handler) http.Handler {
	if tp == nil {
		return next
	}
	return &server{
		tracer:     tp.Tracer("opfacade/http"),
		propagator: Propagator(),
		next:       next,
	}
}

type server struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	next       http.Handler
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		s.next.ServeHTTP(w, r)
		return
	}
	ctx := s.propagator.Extract(r.Context(), headerCarrier(r.Header))
	ctx, span := begin(ctx, trace.SpanContextFromContext(ctx), s.tracer, spanStart{name: spanName(r), kind: trace.SpanKindServer})
	defer span.End()
	r = r.WithContext(ctx)
	if !span.IsRecording() { // the sampler left it out: nothing to describe
		s.next.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	s.next.ServeHTTP(sw, r)
	// The mux set the route on r as it matched one.
	if r.Pattern != "" {
		span.SetName(spanName(r))
	}
	attrs := attributesPool.Get().(*[]attribute.KeyValue)
	*attrs = serverAttributes((*attrs)[:0], r, sw.status())
	span.SetAttributes(*attrs...) // the span copies them
	clear(*attrs)                 // nothing of the request stays in the pool
	attributesPool.Put(attrs)
	if sw.status() >= http.StatusInternalServerError && !failed(span) {
		span.SetStatus(codes.Error, "")
	}
}

// failed reports whether span was marked failed already, by the work
// inside it (the legacy path says why there): an error status set again
// would lose that description. The Recorder's spans tell their status as
// the SDK's do.
func failed(s trace.Span) bool {
	if s, ok := s.(*span); ok { // the Recorder's, without an interface lookup
		return s.Status().Code == codes.Error
	}
	other, ok := s.(interface{ Status() sdktrace.Status })
	return ok && other.Status().Code == codes.Error
}

// attributesPool holds the slices the spans' attributes are put
// together in, reused since a span copies what it is given: a request's
// dozen attributes would otherwise cost a slice of about a kilobyte.
var attributesPool = sync.Pool{New: func() any {
	attrs := make([]attribute.KeyValue, 0, 16)
	return &attrs
}}

// serverAttributes appends to attrs the attributes that describe the
// request r answered with status, as the HTTP server span's conventions
// list them.
func serverAttributes(attrs []attribute.KeyValue, r *http.Request, status int) []attribute.KeyValue {
	method := knownMethod(r.Method)
	if method == "HTTP" {
		attrs = append(attrs, semconv.HTTPRequestMethodOther, semconv.HTTPRequestMethodOriginal(r.Method))
	} else {
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String(method))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, semconv.URLScheme(scheme), semconv.URLPath(r.URL.Path), semconv.HTTPResponseStatusCode(status))
	if route := route(r.Pattern); route != "" {
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	if status >= http.StatusInternalServerError {
		attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(status)))
	}
	if host, port := hostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPort(port))
		}
	}
	peer, peerPort := hostPort(r.RemoteAddr)
	if peer != "" {
		attrs = append(attrs, semconv.NetworkPeerAddress(peer), semconv.NetworkPeerPort(peerPort))
	}
	if client := clientAddress(r, peer); client != "" {
		attrs = append(attrs, semconv.ClientAddress(client))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if _, version, ok := strings.Cut(r.Proto, "/"); ok {
		attrs = append(attrs, semconv.NetworkProtocolVersion(version))
	}
	return attrs
}

// route is the path of a mux pattern: "/query" of "POST /query".
func route(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// hostPort splits "host:port"; the port is 0 when there is none.
func hostPort(hp string) (string, int) {
	if !strings.Contains(hp, ":") { // a host alone: SplitHostPort's error would cost an allocation
		return hp, 0
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// clientAddress is the client's address as the first proxy in front saw
// it (X-Forwarded-For), else the peer's.
func clientAddress(r *http.Request, peer string) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		return strings.TrimSpace(first)
	}
	return peer
}

// statusWriter notes the status of the response written through it.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) { // not an interim 100 or 103
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer underneath, to
// flush or take the connection over.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status is the response's status: 200 when nothing was written, as
// net/http then answers.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// spanName is "METHOD route": the pattern the mux matched, once it has;
// before, or when no route matched, the method alone, so that a name
// never holds a path a client chose.
func spanName(r *http.Request) string {
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

// headerCarrier is propagation.HeaderCarrier that finds the propagators'
// headers under their canonical keys as they are: http.Header.Get would
// make "Traceparent" of "traceparent" anew, an allocation a header a
// request.
type headerCarrier http.Header

func (h headerCarrier) Get(key string) string {
	if v := h[canonicalKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h headerCarrier) Values(key string) []string { return h[canonicalKey(key)] }

func (h headerCarrier) Set(key, value string) { http.Header(h).Set(key, value) }

func (h headerCarrier) Keys() []string { return propagation.HeaderCarrier(h).Keys() }

// canonicalKey is key as net/http keeps it.
func canonicalKey(key string) string {
	switch key {
	case "traceparent":
		return "Traceparent"
	case "tracestate":
		return "Tracestate"
	case "baggage":
		return "Baggage"
	}
	return http.CanonicalHeaderKey(key)
}
