package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.opentelemetry.io/otel/attribute"
	otelbaggage "go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"opfacade/tracing"
	"opfacade/tracing/tracingtest"
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
	tp, client := newRecorder(t, tracing.Options{})
	h := tracing.Handler(tp, mux)

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
	for _, s := range sent(t, tp, client) {
		got = append(got, s.Name)
	}
	want := []string{"POST /query", "GET /{$}", "GET", "HTTP /query"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("span names (-want +got):\n%s", diff)
	}
}

// TestHandlerSpan: a request's span is a server span in the caller's
// trace (W3C traceparent; its baggage reaches the handler too), with the
// HTTP server attributes of the semantic conventions; a 5xx answer is an
// error, keeping why when the work inside said it, and a method net/http
// takes but HTTP does not define is _OTHER. A request whose caller did
// not sample its trace still carries that trace to the handler, and gets
// no span.
func TestHandlerSpan(t *testing.T) {
	var baggage string
	var traceID trace.TraceID
	mux := http.NewServeMux()
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		baggage = otelbaggage.FromContext(r.Context()).Member("console").Value()
		traceID = trace.SpanContextFromContext(r.Context()).TraceID()
		if why := r.Header.Get("X-Fail"); why != "" {
			// The work says why it failed: the 503 does not make that "".
			tracing.Fail(trace.SpanFromContext(r.Context()), why)
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	tp, client := newRecorder(t, tracing.Options{})
	h := tracing.Handler(tp, mux)
	serve := func(method, traceparent string, header ...string) {
		r := httptest.NewRequest(method, "http://facade.example:8080/query?query=%7Bme%7Bid%7D%7D", nil)
		r.RemoteAddr = "10.0.0.7:51000"
		r.Header.Set("traceparent", traceparent)
		r.Header.Set("baggage", "console=ops")
		r.Header.Set("User-Agent", "console/2.1")
		for i := 0; i < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

	serve(http.MethodGet, caller, "X-Forwarded-For", "203.0.113.9, 10.0.0.1")
	serve("BREW", caller, "X-Fail", "503 busy")
	serve(http.MethodGet, "00-4bf92f3577b34da6a3ce929d0e0e4799-00f067aa0ba902b7-00")
	if baggage != "ops" || traceID.String() != "4bf92f3577b34da6a3ce929d0e0e4799" {
		t.Errorf("the handler saw baggage %q and trace %s, want the caller's", baggage, traceID)
	}
	spans := sent(t, tp, client)
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2: none for the trace not sampled", len(spans))
	}
	common := []attribute.KeyValue{
		attribute.String("url.scheme", "http"),
		attribute.String("url.path", "/query"),
		attribute.String("http.route", "/query"),
		attribute.String("server.address", "facade.example"),
		attribute.Int("server.port", 8080),
		attribute.String("network.peer.address", "10.0.0.7"),
		attribute.Int("network.peer.port", 51000),
		attribute.String("user_agent.original", "console/2.1"),
		attribute.String("network.protocol.version", "1.1"),
	}
	for i, want := range []struct {
		name   string
		status codes.Code
		why    string
		attrs  []attribute.KeyValue
	}{
		{"GET /query", codes.Unset, "", append([]attribute.KeyValue{
			attribute.String("http.request.method", "GET"),
			attribute.Int("http.response.status_code", 200),
			attribute.String("client.address", "203.0.113.9"),
		}, common...)},
		{"HTTP /query", codes.Error, "503 busy", append([]attribute.KeyValue{
			attribute.String("http.request.method", "_OTHER"),
			attribute.String("http.request.method_original", "BREW"),
			attribute.Int("http.response.status_code", 503),
			attribute.String("error.type", "503"),
			attribute.String("client.address", "10.0.0.7"),
		}, common...)},
	} {
		s := spans[i]
		if s.Name != want.name || s.Kind != trace.SpanKindServer || s.Status != want.status || s.Description != want.why {
			t.Errorf("span %s, kind %v, status %v %q; want %s, server, %v %q", s.Name, s.Kind, s.Status, s.Description, want.name, want.status, want.why)
		}
		if s.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent.String() != "00f067aa0ba902b7" || !s.RemoteParent {
			t.Errorf("span %s: trace %v, parent %v (remote %v), want the caller's span", s.Name, s.TraceID, s.Parent, s.RemoteParent)
		}
		if s.Proto.Kind != tracepb.Span_SPAN_KIND_SERVER {
			t.Errorf("span %s: OTLP kind %v, want server", s.Name, s.Proto.Kind)
		}
		byKey := func(a, b attribute.KeyValue) bool { return a.Key < b.Key }
		if diff := cmp.Diff(want.attrs, s.Attributes, cmpopts.SortSlices(byKey), cmp.Comparer(func(a, b attribute.Value) bool { return a == b })); diff != "" {
			t.Errorf("span %s attributes (-want +got):\n%s", s.Name, diff)
		}
	}
}

// TestHandlerOff: without a provider the handler is the mux itself.
func TestHandlerOff(t *testing.T) {
	mux := http.NewServeMux()
	if h := tracing.Handler(nil, mux); h != http.Handler(mux) {
		t.Errorf("Handler(nil, mux) = %T, want the mux", h)
	}
}

// BenchmarkHandler is what a request's span costs: go test -run '^$'
// -bench Handler -benchmem ./tracing. A request the sampler leaves out
// (its caller's traceparent says so) should cost next to nothing.
func BenchmarkHandler(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{}}`))
	})
	tp := tracing.NewRecorder(tracingtest.Discard{}, tracing.Options{})
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	on := tracing.Handler(tp, mux)
	for _, tc := range []struct {
		name, traceparent string
		h                 http.Handler
	}{
		{"off", "", mux},
		{"sampled", "", on},
		{"sampled_out", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", on},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{me{id}}"}`))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("User-Agent", "console/1.0")
				if tc.traceparent != "" {
					r.Header.Set("traceparent", tc.traceparent)
				}
				tc.h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}
