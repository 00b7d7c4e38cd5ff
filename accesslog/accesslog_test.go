package accesslog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"opfacade/accesslog"
	"opfacade/httpguard"
	"opfacade/metrics"
)

func TestSane(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123":               true,
		"~!@#$%^&*()_+{}|:<>?":  true,
		strings.Repeat("x", 64): true,
		"":                      false,
		strings.Repeat("x", 65): false,
		"has space":             false,
		"tab\there":             false,
		"new\nline":             false,
		"non-ascii-é":           false,
		"\x7f":                  false,
	} {
		if got := accesslog.Sane(id); got != want {
			t.Errorf("Sane(%q) = %v, want %v", id, got, want)
		}
	}
}

// serve runs h behind the access log and returns the one line it logged.
func serve(t *testing.T, door string, h http.Handler, req *http.Request) (map[string]any, *httptest.ResponseRecorder) {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	rec := httptest.NewRecorder()
	accesslog.New(log, door, nil, h).ServeHTTP(rec, req)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, buf.String())
	}
	return line, rec
}

// TestOperationName: only a GraphQL name is logged, cut at MaxOperation
// bytes; the last one set wins.
func TestOperationName(t *testing.T) {
	for name, want := range map[string]string{
		"MyChats":                 "MyChats",
		"_x1":                     "_x1",
		strings.Repeat("A", 100):  strings.Repeat("A", accesslog.MaxOperation),
		"1abc":                    "",
		"drop table; --":          "",
		"name\nlevel=ERROR msg=x": "",
	} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			accesslog.SetOperation(r.Context(), "First")
			accesslog.SetOperation(r.Context(), name)
		})
		line, _ := serve(t, accesslog.GraphQL, h, httptest.NewRequest(http.MethodPost, "/query", nil))
		if want == "" {
			want = "First" // a text that is no name is left out
		}
		if line["operation"] != want {
			t.Errorf("SetOperation(%q): operation %v, want %q", name, line["operation"], want)
		}
	}
}

// TestOutcomeOfTheAnswerSent: when the deadline answers in place of work
// that goes on, the line has the deadline answer's outcome, not the
// abandoned work's, whichever notes its outcome first; work that ends in
// time has its own.
func TestOutcomeOfTheAnswerSent(t *testing.T) {
	answering, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-answering // the deadline has passed, and its answer is on its way
		httpguard.SetOutcome(w, httpguard.Outcome{Num: 200})
		_, _ = w.Write([]byte("late"))
		close(release)
	})
	answer := func(w http.ResponseWriter, r *http.Request) {
		close(answering)
		<-release // the abandoned work has noted its outcome
		httpguard.SetOutcome(w, httpguard.Outcome{Num: 503})
		_, _ = w.Write([]byte("busy"))
	}
	h := httpguard.Deadline(10*time.Millisecond, slog.New(slog.DiscardHandler), answer, slow)
	line, rec := serve(t, accesslog.Legacy, h, httptest.NewRequest(http.MethodPost, "/op/v2/receives", nil))
	if rec.Body.String() != "busy" || line["code"] != 503.0 || line["level"] != "WARN" || line["bytes"] != 4.0 {
		t.Errorf("answer %q, line %v: want the deadline's 503, at WARN", rec.Body, line)
	}

	answer = func(w http.ResponseWriter, r *http.Request) { t.Error("the deadline answered") }
	fast := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpguard.SetOutcome(w, httpguard.Outcome{Text: "FORBIDDEN"})
		_, _ = w.Write([]byte("{}"))
	})
	h = httpguard.Recover(slog.New(slog.DiscardHandler), nil, httpguard.Deadline(time.Second, slog.New(slog.DiscardHandler), answer, fast))
	line, _ = serve(t, accesslog.GraphQL, h, httptest.NewRequest(http.MethodPost, "/query", nil))
	if line["code"] != "FORBIDDEN" || line["level"] != "INFO" || line["status"] != 200.0 {
		t.Errorf("line %v: want the work's FORBIDDEN, through the deadline's buffer and Recover's writer", line)
	}
}

// TestRequestIDOnOtherLines: what is logged with a request's context
// carries its request_id, once.
func TestRequestIDOnOtherLines(t *testing.T) {
	var buf bytes.Buffer
	base := slog.NewJSONHandler(&buf, nil)
	inner := slog.New(accesslog.WithRequestID(base))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.InfoContext(r.Context(), "refused", "reason", "why")
	})
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	req.Header.Set("X-Request-ID", "abc")
	accesslog.New(slog.New(base), accesslog.GraphQL, nil, h).ServeHTTP(httptest.NewRecorder(), req)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], `"msg":"refused","reason":"why","request_id":"abc"}`) ||
		strings.Count(lines[1], `"request_id"`) != 1 {
		t.Errorf("log:\n%s", buf.String())
	}
}

// TestCheap: the access log costs a handful of allocations a request,
// whatever is logged.
func TestCheap(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	log := slog.New(slog.NewJSONHandler(discard{}, nil))
	work := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accesslog.SetOperation(r.Context(), "MyChats")
		httpguard.SetOutcome(w, httpguard.Outcome{Text: "FORBIDDEN"})
	})
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	req.Header.Set("X-Request-ID", "abc")
	w := &nopWriter{h: http.Header{}}
	h := accesslog.New(log, accesslog.GraphQL, nil, work)
	allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) })
	// The entry, the X-Request-ID value, two context values, the
	// request's copy, and slog's record past five attributes.
	if allocs > 7 {
		t.Errorf("%v allocations a request", allocs)
	}
	// The metrics add none.
	doors := metrics.NewFrontDoors(prometheus.NewRegistry(), []string{"MyChats"})
	h = accesslog.New(log, accesslog.GraphQL, doors.Door(accesslog.GraphQL), work)
	if with := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); with > allocs {
		t.Errorf("%v allocations a request with metrics, %v without", with, allocs)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// recorder keeps what an accesslog.Recorder is told.
type recorder struct {
	begun int
	ended []accesslog.Request
}

func (r *recorder) Begin()                    { r.begun++ }
func (r *recorder) Streaming(string)          {}
func (r *recorder) End(req accesslog.Request) { r.ended = append(r.ended, req) }

// TestRecorder: the recorder hears of each request as it arrives and as
// it ends, with what its line says: the operation, the outcome, the
// status.
func TestRecorder(t *testing.T) {
	rec := &recorder{}
	h := accesslog.New(slog.New(slog.DiscardHandler), accesslog.GraphQL, rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec.begun != 1 || len(rec.ended) != 0 {
			t.Errorf("while serving: begun %d, ended %d", rec.begun, len(rec.ended))
		}
		accesslog.SetOperation(r.Context(), "MyChats")
		httpguard.SetOutcome(w, httpguard.Outcome{Text: "TOO_MANY_FIELDS", Limit: httpguard.LimitFields})
		w.WriteHeader(http.StatusBadRequest)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/query", nil))
	want := accesslog.Request{Operation: "MyChats", Outcome: httpguard.Outcome{Text: "TOO_MANY_FIELDS", Limit: httpguard.LimitFields}, Status: http.StatusBadRequest}
	if len(rec.ended) != 1 {
		t.Fatalf("ended %d requests, want 1", len(rec.ended))
	}
	got := rec.ended[0]
	if got.Duration <= 0 {
		t.Errorf("duration %v", got.Duration)
	}
	got.Duration = 0
	if got != want {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
}

// TestTimeoutLimit: a request the deadline answers names the timeout
// limit, and so does one whose work ended after its deadline; one that
// ends in time, or whose caller went away, names none.
func TestTimeoutLimit(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	answered := make(chan struct{})
	var once sync.Once
	busy := func(w http.ResponseWriter, r *http.Request) {
		httpguard.SetOutcome(w, httpguard.Outcome{Num: 503})
		once.Do(func() { close(answered) })
	}
	tests := []struct {
		name    string
		work    http.HandlerFunc
		timeout time.Duration
		cancel  bool // the caller goes away
		want    httpguard.Outcome
	}{
		{"the deadline answers", func(w http.ResponseWriter, r *http.Request) {
			<-answered // the work outlives the deadline's answer
		}, 10 * time.Millisecond, false, httpguard.Outcome{Num: 503, Limit: httpguard.LimitTimeout}},
		{"the work ends after its deadline", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			busy(w, r)
		}, 10 * time.Millisecond, false, httpguard.Outcome{Num: 503, Limit: httpguard.LimitTimeout}},
		{"in time", func(w http.ResponseWriter, r *http.Request) {
			httpguard.SetOutcome(w, httpguard.Outcome{Num: 200})
		}, time.Minute, false, httpguard.Outcome{Num: 200}},
		{"the caller went away", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			busy(w, r)
		}, time.Minute, true, httpguard.Outcome{Num: 503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			h := accesslog.New(quiet, accesslog.Legacy, rec, httpguard.Deadline(tt.timeout, quiet, busy, tt.work))
			req := httptest.NewRequest(http.MethodPost, "/op/v2/receives", nil)
			if tt.cancel {
				ctx, cancel := context.WithCancel(req.Context())
				cancel()
				req = req.WithContext(ctx)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if len(rec.ended) != 1 || rec.ended[0].Outcome != tt.want {
				t.Errorf("recorded %+v, want the outcome %+v", rec.ended, tt.want)
			}
		})
	}
}

// TestTraceID: the line carries the trace id of the span in the
// request's context, and none without one.
func TestTraceID(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	line, _ := serve(t, accesslog.GraphQL, h, req.WithContext(trace.ContextWithSpanContext(req.Context(), sc)))
	if line["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace_id %v, want the span's", line["trace_id"])
	}
	line, _ = serve(t, accesslog.Legacy, h, httptest.NewRequest(http.MethodPost, "/op/v2/receives", nil))
	if _, ok := line["trace_id"]; ok {
		t.Errorf("a trace_id without a span: %v", line)
	}
}
