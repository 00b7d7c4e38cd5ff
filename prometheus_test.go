package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/documents"
)

// TestPrometheusScrapes runs the real binary with its admin listener and
// the real Prometheus (Debian's prometheus package; .ci/run installs it)
// scraping it every second, sends a known number of requests to each
// front door, and asks Prometheus, in PromQL over its HTTP API, how many
// requests it saw: exactly as many, by door and by operation.
func TestPrometheusScrapes(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (apt-get install prometheus)")
	}
	bin := buildCommand(t)
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	s := startCommand(t, bin, t.TempDir(), nil, "-db", db, "-admin-addr", "127.0.0.1:0", "-rate-limit", "off")
	admin := strings.TrimPrefix(s.adminBase(t), "http://")
	prom := startPrometheus(t, promBin, admin)

	const graphQLRequests, legacyRequests = 7, 5
	for range graphQLRequests {
		postJSON(t, s.base+"/query", `{"query":`+strconv.Quote(documents.MyChats)+`}`)
	}
	for range legacyRequests {
		postForm(t, s.base+"/op/v2/receives", apptest.Signed(apptest.TokenLi))
	}

	want := map[string]float64{
		`sum(opfacade_request_duration_seconds_count{job="opfacade"})`:                                               graphQLRequests + legacyRequests,
		`sum(opfacade_request_duration_seconds_count{job="opfacade",door="graphql"})`:                                graphQLRequests,
		`sum(opfacade_request_duration_seconds_count{job="opfacade",door="graphql",operation="MyChats",code="OK"})`:  graphQLRequests,
		`sum(opfacade_request_duration_seconds_count{job="opfacade",door="legacy"})`:                                 legacyRequests,
		`sum(opfacade_request_duration_seconds_count{job="opfacade",door="legacy",operation="receives",code="200"})`: legacyRequests,
		`sum(opfacade_sql_statements_total{job="opfacade",statement="chats by staff",outcome="ok"})`:                 graphQLRequests + legacyRequests,
		`sum(opfacade_batch_keys_count{job="opfacade",lookup="grades by user ids"})`:                                 graphQLRequests + legacyRequests,
		`sum(opfacade_requests_in_flight{job="opfacade"})`:                                                           0,
		`sum(opfacade_limit_refusals_total{job="opfacade"})`:                                                         0,
	}
	for query, n := range want {
		prom.waitFor(t, query, n)
	}
}

// promServer is a Prometheus server the test started.
type promServer struct {
	base   string // http://127.0.0.1:port
	stderr *apptest.LockedBuffer
}

// startPrometheus starts Prometheus on a free loopback port, with its
// data in a temporary folder, scraping target's /metrics every second as
// the job opfacade, and waits until it is ready. It is stopped when the
// test ends.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: opfacade
    static_configs:
      - targets: ['%s']
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
	)
	p := &promServer{base: "http://" + addr, stderr: &apptest.LockedBuffer{}}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("prometheus's log:\n%s", p.stderr)
		}
	})
	eventually(t, "prometheus to be ready", func() bool {
		select {
		case <-done:
			t.Fatalf("prometheus exited:\n%s", p.stderr)
		default:
		}
		res, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return p
}

// waitFor polls query until each series it returns is want: until a
// scrape after the requests has been stored. A value past want fails at
// once: more requests were counted than were sent.
func (p *promServer) waitFor(t *testing.T, query string, want float64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a hang detector: a scrape a second
	var last []float64
	for time.Now().Before(deadline) {
		last = p.query(t, query)
		if len(last) > 0 && all(last, want) {
			return
		}
		for _, v := range last {
			if v > want {
				t.Fatalf("%s = %v, want %v", query, last, want)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s = %v, still not %v after a minute", query, last, want)
}

func all(vs []float64, want float64) bool {
	for _, v := range vs {
		if v != want {
			return false
		}
	}
	return true
}

// query runs an instant PromQL query over Prometheus's HTTP API and
// returns the value of each series of its vector.
func (p *promServer) query(t *testing.T, query string) []float64 {
	t.Helper()
	res, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Value [2]json.RawMessage // [time, "value"]
			}
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Status != "success" || out.Data.ResultType != "vector" {
		t.Fatalf("query %s: HTTP %d %v: %s", query, res.StatusCode, err, raw)
	}
	var vs []float64
	for _, r := range out.Data.Result {
		var s string
		if err := json.Unmarshal(r.Value[1], &s); err != nil {
			t.Fatalf("query %s: %s", query, raw)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: %s", query, raw)
		}
		vs = append(vs, v)
	}
	return vs
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// postJSON POSTs a GraphQL body with Li's token, and wants 200 without
// errors.
func postJSON(t *testing.T, target, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	wantOK(t, req, func(raw string) bool { return !strings.Contains(raw, `"errors"`) })
}

// postForm POSTs a legacy form, and wants code 200.
func postForm(t *testing.T, target string, form url.Values) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantOK(t, req, func(raw string) bool { return strings.HasPrefix(raw, `{"code":200,`) })
}

// wantOK does req and wants HTTP 200 with an answer good accepts.
func wantOK(t *testing.T, req *http.Request, good func(string) bool) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !good(string(raw)) {
		t.Fatalf("%s %s: HTTP %d %s", req.Method, req.URL, res.StatusCode, raw)
	}
}
