package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"opfacade/app/apptest"
	"opfacade/legacydb"
)

// TestMain lets the tool start this test binary as the baseline server,
// or as the live benchmark's client.
func TestMain(m *testing.M) {
	if os.Getenv(liveClientEnv) != "" {
		if err := liveClient(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "live client:", err)
			os.Exit(1)
		}
		return
	}
	if db := os.Getenv(baselineEnv); db != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		if err := serveBaseline(ctx, db, "127.0.0.1:0"); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

var growthSizes = []int{1, 10, 100, 1000}

// benchDataset is the cached benchmark database: BenchSizes, or the tiny
// sizes under -short.
func benchDataset(tb testing.TB) *dataset {
	tb.Helper()
	sizes := legacydb.BenchSizes()
	if testing.Short() {
		sizes = shortSizes()
	}
	ds, err := openDataset(context.Background(), filepath.Join(os.TempDir(), "opfacade-bench"), sizes, 1, growthSizes)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

func openBench(tb testing.TB, ds *dataset) *inProcess {
	tb.Helper()
	p, err := openInProcess(context.Background(), ds)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// openSmallBench is a small generated database with both handlers over
// it, and logins for a few OPs and for OPs with 0, 3 and 50 chats.
func openSmallBench(t *testing.T) (*dataset, *inProcess, []login) {
	t.Helper()
	ds, err := openDataset(context.Background(), t.TempDir(), shortSizes(), 7, []int{0, 3, 50})
	if err != nil {
		t.Fatal(err)
	}
	return ds, openBench(t, ds), append(ds.OPs[:5:5], ds.Growth[0], ds.Growth[3], ds.Growth[50])
}

// TestBaselineAnswersLikeTheFacade checks the yardstick: for the same OPs
// the baseline answers the same JSON values as the facade on both paths
// (the legacy footer's clock aside), and both cost the same statements
// whatever the number of chats.
func TestBaselineAnswersLikeTheFacade(t *testing.T) {
	ds, p, logins := openSmallBench(t)
	for _, ep := range []endpoint{graphQL, legacyV2} {
		c := newCaller(ep, ds, logins)
		statements := map[string]float64{}
		for _, l := range logins {
			var got [2]any
			for i, s := range []side{p.facadeSide(), p.baselineSide()} {
				rec := httptest.NewRecorder()
				s.handler.ServeHTTP(rec, c.request(context.Background(), "http://bench", l.Token))
				if !c.ok(rec.Code, rec.Body.Bytes()) {
					t.Fatalf("%v, OP %s: status %d: %s", ep, l.StaffID, rec.Code, rec.Body)
				}
				if err := json.NewDecoder(bytes.NewReader(rec.Body.Bytes())).Decode(&got[i]); err != nil {
					t.Fatal(err)
				}
				if m, ok := got[i].(map[string]any); ok {
					if foot, ok := m["foot"].(map[string]any); ok {
						delete(foot, "operationTime")
					}
				}
			}
			if d := cmp.Diff(got[0], got[1]); d != "" {
				t.Errorf("%v, OP %s with %d chats (-facade +baseline):\n%s", ep, l.StaffID, l.Chats, d)
			}
			for i, s := range []side{p.facadeSide(), p.baselineSide()} {
				n, err := statementsPerRequest(c, s, []login{l})
				if err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprintf("side %d, chats %v", i, l.Chats > 0)
				if prev, ok := statements[key]; ok && prev != n {
					t.Errorf("%v, %s: %v statements for OP %s with %d chats, %v for another", ep, key, n, l.StaffID, l.Chats, prev)
				}
				statements[key] = n
			}
		}
	}
}

// TestMemStoreAnswersLikeTheStore checks the floor's premise: over the
// rows memStore holds, the facade answers the main query byte for byte as
// it does over the database, in no statements at all.
func TestMemStoreAnswersLikeTheStore(t *testing.T) {
	ds, p, logins := openSmallBench(t)
	mem, err := loadMemStore(context.Background(), p.store, logins)
	if err != nil {
		t.Fatal(err)
	}
	floor := facadeHandler(mem)
	c := newCaller(graphQL, ds, logins)
	for _, l := range logins {
		var got [2][]byte
		for i, h := range []http.Handler{p.facade, floor} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, c.request(context.Background(), "http://bench", l.Token))
			if !c.ok(rec.Code, rec.Body.Bytes()) {
				t.Fatalf("OP %s, handler %d: status %d: %s", l.StaffID, i, rec.Code, rec.Body)
			}
			got[i] = rec.Body.Bytes()
		}
		if !bytes.Equal(got[0], got[1]) {
			t.Errorf("OP %s with %d chats: over memory\n%s\nover the database\n%s", l.StaffID, l.Chats, got[1], got[0])
		}
	}
	before := p.store.Statements()
	if err := serve(c, floor, logins[len(logins)-1].Token); err != nil {
		t.Fatal(err)
	}
	if n := p.store.Statements() - before; n != 0 {
		t.Errorf("the facade over memory ran %d statements", n)
	}
}

// TestLegacyForm checks the load's legacy signature against the contract's
// worked example.
func TestLegacyForm(t *testing.T) {
	form := legacyForm("b2736195b38346639463ee889d6b8ff4", "5e8dd316726b0335fcdb27a4d3c2a9b7", "o0001403351be22c648efa24c20e842fd7351")
	if !strings.Contains(form, "sign=98a1e4ee75534faa59c7cffaa81d98db") {
		t.Fatalf("form %s does not carry the contract's example signature", form)
	}
}

// TestShortRun runs the whole tool in -short mode: it only checks that
// every part works, and asserts nothing about the numbers.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs the tool")
	}
	var out, log bytes.Buffer
	if err := run(context.Background(), []string{"-short", "-cache", t.TempDir()}, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(out.String(), "## Against the targets") {
		t.Fatalf("no report:\n%s", out.String())
	}
}

// TestShortLive runs the live benchmark in -short mode, over SQLite and,
// when MYSQL_TEST_DSN is set, MariaDB: it writes its section to -out, and
// asserts nothing about the numbers but that each change reached every
// subscriber of its OP, which it waits for.
func TestShortLive(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		outFile := filepath.Join(t.TempDir(), "live.md")
		args := []string{"-short", "-live", "30", "-cache", t.TempDir(), "-out", outFile}
		if e.Name == "mysql" {
			args = append(args, "-mysql", apptest.NewEmptyMySQLDB(t, "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"))
		}
		var out, log bytes.Buffer
		if err := run(context.Background(), args, &out, &log); err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		md, err := os.ReadFile(outFile)
		if err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || !strings.Contains(string(md), "## Live subscriptions over the") || !strings.Contains(string(md), "SQL statements per change") {
			t.Fatalf("standard output %q; -out:\n%s", out.String(), md)
		}
	})
}

// BenchmarkGraphQL is the main query in-process, facade and baseline, over
// random OPs of the benchmark data: go test -bench GraphQL -benchmem ./bench
func BenchmarkGraphQL(b *testing.B) {
	ds := benchDataset(b)
	p := openBench(b, ds)
	c := newCaller(graphQL, ds, nil)
	b.Run("facade", func(b *testing.B) { benchRequests(b, c, p.facade, ds.OPs) })
	b.Run("executor", func(b *testing.B) { benchRequests(b, c, p.executor, ds.OPs) })
	b.Run("baseline", func(b *testing.B) { benchRequests(b, c, p.baseMux, ds.OPs) })
}

// BenchmarkLegacy is the legacy call in-process.
func BenchmarkLegacy(b *testing.B) {
	ds := benchDataset(b)
	p := openBench(b, ds)
	c := newCaller(legacyV2, ds, ds.OPs)
	b.Run("facade", func(b *testing.B) { benchRequests(b, c, p.facade, ds.OPs) })
	b.Run("baseline", func(b *testing.B) { benchRequests(b, c, p.baseMux, ds.OPs) })
}

// BenchmarkGrowth is the main query for OPs with 1, 10, 100 and 1000 chats.
func BenchmarkGrowth(b *testing.B) {
	ds := benchDataset(b)
	p := openBench(b, ds)
	c := newCaller(graphQL, ds, nil)
	for _, n := range growthSizes {
		one := []login{ds.Growth[n]}
		b.Run(fmt.Sprintf("chats=%d/facade", n), func(b *testing.B) { benchRequests(b, c, p.facade, one) })
		b.Run(fmt.Sprintf("chats=%d/baseline", n), func(b *testing.B) { benchRequests(b, c, p.baseMux, one) })
	}
}

// BenchmarkConcurrent is the main query over loopback, 32 clients at
// once, facade and baseline each behind its own httptest server: what
// the load phases measure, in one process, so that a CPU profile shows
// where each server's time goes under concurrency:
//
//	go test -run '^$' -bench 'Concurrent/graphql/facade' -cpuprofile cpu.out ./bench
//
// The client's share of the profile is the same for both servers.
func BenchmarkConcurrent(b *testing.B) {
	ds := benchDataset(b)
	p := openBench(b, ds)
	for _, e := range []struct {
		name string
		ep   endpoint
	}{{"graphql", graphQL}, {"legacy", legacyV2}} {
		c := newCaller(e.ep, ds, ds.OPs)
		for _, s := range []struct {
			name string
			h    http.Handler
		}{{"facade", p.facade}, {"baseline", p.baseMux}} {
			b.Run(e.name+"/"+s.name, func(b *testing.B) { benchConcurrent(b, c, s.h, ds.OPs, 32) })
		}
	}
}

// benchConcurrent serves b.N requests through h over loopback, from
// clients goroutines, each with a random OP's token.
func benchConcurrent(b *testing.B, c *caller, h http.Handler, logins []login, clients int) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	hc := newHTTPClient(clients)
	defer hc.CloseIdleConnections()
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	var seed atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(seed.Add(1), 0))
		for pb.Next() {
			status, body, err := c.call(context.Background(), hc, srv.URL, logins[rng.IntN(len(logins))].Token)
			if err != nil || !c.ok(status, body) {
				b.Errorf("status %d, err %v: %.200s", status, err, body)
				return
			}
		}
	})
}

// TestFlagsLine checks the command line a report says it was written by:
// the flags that shape the data and the load, as given, and no default.
func TestFlagsLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-out", "bench/RESULTS.md"}, " -out bench/RESULTS.md"},
		{[]string{"-duration", "24s", "-rounds", "24", "-out", "r.md"}, " -duration 24s -rounds 24 -out r.md"},
		{[]string{"-mysql", "mysql://root:secret@tcp(db:3306)/bench", "-clients", "1,4", "-warmup", "100ms"}, " -mysql mysql://root:xxxxx@tcp(db:3306)/bench -clients 1,4 -warmup 100ms"},
		{[]string{"-short", "-benchtime", "200ms"}, " -short -benchtime 200ms"},
	} {
		o, err := parseOptions(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := flagsLine(o); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
}
