package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"opfacade/app/apptest"
)

// noTracing empties the tracing variables the test's own environment may
// have, so that the command sees none of them (the last value of a
// variable wins).
var noTracing = []string{
	"OTEL_SDK_DISABLED=", "OTEL_TRACES_EXPORTER=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=",
	"OTEL_EXPORTER_OTLP_PROTOCOL=", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=", "OTEL_SERVICE_NAME=", "OTEL_RESOURCE_ATTRIBUTES=",
	"OTEL_TRACES_SAMPLER=", "OTEL_TRACES_SAMPLER_ARG=",
}

// TestCommandTracing runs the command with OTEL_EXPORTER_OTLP_ENDPOINT
// naming a collector the test serves (OTLP/HTTP, protobuf), sends a
// request from a trace of its own, and stops the command: the spans of
// the request arrive, flushed at exit, under the service name set and in
// the client's trace. Without the variables, the command sends nothing,
// not even to the default endpoint.
func TestCommandTracing(t *testing.T) {
	bin := buildCommand(t)
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	const traceID, parentID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"

	t.Run("spans go to the collector the variables name", func(t *testing.T) {
		col := newCollector(t, "127.0.0.1:0")
		env := append(noTracing, "OTEL_EXPORTER_OTLP_ENDPOINT="+col.url, "OTEL_SERVICE_NAME=opfacade-test")
		s := startCommand(t, bin, t.TempDir(), env, "-db", db, "-drain", "0")
		sendTraced(t, s.base, "00-"+traceID+"-"+parentID+"-01")
		s.stop(t, 0)
		if !strings.Contains(s.stderr.String(), `"msg":"tracing on: spans go over OTLP/HTTP","endpoint":"`+col.url+`/v1/traces","service":"opfacade-test"`) {
			t.Errorf("the log does not say where spans go:\n%s", s.stderr)
		}

		version := strings.Fields(runCommand(t, bin, t.TempDir(), nil, "-version").stdout)[1]
		spans := col.spans()
		wantTreeOf(t, spans, parentID)
		var got []string
		for _, sp := range spans {
			if fmt.Sprintf("%x", sp.span.TraceId) != traceID {
				t.Errorf("span %s in trace %x, want the client's %s", sp.span.Name, sp.span.TraceId, traceID)
			}
			if sp.service != "opfacade-test" || sp.version != version || sp.sdk != "opfacade" {
				t.Errorf("span %s of service %q %q recorded by %q, want opfacade-test %q recorded by opfacade", sp.span.Name, sp.service, sp.version, sp.sdk, version)
			}
			if sp.span.Name == "POST /query" && fmt.Sprintf("%x", sp.span.ParentSpanId) != parentID {
				t.Errorf("POST /query: parent %x, want the client's span %s", sp.span.ParentSpanId, parentID)
			}
			got = append(got, sp.span.Name)
		}
		slices.Sort(got)
		want := []string{"POST /query", "Staff.chats", "chats by staff", "query Me", "staff by token"}
		if !slices.Equal(got, want) {
			t.Errorf("spans %q, want %q", got, want)
		}
	})

	t.Run("without the variables nothing is sent", func(t *testing.T) {
		// Where the exporter sends by default: were tracing on, spans
		// would come here.
		var cols []*collector
		for _, addr := range []string{"127.0.0.1:4318", "[::1]:4318"} {
			if c, err := listenCollector(t, addr); err == nil {
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 {
			t.Skip("port 4318 is taken on localhost: a collector may run here")
		}
		s := startCommand(t, bin, t.TempDir(), noTracing, "-db", db, "-drain", "0")
		sendTraced(t, s.base, "00-"+traceID+"-"+parentID+"-01")
		s.stop(t, 0)
		if !strings.Contains(s.stderr.String(), `"msg":"tracing off: set OTEL_EXPORTER_OTLP_ENDPOINT`) {
			t.Errorf("the log does not say tracing is off:\n%s", s.stderr)
		}
		for _, c := range cols {
			if n := c.requests(); n > 0 {
				t.Errorf("%d requests reached %s", n, c.url)
			}
		}
	})

	t.Run("a setting the facade cannot serve is refused", func(t *testing.T) {
		res := runCommand(t, bin, t.TempDir(), append(noTracing, "OTEL_TRACES_EXPORTER=zipkin"), "-db", db)
		res.want(t, 2, `OTEL_TRACES_EXPORTER="zipkin": want otlp, or none for no traces`)
		res = runCommand(t, bin, t.TempDir(), append(noTracing, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"), "-db", db)
		res.want(t, 2, `OTEL_EXPORTER_OTLP_PROTOCOL="grpc"`)
		res = runCommand(t, bin, t.TempDir(), append(noTracing, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "OTEL_TRACES_SAMPLER=jaeger_remote"), "-db", db)
		res.want(t, 2, `OTEL_TRACES_SAMPLER="jaeger_remote"`)
	})
}

// wantTreeOf checks that spans make one tree under the client's span
// parentID, the request's span a server span at its root, and that the
// statements' spans are client spans with their database.
func wantTreeOf(t *testing.T, spans []receivedSpan, parentID string) {
	t.Helper()
	ids := map[string]bool{parentID: true}
	for _, sp := range spans {
		ids[fmt.Sprintf("%x", sp.span.SpanId)] = true
	}
	for _, sp := range spans {
		s := sp.span
		if !ids[fmt.Sprintf("%x", s.ParentSpanId)] {
			t.Errorf("span %s: parent %x, none of the trace's", s.Name, s.ParentSpanId)
		}
		switch s.Name {
		case "POST /query":
			if s.Kind != tracepb.Span_SPAN_KIND_SERVER {
				t.Errorf("POST /query: kind %v, want server", s.Kind)
			}
		case "staff by token", "chats by staff":
			if s.Kind != tracepb.Span_SPAN_KIND_CLIENT || stringAttr(s.Attributes, "db.system") != "sqlite" {
				t.Errorf("%s: kind %v, db.system %q; want client, sqlite", s.Name, s.Kind, stringAttr(s.Attributes, "db.system"))
			}
		}
	}
}

// sendTraced sends the query Me (the caller and its chats) as a client in the trace of traceparent.
func sendTraced(t *testing.T, base, traceparent string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(`{"query":"query Me { me { id chats { id } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	req.Header.Set("traceparent", traceparent)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), apptest.StaffLi) {
		t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
	}
}

// collector is an OTLP/HTTP trace receiver: it decodes each export
// request at /v1/traces and keeps its spans.
type collector struct {
	url string

	mu       sync.Mutex
	received []receivedSpan
	posts    int
}

// receivedSpan is a span with the service.name, service.version and
// telemetry.sdk.name of its resource.
type receivedSpan struct {
	service, version, sdk string
	span                  *tracepb.Span
}

func newCollector(t *testing.T, addr string) *collector {
	t.Helper()
	c, err := listenCollector(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func listenCollector(t *testing.T, addr string) (*collector, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &collector{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c, nil
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.posts++
	c.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" { // OTEL_EXPORTER_OTLP_COMPRESSION=gzip
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		attrs := rs.GetResource().GetAttributes()
		service, version, sdk := stringAttr(attrs, "service.name"), stringAttr(attrs, "service.version"), stringAttr(attrs, "telemetry.sdk.name")
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				c.received = append(c.received, receivedSpan{service, version, sdk, sp})
			}
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *collector) spans() []receivedSpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.received)
}

func (c *collector) requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posts
}

func stringAttr(attrs []*commonpb.KeyValue, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.GetValue().GetStringValue()
		}
	}
	return ""
}
