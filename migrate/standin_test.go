package migrate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/migrate"
	"opfacade/store"
)

// oldService stands in for the old v2 service. It answers receives from
// the same database the contract's way, the simplest honest way: with
// the facade's own legacy handler (app.Handler over that database), under
// another host name, its answers changed by edit when a test sets one.
// Other v2 endpoints: /op/v2/sendMessage and /op/v2/echo/… echo the
// request; /op/v2/status/{code} answers that status; /op/v2/stream
// streams a long answer in two parts; /op/v2/upload reads a request body
// in two parts; /op/v2/slow does not answer until released.
type oldService struct {
	*httptest.Server
	URL *url.URL

	mu       sync.Mutex
	edit     func([]byte) []byte
	hold     chan struct{} // receives waits for it to close, when set
	entered  chan struct{} // receives signals here, when set
	receives []seen        // the receives calls
	others   []seen        // the calls of the other endpoints
	answer   []byte        // the last answer written, byte for byte

	streamGo  chan struct{} // /op/v2/stream sends its second part once closed
	uploadGot chan struct{} // /op/v2/upload closes it once it has the first part
	release   chan struct{} // /op/v2/slow answers once closed
}

// seen is a request as the old service got it.
type seen struct {
	Method, Path, RawPath, Query, Body, Host string
	Header                                   http.Header
}

const (
	oldHost      = "old-op-1" // the old service's foot.host
	streamPart   = 256 << 10
	uploadPart1  = 32 << 10
	uploadPart2  = 16 << 10
	uploadPrefix = 16 << 10 // what /op/v2/upload reads before it says it has the first part
)

func newOldService(t *testing.T, db string) *oldService {
	t.Helper()
	cfg := apptest.Config(t, db, apptest.NoRateLimit, func(c *app.Config) { c.HostName = oldHost })
	st, err := store.Open(context.Background(), db, store.Options{Zone: cfg.Zone})
	if err != nil {
		t.Fatal(err)
	}
	legacyHandler := app.Handler(st, cfg)
	o := &oldService{streamGo: make(chan struct{}), uploadGot: make(chan struct{}), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/op/v2/receives", func(w http.ResponseWriter, r *http.Request) {
		s := record(r)
		o.mu.Lock()
		o.receives = append(o.receives, s)
		edit, hold, entered := o.edit, o.hold, o.entered
		o.mu.Unlock()
		if entered != nil {
			entered <- struct{}{}
		}
		if hold != nil {
			<-hold
		}
		r.Body = io.NopCloser(strings.NewReader(s.Body))
		rec := httptest.NewRecorder()
		legacyHandler.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if edit != nil {
			out = edit(bytes.Clone(out))
		}
		maps.Copy(w.Header(), rec.Header())
		o.write(w, rec.Code, out)
	})
	echo := func(w http.ResponseWriter, r *http.Request) {
		s := o.other(r)
		out, _ := json.Marshal(s)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Old-Service", "echo")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("Connection", "X-Hop-Answer")
		w.Header().Set("X-Hop-Answer", "for the next hop only")
		o.write(w, http.StatusOK, out)
	}
	mux.HandleFunc("/op/v2/sendMessage", echo)
	mux.HandleFunc("/op/v2/echo/", echo)
	mux.HandleFunc("/op/v2/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		o.other(r)
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Retry-After", "7")
		o.write(w, code, []byte("the old service says "+r.PathValue("code")+"\n"))
	})
	mux.HandleFunc("/op/v2/stream", func(w http.ResponseWriter, r *http.Request) {
		o.other(r)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(pattern(0, streamPart))
		_ = http.NewResponseController(w).Flush()
		select {
		case <-o.streamGo:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write(pattern(1, streamPart))
	})
	mux.HandleFunc("/op/v2/upload", func(w http.ResponseWriter, r *http.Request) {
		o.other(r)
		first := make([]byte, uploadPrefix)
		if _, err := io.ReadFull(r.Body, first); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		close(o.uploadGot)
		rest, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(append(first, rest...))
		_, _ = fmt.Fprintf(w, "%d %s", len(first)+len(rest), hex.EncodeToString(sum[:]))
	})
	mux.HandleFunc("/op/v2/slow", func(w http.ResponseWriter, r *http.Request) {
		o.other(r)
		select {
		case <-o.release:
		case <-r.Context().Done():
		}
	})
	o.Server = httptest.NewServer(mux)
	o.URL, err = migrate.ParseUpstream(o.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.mu.Lock()
		if o.hold != nil {
			close(o.hold)
			o.hold = nil
		}
		o.mu.Unlock()
		close(o.release)
		o.Close()
		_ = st.Close()
	})
	return o
}

func record(r *http.Request) seen {
	body, _ := io.ReadAll(r.Body)
	return seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery, Body: string(body), Host: r.Host, Header: r.Header.Clone()}
}

func (o *oldService) other(r *http.Request) seen {
	s := seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone()}
	if r.URL.Path != "/op/v2/upload" {
		body, _ := io.ReadAll(r.Body)
		s.Body = string(body)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.others = append(o.others, s)
	return s
}

func (o *oldService) write(w http.ResponseWriter, code int, body []byte) {
	o.mu.Lock()
	o.answer = body
	o.mu.Unlock()
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// setEdit changes the old service's receives answers with edit.
func (o *oldService) setEdit(edit func([]byte) []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.edit = edit
}

// holdReceives makes receives wait until release is called, signalling
// each call on the returned channel.
func (o *oldService) holdReceives() (entered <-chan struct{}, release func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hold, o.entered = make(chan struct{}), make(chan struct{}, 16)
	return o.entered, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.hold != nil {
			close(o.hold)
			o.hold = nil
		}
	}
}

func (o *oldService) receivesCalls() []seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]seen(nil), o.receives...)
}

func (o *oldService) otherCalls() []seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]seen(nil), o.others...)
}

func (o *oldService) lastAnswer() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.answer
}

// pattern is n bytes that tell part from the others.
func pattern(part, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (i/1000+part*7)%26)
	}
	return b
}

// facade serves the facade over db in front of old, with its metrics in
// the registry it returns.
func facade(t *testing.T, db string, old *oldService, opts ...func(*app.Config)) (*apptest.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := apptest.Config(t, db, append([]func(*app.Config){apptest.NoRateLimit, func(c *app.Config) {
		c.Metrics = reg
		if old != nil {
			c.LegacyUpstream = old.URL
		}
	}}, opts...)...)
	return apptest.NewServer(t, cfg), reg
}

func serve(mode string) func(*app.Config) { return func(c *app.Config) { c.LegacyServe = mode } }

func shadowRate(rate float64) func(*app.Config) {
	return func(c *app.Config) { c.LegacyShadow = rate }
}

func tuning(tu migrate.Tuning) func(*app.Config) {
	return func(c *app.Config) { c.LegacyMigration = tu }
}

// counters reads a counter of reg, by its labels as written ("" for
// none), from the text testutil formats.
func counters(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	text, err := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(text), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		series, value, _ := strings.Cut(line, " ")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out[strings.TrimPrefix(series, name)] = v
	}
	return out
}

// shadowCounts is opfacade_legacy_shadow_total by result.
type shadowCounts struct{ match, mismatch, skipped, error float64 }

func (c shadowCounts) String() string {
	return fmt.Sprintf("match %v, mismatch %v, skipped %v, error %v", c.match, c.mismatch, c.skipped, c.error)
}

func readShadow(t *testing.T, reg *prometheus.Registry) shadowCounts {
	t.Helper()
	m := counters(t, reg, migrate.ShadowMetric)
	if len(m) != 4 {
		t.Fatalf("%s: want the four results, got %v", migrate.ShadowMetric, m)
	}
	return shadowCounts{m[`{result="match"}`], m[`{result="mismatch"}`], m[`{result="skipped"}`], m[`{result="error"}`]}
}

// waitShadow polls the shadow's counters until they are want, failing at
// a deadline: the comparisons run after the calls are answered.
func waitShadow(t *testing.T, reg *prometheus.Registry, want shadowCounts) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := readShadow(t, reg)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v, want %v", migrate.ShadowMetric, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// receives POSTs signed params to the legacy path as a form, with the
// given headers, and returns the answer, which must be HTTP 200.
func receives(t *testing.T, srv *apptest.Server, params url.Values, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, raw := srv.Do(t, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
	}
	return res, raw
}

// envelope is the part of a legacy answer the tests read.
type envelope struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	Foot    struct {
		Host string `json:"host"`
	} `json:"foot"`
}

func readEnvelope(t *testing.T, raw []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("not a legacy envelope: %v: %s", err, raw)
	}
	return e
}

// wantBusy checks the contract's 503 服务繁忙: HTTP 200, its Content-Type,
// data null.
func wantBusy(t *testing.T, res *http.Response, raw []byte) {
	t.Helper()
	e := readEnvelope(t, raw)
	if res.StatusCode != http.StatusOK || e.Code != 503 || e.Message != "服务繁忙" || string(e.Data) != "null" {
		t.Fatalf("want HTTP 200 and 503 服务繁忙, got HTTP %d: %s", res.StatusCode, raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

// requestIDAttr finds the request id of a log line.
var requestIDAttr = regexp.MustCompile(`request_id=(\S+)`)

// logLines are the lines of logs that hold msg.
func logLines(logs, msg string) []string {
	var out []string
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, msg) {
			out = append(out, line)
		}
	}
	return out
}
