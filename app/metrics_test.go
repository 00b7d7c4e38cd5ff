package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/documents"
	"opfacade/httpguard"
	"opfacade/store"
)

// withMetrics registers the server's metrics with reg.
func withMetrics(reg prometheus.Registerer) func(*app.Config) {
	return func(c *app.Config) { c.Metrics = reg }
}

// TestRequestMetrics: through the real server, each request is counted
// once at its door, under its operation when the facade knows it (other
// otherwise) and its outcome code; the statements the store ran are
// counted by name, as many as the access lines report; the grades of a
// chat list are one batch of the list's users.
func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := apptest.NewJSONLogServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.NoRateLimit, withMetrics(reg)))
	opened := srv.Store.Statements() // opening checks the database

	var users map[string]bool
	for range 2 {
		res, _ := srv.GraphQL(t, apptest.TokenLi, documents.MyChats, nil)
		users = chatUsers(t, res.Data)
	}
	srv.GraphQL(t, apptest.TokenLi, "query Who { me { name } }", nil)
	srv.GraphQL(t, "", "{ me { name } }", nil)
	if res, _ := srv.LegacyForm(t, apptest.Signed(apptest.TokenLi)); res.Code != 200 {
		t.Fatalf("legacy code %d", res.Code)
	}
	bad := apptest.Signed(apptest.TokenLi)
	bad.Set("sign", strings.Repeat("0", 32))
	if res, _ := srv.LegacyForm(t, bad); res.Code != 403 {
		t.Fatalf("legacy code %d, want 403", res.Code)
	}

	got := samples(t, reg, "opfacade_request_duration_seconds", nil)
	want := map[string]float64{
		`code="OK",door="graphql",operation="MyChats"`:            2,
		`code="OK",door="graphql",operation="other"`:              1,
		`code="UNAUTHENTICATED",door="graphql",operation="other"`: 1,
		`code="200",door="legacy",operation="receives"`:           1,
		`code="403",door="legacy",operation="receives"`:           1,
	}
	for labels, n := range want {
		if got[labels] != n {
			t.Errorf("requests %s: %v, want %v", labels, got[labels], n)
		}
	}
	for labels, n := range got {
		if _, ok := want[labels]; !ok && n != 0 {
			t.Errorf("requests %s: %v, want none", labels, n)
		}
	}
	for labels, n := range samples(t, reg, "opfacade_requests_in_flight", nil) {
		if n != 0 {
			t.Errorf("in flight %s: %v after every answer", labels, n)
		}
	}

	// The statements: as many as the access lines report, each timed.
	var logged float64
	for _, l := range accessLines(t, srv.Logs.String()) {
		logged += l["statements"].(float64)
	}
	byName := samples(t, reg, "opfacade_sql_statements_total", nil)
	if total := sum(byName); total != logged || total != float64(srv.Store.Statements()-opened) || total == 0 {
		t.Errorf("%v statements counted, %v logged, %d run by the store since it opened", total, logged, srv.Store.Statements()-opened)
	}
	if n := byName[`outcome="ok",statement="chats by staff"`]; n != 3 {
		t.Errorf("chats by staff: %v, want 3 (two MyChats, one legacy receives); all: %v", n, byName)
	}
	if timed := sum(samples(t, reg, "opfacade_sql_statement_duration_seconds", nil)); timed != logged {
		t.Errorf("%v statements timed, want %v", timed, logged)
	}

	// Three chat lists with grades (two MyChats, one receives), each one
	// lookup of its distinct users.
	lookup := map[string]string{"lookup": "grades by user ids"}
	if n := sum(samples(t, reg, "opfacade_batch_keys", lookup)); n != 3 {
		t.Errorf("%v grade lookups, want 3", n)
	}
	if keys := sum(samples(t, reg, "opfacade_batch_keys_sum", lookup)); keys != float64(3*len(users)) || len(users) == 0 {
		t.Errorf("%v keys looked up, want 3 × %d users", keys, len(users))
	}

	lint(t, reg)
}

// chatUsers are the distinct users of the chats of a MyChats answer.
func chatUsers(t *testing.T, data json.RawMessage) map[string]bool {
	t.Helper()
	var d struct {
		Me struct {
			Chats []struct{ User struct{ ID string } }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	for _, c := range d.Me.Chats {
		users[c.User.ID] = true
	}
	return users
}

// TestLimitRefusalMetrics: each limit that refuses a request, on either
// door, counts one refusal under its own name, and no other.
func TestLimitRefusalMetrics(t *testing.T) {
	clock := apptest.NewClock()
	tokenShare := apptest.RateLimit(1, 1, clock)
	clientShare := func(c *app.Config) {
		c.RateLimit = app.RateLimit{PerSecond: 100, Burst: 100, ClientPerSecond: 1, ClientBurst: 1, Now: clock.Now}
	}
	slow := func(c *app.Config) { c.Limits.Timeout = 200 * time.Millisecond }
	var manyFields strings.Builder
	for i := range 600 {
		fmt.Fprintf(&manyFields, "a%d: id ", i)
	}
	tests := []struct {
		name   string
		door   string
		limit  string
		config func(*app.Config)
		slow   bool // the store waits for the request's deadline
		send   func(t *testing.T, srv *apptest.Server)
	}{
		{"graphql token share", "graphql", httpguard.LimitTokenRate, tokenShare, false, func(t *testing.T, srv *apptest.Server) {
			srv.GraphQL(t, apptest.TokenLi, "{ me { id } }", nil)
			postQuery(t, srv, `{"query":"{ me { id } }"}`, http.StatusTooManyRequests)
		}},
		{"graphql body", "graphql", httpguard.LimitBody, apptest.NoRateLimit, false, func(t *testing.T, srv *apptest.Server) {
			postQuery(t, srv, `{"query":"`+strings.Repeat(" ", 70000)+`{ me { id } }"}`, http.StatusRequestEntityTooLarge)
		}},
		{"graphql tokens", "graphql", httpguard.LimitTokens, apptest.NoRateLimit, false, func(t *testing.T, srv *apptest.Server) {
			wantCode(t, srv, "{ me { "+strings.Repeat("id ", 5000)+"} }", "TOKEN_LIMIT_EXCEEDED")
		}},
		{"graphql depth", "graphql", httpguard.LimitDepth, apptest.NoRateLimit, false, func(t *testing.T, srv *apptest.Server) {
			wantCode(t, srv, apptest.NestedQuery(6), "DEPTH_LIMIT_EXCEEDED")
		}},
		{"graphql fields", "graphql", httpguard.LimitFields, apptest.NoRateLimit, false, func(t *testing.T, srv *apptest.Server) {
			wantCode(t, srv, "{ me { "+manyFields.String()+"} }", "TOO_MANY_FIELDS")
		}},
		{"graphql complexity", "graphql", httpguard.LimitComplexity, apptest.NoRateLimit, false, func(t *testing.T, srv *apptest.Server) {
			wantCode(t, srv, "{ me { chats { title staff { chats { title message address } } } } }", "COMPLEXITY_LIMIT_EXCEEDED")
		}},
		{"graphql timeout", "graphql", httpguard.LimitTimeout, slow, true, func(t *testing.T, srv *apptest.Server) {
			// 503 when the deadline answers, 200 when the cut work does.
			if raw := postQuery(t, srv, `{"query":"{ me { chats { id } } }"}`, 0); !strings.Contains(string(raw), `"code":"SERVICE_UNAVAILABLE"`) {
				t.Fatalf("want SERVICE_UNAVAILABLE: %s", raw)
			}
		}},
		{"legacy token share", "legacy", httpguard.LimitTokenRate, tokenShare, false, func(t *testing.T, srv *apptest.Server) {
			wantLegacy(t, srv, apptest.Signed(apptest.TokenLi).Encode(), 200)
			wantLegacy(t, srv, apptest.Signed(apptest.TokenLi).Encode(), 503)
		}},
		{"legacy client share", "legacy", httpguard.LimitClientRate, clientShare, false, func(t *testing.T, srv *apptest.Server) {
			wantLegacy(t, srv, apptest.Signed(apptest.TokenLi).Encode(), 200)
			wantLegacy(t, srv, apptest.Signed(apptest.TokenWang).Encode(), 503)
		}},
		{"legacy body", "legacy", httpguard.LimitBody, apptest.NoRateLimit, false, func(t *testing.T, srv *apptest.Server) {
			wantLegacy(t, srv, apptest.Signed(apptest.TokenLi, "pad", strings.Repeat("x", 70000)).Encode(), 413)
		}},
		{"legacy timeout", "legacy", httpguard.LimitTimeout, slow, true, func(t *testing.T, srv *apptest.Server) {
			wantLegacy(t, srv, apptest.Signed(apptest.TokenLi).Encode(), 503)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			cfg := apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), tt.config, withMetrics(reg))
			var srv *apptest.Server
			if tt.slow {
				srv = apptest.NewServerOver(t, cfg, func(st *store.Store) app.Backend { return &slowStore{Store: st} })
			} else {
				srv = apptest.NewServer(t, cfg)
			}
			tt.send(t, srv)
			refusals := samples(t, reg, "opfacade_limit_refusals_total", nil)
			// The deadline's answer reaches the client before the late
			// work ends; the request is counted once it has.
			for wait := time.Now().Add(10 * time.Second); tt.slow && sum(refusals) == 0 && time.Now().Before(wait); time.Sleep(5 * time.Millisecond) {
				refusals = samples(t, reg, "opfacade_limit_refusals_total", nil)
			}
			if len(refusals) != 2*len(httpguard.Limits()) {
				t.Errorf("%d refusal series, want each limit on each door", len(refusals))
			}
			mine := `door="` + tt.door + `",limit="` + tt.limit + `"`
			if refusals[mine] != 1 || sum(refusals) != 1 {
				t.Errorf("refusals %v, want one: %s", refusals, mine)
			}
		})
	}
}

// wantCode sends query with Li's token and wants its one error's code.
func wantCode(t *testing.T, srv *apptest.Server, query, code string) {
	t.Helper()
	res, raw := srv.GraphQL(t, apptest.TokenLi, query, nil)
	if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != code {
		t.Fatalf("want %s: %s", code, raw)
	}
}

// postQuery POSTs body to /query with Li's token and wants status (0:
// any), and returns the answer.
func postQuery(t *testing.T, srv *apptest.Server, body string, status int) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	res, raw := srv.Do(t, req)
	if status != 0 && res.StatusCode != status {
		t.Fatalf("HTTP %d, want %d: %s", res.StatusCode, status, raw)
	}
	return raw
}

// wantLegacy POSTs form to the legacy path and wants code.
func wantLegacy(t *testing.T, srv *apptest.Server, form string, code int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, raw := srv.LegacyDo(t, req); res.Code != code {
		t.Fatalf("code %d, want %d: %s", res.Code, code, raw)
	}
}

// TestMetricsOff: without a registry the server serves as ever.
func TestMetricsOff(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	if res, raw := srv.GraphQL(t, apptest.TokenLi, documents.MyChats, nil); len(res.Errors) != 0 {
		t.Fatalf("errors: %s", raw)
	}
}

// samples are the values of the metric name in reg whose labels include
// match, by their other labels as the text format writes them: a
// counter's or gauge's value, a histogram's sample count. name_sum is a
// histogram's sum.
func samples(t *testing.T, reg *prometheus.Registry, name string, match map[string]string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	family, wantSum := name, false
	if base, ok := strings.CutSuffix(name, "_sum"); ok {
		family, wantSum = base, true
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			var labels []string
			matched := 0
			for _, l := range m.GetLabel() {
				if v, ok := match[l.GetName()]; ok {
					if v != l.GetValue() {
						continue metric
					}
					matched++
					continue
				}
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			if matched != len(match) {
				continue
			}
			key := strings.Join(labels, ",")
			switch {
			case m.GetHistogram() != nil && wantSum:
				out[key] = m.GetHistogram().GetSampleSum()
			case m.GetHistogram() != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// lint holds reg to Prometheus's naming conventions (promtool's linter).
func lint(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
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
