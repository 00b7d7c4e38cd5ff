package tracing_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"opfacade/tracing"
)

// TestHandlerSpanNames: a request's span is named by its method and the
// route matched, through a mux inside a mux, never by the path a client
// sent; health probes get none.
func TestHandlerSpanNames(t *testing.T) {
	inner := http.NewServeMux()
	inner.HandleFunc("GET /{$}", func(http.ResponseWriter, *http.Request) {})
	inner.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	inner.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	mux := http.NewServeMux()
	mux.HandleFunc("/query", func(http.ResponseWriter, *http.Request) {})
	mux.Handle("/", inner)
	exp := tracetest.NewInMemoryExporter()
	h := tracing.Handler(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)), mux)

	for _, r := range []struct{ method, path string }{
		{"POST", "/query"},
		{"GET", "/"},
		{"GET", "/no/such/page"},
		{"BREW", "/query"},
		{"GET", "/healthz"},
		{"GET", "/readyz"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
	}
	var got []string
	for _, s := range exp.GetSpans() {
		got = append(got, s.Name)
	}
	want := []string{"POST /query", "GET /{$}", "GET", "HTTP /query"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("span names (-want +got):\n%s", diff)
	}
}

// TestHandlerOff: without a provider the handler is the mux itself.
func TestHandlerOff(t *testing.T) {
	mux := http.NewServeMux()
	if h := tracing.Handler(nil, mux); h != http.Handler(mux) {
		t.Errorf("Handler(nil, mux) = %T, want the mux", h)
	}
}
