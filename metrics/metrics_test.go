package metrics

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"opfacade/accesslog"
	"opfacade/httpguard"
)

func TestVersionOf(t *testing.T) {
	rev := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.4.2", rev("vcs.revision", "91317dc3837ccc878ebf366f555a026ad35870d6"), "v1.4.2"},
		{"v0.0.0-20261129192846-91317dc3837c+dirty", nil, "v0.0.0-20261129192846-91317dc3837c+dirty"},
		{"(devel)", rev("vcs.revision", "91317dc3837c", "vcs.modified", "false"), "91317dc3837c"},
		{"(devel)", rev("vcs.revision", "91317dc3837c", "vcs.modified", "true"), "91317dc3837c+dirty"},
		{"", rev("vcs.modified", "true"), "devel"},
		{"(devel)", nil, "devel"},
	}
	for _, tt := range tests {
		info := &debug.BuildInfo{Main: debug.Module{Path: "opfacade", Version: tt.main}, Settings: tt.settings}
		if got := versionOf(info); got != tt.want {
			t.Errorf("main %q, settings %v: %q, want %q", tt.main, tt.settings, got, tt.want)
		}
	}
	if Version() == "" {
		t.Error("Version is empty")
	}
}

// TestRegistry: the server's registry has the Go runtime's and the
// process's metrics, and the build's version.
func TestRegistry(t *testing.T) {
	reg := NewRegistry()
	got := gather(t, reg)
	want := `opfacade_build_info{goversion="` + runtime.Version() + `",version="` + Version() + `"}`
	if got[want] != 1 {
		t.Errorf("%s = %v, want 1; gathered %v", want, got[want], got)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

// TestDBPoolCollector opens, uses, makes wait and closes connections,
// and reads each change at the next scrape; then replaces the pool, as a
// SQLite store does when its file is replaced: the gauges are the new
// pool's, and the counters carry on.
func TestDBPoolCollector(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func(name string) *sql.DB {
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	first := open("first.db")
	first.SetMaxOpenConns(2)
	first.SetMaxIdleConns(1)
	var current atomic.Pointer[sql.DB]
	current.Store(first)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewDBPoolCollector(current.Load))

	expect := func(when string, want map[string]float64) {
		t.Helper()
		got := gather(t, reg)
		for name, v := range want {
			if g, ok := got[name]; !ok || g != v {
				t.Errorf("%s: %s = %v (reported: %v), want %v", when, name, g, ok, v)
			}
		}
	}
	expect("no connection yet", map[string]float64{
		`opfacade_db_connections{state="in_use"}`:                      0,
		`opfacade_db_connections{state="idle"}`:                        0,
		`opfacade_db_connections_max`:                                  2,
		`opfacade_db_wait_total`:                                       0,
		`opfacade_db_wait_seconds_total`:                               0,
		`opfacade_db_connections_closed_total{reason="max_idle"}`:      0,
		`opfacade_db_connections_closed_total{reason="max_idle_time"}`: 0,
		`opfacade_db_connections_closed_total{reason="max_lifetime"}`:  0,
	})

	c1, c2 := conn(t, first), conn(t, first)
	expect("two connections held", map[string]float64{
		`opfacade_db_connections{state="in_use"}`: 2,
		`opfacade_db_connections{state="idle"}`:   0,
	})

	// A third statement waits for one of them.
	got := make(chan *sql.Conn)
	go func() {
		c, err := first.Conn(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	waitFor(t, "a statement to wait", func() bool { return first.Stats().WaitCount == 1 })
	time.Sleep(10 * time.Millisecond) // a wait that lasts
	_ = c1.Close()
	c3 := <-got
	if c3 == nil {
		return
	}
	expect("a statement waited", map[string]float64{
		`opfacade_db_connections{state="in_use"}`: 2,
		`opfacade_db_wait_total`:                  1,
	})
	if s := gather(t, reg)[`opfacade_db_wait_seconds_total`]; s < 0.01 {
		t.Errorf("opfacade_db_wait_seconds_total = %v, want at least 0.01", s)
	}

	// Both back: one stays idle, the other is one too many and closed.
	_ = c2.Close()
	_ = c3.Close()
	expect("both released", map[string]float64{
		`opfacade_db_connections{state="in_use"}`:                 0,
		`opfacade_db_connections{state="idle"}`:                   1,
		`opfacade_db_connections_closed_total{reason="max_idle"}`: 1,
	})

	// The pool is replaced: the old one is closed (its idle connection
	// with it), a new one serves.
	second := open("second.db")
	second.SetMaxOpenConns(5)
	c4 := conn(t, second)
	defer c4.Close()
	current.Store(second)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	expect("the pool replaced", map[string]float64{
		`opfacade_db_connections{state="in_use"}`:                 1,
		`opfacade_db_connections{state="idle"}`:                   0,
		`opfacade_db_connections_max`:                             5,
		`opfacade_db_wait_total`:                                  1,
		`opfacade_db_connections_closed_total{reason="max_idle"}`: 1,
	})
	expect("the next scrape", map[string]float64{
		`opfacade_db_wait_total`:                                  1,
		`opfacade_db_connections_closed_total{reason="max_idle"}`: 1,
	})
}

// TestNoPool: a collector whose pool is gone reports nothing, and fails
// no scrape.
func TestNoPool(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewDBPoolCollector(func() *sql.DB { return nil }))
	if got := gather(t, reg); len(got) != 0 {
		t.Errorf("gathered %v", got)
	}
}

// TestLint holds a scrape of the server's registry to Prometheus's
// naming conventions, as promtool check metrics does (promlint is its
// linter): always, whether or not promtool is installed.
func TestLint(t *testing.T) {
	reg := registryWithPool(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestPromtool runs promtool check metrics on a scrape of Handler, when
// promtool is installed (Debian's prometheus package; .ci/run installs
// it). It skips otherwise: TestLint runs the same linter in-process.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus); TestLint runs its linter")
	}
	srv := httptest.NewServer(Handler(registryWithPool(t), nil))
	defer srv.Close()
	scrape := get(t, srv.URL)
	checkWithPromtool(t, promtool, scrape)
}

// checkWithPromtool fails t unless promtool check metrics passes scrape.
func checkWithPromtool(t *testing.T, promtool string, scrape []byte) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(scrape)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	case err != nil:
		t.Fatal(err)
	}
}

// TestHandler serves the registry in the text format, and counts its
// own scrapes.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler(registryWithPool(t), nil))
	defer srv.Close()
	get(t, srv.URL)
	body := string(get(t, srv.URL))
	for _, want := range []string{
		"# TYPE opfacade_build_info gauge",
		"# TYPE opfacade_db_connections gauge",
		`opfacade_db_connections{state="in_use"} 0`,
		"# TYPE opfacade_db_wait_total counter",
		`promhttp_metric_handler_requests_total{code="200"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %s:\n%s", want, body)
		}
	}
}

// registryWithPool is the server's registry with a pool's collector,
// and the front doors' and the statements' metrics, each with a sample.
func registryWithPool(t *testing.T) *prometheus.Registry {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "lint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	reg := NewRegistry()
	reg.MustRegister(NewDBPoolCollector(func() *sql.DB { return db }))
	doors := NewFrontDoors(reg, []string{"MyChats"})
	for _, door := range []string{accesslog.GraphQL, accesslog.Legacy} {
		r := doors.Door(door)
		r.Begin()
		r.End(accesslog.Request{Operation: "MyChats", Outcome: httpguard.Outcome{Num: 503, Limit: httpguard.LimitTimeout}, Duration: time.Millisecond})
	}
	st := NewStatements(reg)
	st.StatementEnds(st.StatementStarts(context.Background(), "chats by staff"), "chats by staff", time.Millisecond, nil)
	st.Batch("users by ids", 20)
	return reg
}

// gather returns every sample of reg by its name and labels, as the
// text format writes them: name{label="value",…}.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetGauge() != nil:
				samples[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				samples[name] = m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				samples[name] = m.GetUntyped().GetValue()
			default:
				samples[name] = 0 // a summary or histogram: present
			}
		}
	}
	return samples
}

func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, res.StatusCode, err, body)
	}
	return body
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
