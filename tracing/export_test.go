package tracing_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"opfacade/tracing"
)

// TestReportSend: a collector that refuses spans is logged once when it
// starts, and once when it takes them again, with how many were lost.
func TestReportSend(t *testing.T) {
	var refuse atomic.Bool
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			http.Error(w, "refused", http.StatusBadRequest) // not retried
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer col.Close()
	client := otlptracehttp.NewClient(otlptracehttp.WithEndpointURL(col.URL + "/v1/traces"))
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tp := tracing.NewRecorder(client, tracing.Options{Batching: tracing.Batching{Delay: time.Hour}, Log: slog.New(slog.NewTextHandler(&buf, nil))})
	defer func() { _ = tp.Shutdown(context.Background()) }()
	send := func() {
		_, s := tp.Tracer("test").Start(context.Background(), "work")
		s.End()
		if err := tp.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	send()
	refuse.Store(true)
	send()
	send()
	refuse.Store(false)
	send()
	send()
	var got []string
	for l := range strings.Lines(buf.String()) {
		_, msg, _ := strings.Cut(l, "msg=")
		got = append(got, strings.TrimSpace(msg))
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], `"tracing: spans not sent; the collector does not take them" err=`) || got[1] != `"tracing: spans sent again" dropped=2` {
		t.Errorf("log lines:\n%s", buf.String())
	}
}
