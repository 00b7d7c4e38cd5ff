package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestReportingExporter: a collector that refuses spans is logged once
// when it starts, and once when it takes them again, with how many were
// lost; the batcher is told nothing went wrong.
func TestReportingExporter(t *testing.T) {
	var refuse atomic.Bool
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			http.Error(w, "refused", http.StatusBadRequest) // not retried
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer col.Close()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(col.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r := &reporting{SpanExporter: exp, log: slog.New(slog.NewTextHandler(&buf, nil))}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(r))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	span := func() {
		_, s := tp.Tracer("test").Start(context.Background(), "work")
		s.End()
	}

	span()
	refuse.Store(true)
	span()
	span()
	refuse.Store(false)
	span()
	span()
	var got []string
	for l := range strings.Lines(buf.String()) {
		_, msg, _ := strings.Cut(l, "msg=")
		got = append(got, strings.TrimSpace(msg))
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], `"tracing: spans not sent; the collector does not take them" err=`) || got[1] != `"tracing: spans sent again" dropped=2` {
		t.Errorf("log lines:\n%s", buf.String())
	}
}
