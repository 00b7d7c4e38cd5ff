package plan_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/plan"
)

// faults is a store Observer that fails every statement named fail, by
// running it in a context already cancelled (the store calls that
// unavailable), or panics in it when panics is set. It counts the
// statements started, by name.
type faults struct {
	mu      sync.Mutex
	fail    string
	panics  bool
	started map[string]int
}

func (f *faults) set(fail string, panics bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.panics, f.started = fail, panics, map[string]int{}
}

func (f *faults) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.started)
}

func (f *faults) StatementStarts(ctx context.Context, name string) context.Context {
	f.mu.Lock()
	f.started[name]++
	fail, panics := name == f.fail, f.panics
	f.mu.Unlock()
	switch {
	case fail && panics:
		panic("injected fault in " + name)
	case fail:
		cut, cancel := context.WithCancel(ctx)
		cancel()
		return cut
	}
	return ctx
}

func (f *faults) StatementEnds(context.Context, string, time.Duration, error) {}

// TestFallbackRunsNoStatementTwice fails, in turn, each statement the
// operations below run, with an error and with a panic, on a server with
// plans and one without. Where a plan fails, gqlgen's executor answers
// from what the plan's resolvers returned: both servers answer byte for
// byte alike, run each statement as many times (the failing one once for
// each field that reads it), and log each panic once.
func TestFallbackRunsNoStatementTwice(t *testing.T) {
	ops := []struct {
		name, token, query string
		statements         []string // what it reads, each failed in turn
	}{
		// tok-many's chats with their grades, then a page's count.
		{"me", "tok-many", `{ me { chats { id user { grade { chatCount } } } chatsConnection(first: 2) { totalCount } } }`,
			[]string{"chats by staff", "grades by user ids", "count chats by staff"}},
		// Another OP, looked up by id, with a page of chats, each with
		// resolvers of its own: their calls' paths hold the chat's index.
		{"staff", apptest.TokenAdmin, `{ staff(id: "s-many") { name page: chatsConnection(first: 2) { edges { cursor node { id user { nickName grade { orderCount } }
			staff { chats(status: [CLOSED]) { id } chatsConnection(status: [CLOSED]) { totalCount } } } } pageInfo { hasNextPage } } chats(status: [SERVICE]) { id } } }`,
			[]string{"staff by ids", "chats by staff", "grades by user ids", "count chats by staff"}},
	}
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		dsn := e.NewDB(t, append(apptest.FixtureScripts(), apptest.OPWithChats(5))...)
		on, off := &faults{}, &faults{}
		on.set("", false)
		off.set("", false)
		reg := prometheus.NewRegistry()
		tw := &twins{
			compiled: apptest.NewServer(t, apptest.Config(t, dsn, apptest.NoRateLimit, func(c *app.Config) { c.Compiled, c.Metrics, c.Store.Observer = true, reg, on })),
			executor: apptest.NewServer(t, apptest.Config(t, dsn, apptest.NoRateLimit, func(c *app.Config) { c.Compiled, c.Store.Observer = false, off })),
			reg:      reg,
		}
		for _, op := range ops {
			body, _ := json.Marshal(map[string]any{"query": op.query})
			for _, fail := range op.statements {
				for _, panics := range []bool{false, true} {
					name := op.name + " " + fail
					if panics {
						name += " panics"
					}
					t.Run(name, func(t *testing.T) {
						on.set(fail, panics)
						off.set(fail, panics)
						_, onLog := tw.compiled.Logs.Since(0)
						_, offLog := tw.executor.Logs.Since(0)
						fallbacks := tw.paths(t)[plan.PathFallback]
						got := ask(tw.compiled, op.token, body)
						want := ask(tw.executor, op.token, body)
						if !same(got, want) {
							t.Fatalf("the compiled path answers differently\ncompiled HTTP %d %s\nexecutor HTTP %d %s", got.status, got.body, want.status, want.body)
						}
						ran, reads := on.counts(), off.counts()
						if reads[fail] == 0 {
							t.Fatalf("the operation never runs %q: %v", fail, reads)
						}
						if !maps.Equal(ran, reads) || got.statements != want.statements {
							t.Fatalf("statements started with plans %v (%d), without %v (%d)", ran, got.statements, reads, want.statements)
						}
						if tw.paths(t)[plan.PathFallback] == fallbacks {
							t.Fatalf("no plan failed: %s", got.body)
						}
						code := "SERVICE_UNAVAILABLE"
						if panics {
							code = "INTERNAL_SERVER_ERROR"
						}
						if !strings.Contains(string(got.body), code) {
							t.Fatalf("want %s: %s", code, got.body)
						}
						onLogs, _ := tw.compiled.Logs.Since(onLog)
						offLogs, _ := tw.executor.Logs.Since(offLog)
						if n, want := strings.Count(onLogs, "injected fault"), strings.Count(offLogs, "injected fault"); n != want {
							t.Fatalf("the panics logged %d times with plans, %d without:\n%s", n, want, onLogs)
						}
						t.Logf("%d statements; %q ran %d times", got.statements, fail, ran[fail])
					})
				}
			}
		}
	})
}

// BenchmarkFallback is what a failing field costs on each path, beside a
// succeeding one: with plans on, a root field whose plan fails is
// answered by gqlgen's executor from what the plan's resolvers returned.
//
//	go test -run '^$' -bench Fallback -benchmem ./plan
func BenchmarkFallback(b *testing.B) {
	dsn := apptest.NewSQLiteDB(b, append(apptest.FixtureScripts(), apptest.OPWithChats(20))...)
	tw := newTwins(b, dsn)
	for _, op := range []struct{ name, query string }{
		// tok-many's 20 chats, then a page refused: first is out of range.
		{"fails", `{ me { chats { id title user { nickName grade { chatCount } } } chatsConnection(first: 0) { totalCount } } }`},
		{"succeeds", `{ me { chats { id title user { nickName grade { chatCount } } } chatsConnection(first: 1) { totalCount } } }`},
	} {
		body, _ := json.Marshal(map[string]any{"query": op.query})
		for _, side := range []struct {
			name string
			srv  *apptest.Server
		}{{"compiled", tw.compiled}, {"executor", tw.executor}} {
			b.Run(op.name+"/"+side.name, func(b *testing.B) {
				var statements int64
				b.ReportAllocs()
				for b.Loop() {
					statements += ask(side.srv, "tok-many", body).statements
				}
				b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
			})
		}
	}
}
