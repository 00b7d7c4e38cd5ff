package app_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"opfacade/app/apptest"
)

var loadTime = flag.Duration("load-time", 10*time.Second, "how long TestLoad runs (at most 30s)")

// loadKind is one kind of request of the load test, and what its answer
// must be.
type loadKind struct {
	name  string
	req   func(base string) *http.Request
	check func(status int, body []byte) error
}

// TestLoad has 64 clients send a mix of valid, invalid and hostile
// requests to both front doors, on loopback, for -load-time (10s). Every
// answer must be the one its request deserves (valid ones compared with
// the data read before the load), no 5xx but 503s, no panic, and memory
// and goroutines back where they were afterwards.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test; -short skips it")
	}
	dur := min(*loadTime, 30*time.Second)
	// 64 clients on a few tokens, as fast as they can: far over the fair
	// share, which TestFairShare tests; this test is about the answers.
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LegacyExample, apptest.NoRateLimit))
	kinds := loadKinds(t, srv)

	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128},
	}
	defer client.CloseIdleConnections()
	// Warm up, then take the baseline.
	for _, k := range kinds {
		if err := send(client, srv.URL, k); err != nil {
			t.Fatalf("%s before the load: %v", k.name, err)
		}
	}
	heapBefore, goroutinesBefore := settledMemory()

	const clients = 64
	type result struct {
		kind    int
		latency time.Duration
		err     error
	}
	results := make([][]result, clients)
	stop := time.Now().Add(dur)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := c; time.Now().Before(stop); i++ {
				k := i % len(kinds)
				start := time.Now()
				err := send(client, srv.URL, kinds[k])
				results[c] = append(results[c], result{k, time.Since(start), err})
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	heapAfter, goroutinesAfter := settledMemory()

	var all []time.Duration
	counts := make([]int, len(kinds))
	failures := make([]int, len(kinds))
	var firstErrs []string
	for _, rs := range results {
		for _, r := range rs {
			counts[r.kind]++
			all = append(all, r.latency)
			if r.err != nil {
				failures[r.kind]++
				if len(firstErrs) < 10 {
					firstErrs = append(firstErrs, fmt.Sprintf("%s: %v", kinds[r.kind].name, r.err))
				}
			}
		}
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	var b strings.Builder
	fmt.Fprintf(&b, "%d clients, %v: %d requests (%.0f/s), p50 %v, p99 %v, max %v\n", clients, dur, len(all), float64(len(all))/dur.Seconds(), pct(0.50), pct(0.99), all[len(all)-1])
	totalFailures := 0
	for i, k := range kinds {
		fmt.Fprintf(&b, "  %-28s %7d  failures %d\n", k.name, counts[i], failures[i])
		totalFailures += failures[i]
	}
	fmt.Fprintf(&b, "heap %.1f MiB before, %.1f MiB after; goroutines %d before, %d after",
		float64(heapBefore)/(1<<20), float64(heapAfter)/(1<<20), goroutinesBefore, goroutinesAfter)
	t.Log(b.String())
	if totalFailures > 0 {
		t.Fatalf("%d wrong answers; first: %s", totalFailures, strings.Join(firstErrs, "\n"))
	}
	if logs := srv.Logs.String(); strings.Contains(logs, "panic") {
		t.Fatalf("a panic under load:\n%.2000s", logs)
	}
	// Loose bounds: a leak grows with the requests, which are many.
	if heapAfter > 2*heapBefore+64<<20 {
		t.Errorf("the heap grew from %d to %d bytes", heapBefore, heapAfter)
	}
	if goroutinesAfter > goroutinesBefore+16 {
		t.Errorf("goroutines grew from %d to %d", goroutinesBefore, goroutinesAfter)
	}
}

// settledMemory returns the live heap and the goroutine count once the
// idle connections' goroutines have ended.
func settledMemory() (uint64, int) {
	var n int
	for range 100 {
		runtime.GC()
		n = runtime.NumGoroutine()
		time.Sleep(20 * time.Millisecond)
		if runtime.NumGoroutine() == n {
			break
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, n
}

func send(c *http.Client, base string, k loadKind) error {
	res, err := c.Do(k.req(base))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode >= 500 && res.StatusCode != 503 {
		return fmt.Errorf("HTTP %d: %.200s", res.StatusCode, body)
	}
	return k.check(res.StatusCode, body)
}

func loadKinds(t *testing.T, srv *apptest.Server) []loadKind {
	gqlPost := func(token, body string, extra ...string) func(string) *http.Request {
		return func(base string) *http.Request {
			req, _ := http.NewRequest("POST", base+"/query", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			for i := 0; i+1 < len(extra); i += 2 {
				req.Header.Set(extra[i], extra[i+1])
			}
			return req
		}
	}
	gqlQuery := func(token, query string, vars map[string]any) func(string) *http.Request {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return gqlPost(token, string(b))
	}
	legacyForm := func(params url.Values) func(string) *http.Request {
		body := params.Encode()
		return func(base string) *http.Request {
			req, _ := http.NewRequest("POST", base+"/op/v2/receives", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}
	}
	// exactly expects the body the same request got before the load.
	exactly := func(build func(string) *http.Request) func(int, []byte) error {
		res, err := srv.Client().Do(build(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || bytes.Contains(want, []byte(`"errors"`)) || bytes.Contains(want, []byte(`"code":5`)) {
			t.Fatalf("reference answer: HTTP %d %s", res.StatusCode, want)
		}
		return func(status int, got []byte) error {
			if status != 200 || !bytes.Equal(got, want) {
				return fmt.Errorf("HTTP %d %.300s\nwant %.300s", status, got, want)
			}
			return nil
		}
	}
	gqlError := func(wantStatus int, wantCode string) func(int, []byte) error {
		return func(status int, body []byte) error {
			var res apptest.GraphQLResponse
			if err := json.Unmarshal(body, &res); err != nil {
				return fmt.Errorf("HTTP %d, not JSON: %.200s", status, body)
			}
			if status != wantStatus || len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != wantCode {
				return fmt.Errorf("HTTP %d %.300s, want %d %s", status, body, wantStatus, wantCode)
			}
			return nil
		}
	}
	legacyCode := func(want int) func(int, []byte) error {
		return func(status int, body []byte) error {
			var res apptest.LegacyResponse
			if err := json.Unmarshal(body, &res); err != nil || status != 200 || res.Code != want || string(res.Data) != "null" {
				return fmt.Errorf("HTTP %d %.300s, want code %d", status, body, want)
			}
			return nil
		}
	}
	wrongSign := apptest.Signed(apptest.TokenLi)
	wrongSign.Set("sign", "0123456789abcdef0123456789abcdef")
	var bomb strings.Builder
	bomb.WriteString("{ me { ...F30 } } fragment F0 on Staff { id }\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&bomb, "fragment F%d on Staff { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	get := func(base string) *http.Request {
		req, _ := http.NewRequest("GET", base+"/query?"+url.Values{"query": {`{ me { id name chats { id title } } }`}}.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+apptest.TokenWang)
		req.Header.Set("Apollo-Require-Preflight", "true")
		return req
	}
	staffQ := `query($id: ID!) { staff(id: $id) { id name chats { id user { nickName grade { chatCount orderCount serviceCount } } } } }`
	var kinds []loadKind
	add := func(name string, req func(string) *http.Request, check func(int, []byte) error) {
		kinds = append(kinds, loadKind{name, req, check})
	}
	// Valid.
	add("graphql me chats (小李)", gqlQuery(apptest.TokenLi, apptest.MeChatsQuery, nil), exactly(gqlQuery(apptest.TokenLi, apptest.MeChatsQuery, nil)))
	add("graphql me chats (小王)", gqlQuery(apptest.TokenWang, apptest.MeChatsQuery, nil), exactly(gqlQuery(apptest.TokenWang, apptest.MeChatsQuery, nil)))
	add("graphql ADMIN staff", gqlQuery(apptest.TokenAdmin, staffQ, map[string]any{"id": apptest.StaffLi}), exactly(gqlQuery(apptest.TokenAdmin, staffQ, map[string]any{"id": apptest.StaffLi})))
	add("graphql GET", get, exactly(get))
	add("legacy receives (小李)", legacyForm(apptest.Signed(apptest.TokenLi)), exactly(legacyForm(apptest.Signed(apptest.TokenLi))))
	add("legacy ADMIN for 小王", legacyForm(apptest.Signed(apptest.TokenAdmin, "staffId", apptest.StaffWang)), exactly(legacyForm(apptest.Signed(apptest.TokenAdmin, "staffId", apptest.StaffWang))))
	// Invalid.
	add("graphql unknown token", gqlQuery("nope", `{ me { id } }`, nil), gqlError(200, "UNAUTHENTICATED"))
	add("graphql forbidden", gqlQuery(apptest.TokenLi, staffQ, map[string]any{"id": apptest.StaffWang}), gqlError(200, "FORBIDDEN"))
	add("graphql unknown field", gqlQuery(apptest.TokenLi, `{ me { nope } }`, nil), gqlError(200, "GRAPHQL_VALIDATION_FAILED"))
	add("legacy wrong sign", legacyForm(wrongSign), legacyCode(403))
	add("legacy expired token", legacyForm(apptest.Signed(apptest.TokenExpired)), legacyCode(401))
	add("legacy GET", func(base string) *http.Request {
		req, _ := http.NewRequest("GET", base+"/op/v2/receives", nil)
		return req
	}, legacyCode(405))
	// Hostile.
	add("graphql injection id", gqlQuery(apptest.TokenAdmin, staffQ, map[string]any{"id": "' OR '1'='1"}), exactly(gqlQuery(apptest.TokenAdmin, staffQ, map[string]any{"id": "' OR '1'='1"})))
	add("legacy injection staffId", legacyForm(apptest.Signed(apptest.TokenAdmin, "staffId", "'; DROP TABLE op_chat; --")), legacyCode(404))
	add("graphql deep", gqlQuery(apptest.TokenLi, apptest.NestedQuery(6), nil), gqlError(200, "DEPTH_LIMIT_EXCEEDED"))
	add("graphql fragment bomb", gqlQuery(apptest.TokenLi, bomb.String(), nil), gqlError(200, "TOO_MANY_FIELDS"))
	add("graphql chats in chats", gqlQuery(apptest.TokenLi, `{ me { chats { staff { chats { id } } } } }`, nil), gqlError(200, "COMPLEXITY_LIMIT_EXCEEDED"))
	add("graphql token flood", gqlQuery(apptest.TokenLi, "{ me { "+strings.Repeat("id ", 4100)+"} }", nil), gqlError(200, "TOKEN_LIMIT_EXCEEDED"))
	add("graphql 100 KiB body", gqlPost(apptest.TokenLi, `{"query":"`+strings.Repeat(" ", 100<<10)+`{ me { id } }"}`), gqlError(413, "PAYLOAD_TOO_LARGE"))
	add("graphql batch", gqlPost(apptest.TokenLi, `[{"query":"{ me { id } }"}]`), gqlError(400, "BATCHING_NOT_SUPPORTED"))
	add("graphql malformed JSON", gqlPost(apptest.TokenLi, `{"query":`), gqlError(400, "BAD_REQUEST"))
	add("graphql text/plain (CSRF)", func(base string) *http.Request {
		req, _ := http.NewRequest("POST", base+"/query", strings.NewReader(`{"query":"{ me { id } }"}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
		return req
	}, gqlError(400, "CSRF_PREVENTED"))
	add("legacy 100 KiB body", legacyForm(url.Values{"x": {strings.Repeat("a", 100<<10)}}), legacyCode(413))
	return kinds
}
