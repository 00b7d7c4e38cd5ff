package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2"
	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/graph"
	"opfacade/legacydb"
	"opfacade/plan"
	"opfacade/store"
)

// twins are two servers over one database: one answers from compiled
// plans, the other with gqlgen's executor alone.
type twins struct {
	compiled, executor *apptest.Server
	reg                *prometheus.Registry // the compiled server's metrics
}

func newTwins(t testing.TB, dsn string) *twins {
	reg := prometheus.NewRegistry()
	on := apptest.NewServer(t, apptest.Config(t, dsn, apptest.NoRateLimit, func(c *app.Config) { c.Compiled, c.Metrics = true, reg }))
	off := apptest.NewServer(t, apptest.Config(t, dsn, apptest.NoRateLimit, func(c *app.Config) { c.Compiled = false }))
	return &twins{compiled: on, executor: off, reg: reg}
}

// paths reads the compiled server's count of root fields by path.
func (tw *twins) paths(t testing.TB) map[string]float64 {
	t.Helper()
	mfs, err := tw.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != plan.Metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

// answer is what a server answered.
type answer struct {
	status      int
	contentType string
	body        []byte
	statements  int64
}

func ask(srv *apptest.Server, token string, body []byte) answer {
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	before := srv.Store.Statements()
	srv.Config.Handler.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(), srv.Store.Statements() - before}
}

// compare sends one operation to both servers and fails the test on any
// difference in status, media type or body, byte for byte, or in the
// statements run: a fallback runs none of the plan's again. An answer
// without errors must come from the plan (if any) without a fallback. It
// reports how many root fields the plans answered.
func (tw *twins) compare(t testing.TB, token, query, name string, vars map[string]any) float64 {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "operationName": name, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	before := tw.paths(t)
	got := ask(tw.compiled, token, body)
	want := ask(tw.executor, token, body)
	after := tw.paths(t)
	if !same(got, want) {
		t.Fatalf("the compiled path answers differently\nrequest %s (token %s)\ncompiled HTTP %d %s\n%s\nexecutor HTTP %d %s\n%s",
			body, token, got.status, got.contentType, got.body, want.status, want.contentType, want.body)
	}
	if got.statements != want.statements {
		t.Fatalf("the compiled path ran %d statements, the executor %d\nrequest %s (token %s)\n%s", got.statements, want.statements, body, token, got.body)
	}
	if !bytes.Contains(got.body, []byte(`"errors":`)) {
		if n := after[plan.PathFallback] - before[plan.PathFallback]; n > 0 {
			t.Fatalf("a plan failed where gqlgen's executor succeeded\nrequest %s (token %s)\n%s", body, token, got.body)
		}
	}
	return after[plan.PathCompiled] - before[plan.PathCompiled]
}

// same reports whether a and b are the same answer, byte for byte, but
// for the order of their errors: gqlgen resolves root fields
// concurrently, and lists the errors of two that fail in the order they
// happened to fail. Each error, and all the rest, must be the same bytes.
func same(a, b answer) bool {
	if a.status != b.status || a.contentType != b.contentType {
		return false
	}
	if bytes.Equal(a.body, b.body) {
		return true
	}
	ma, oka := errorsSorted(a.body)
	mb, okb := errorsSorted(b.body)
	return oka && okb && maps.EqualFunc(ma, mb, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) })
}

// errorsSorted is a response's members, its errors sorted by their bytes.
func errorsSorted(body []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	var errs []json.RawMessage
	if json.Unmarshal(body, &m) != nil || json.Unmarshal(m["errors"], &errs) != nil {
		return nil, false
	}
	slices.SortFunc(errs, func(x, y json.RawMessage) int { return bytes.Compare(x, y) })
	m["errors"], _ = json.Marshal(errs)
	return m, true
}

// seed is the random data's and operations' seed: OPFACADE_PLAN_SEED
// when set, so that a failure can be replayed, else the clock's.
func seed(t testing.TB) uint64 {
	if s, err := strconv.ParseUint(os.Getenv("OPFACADE_PLAN_SEED"), 10, 64); err == nil {
		return s
	}
	s := uint64(time.Now().UnixNano())
	t.Logf("seed %d: OPFACADE_PLAN_SEED=%d replays this run", s, s)
	return s
}

// oddRows are rows whose text JSON must escape or keep as it is: quotes,
// backslashes, control characters, line separators, markup, emoji.
func oddRows(t testing.TB, dsn string) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const odd = "a\"b\\c\td\ne\rf\x01g\x1fh\x7fi\u2028j</script>&<k>😀"
	for _, s := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES (?, ?, 0, 'Supervisor', '2016-01-01 00:00:00')`, []any{"s-odd", odd}},
		{`INSERT INTO op_token (token, staff_id, expire_time) VALUES ('tok-odd', 's-odd', '2099-01-01 00:00:00')`, nil},
		{`INSERT INTO app_user (user_id, nick_name, icon_url, create_time) VALUES ('u-odd', ?, NULL, '2015-01-01 00:00:00'), ('u-odd2', NULL, ?, '2015-01-01 00:00:00')`, []any{odd, "http://x/?a=1&b=<2>"}},
		{`INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES
 ('c-odd1', 'u-odd', 's-odd', ?, ?, 'Service', ?, ?, '2016-02-29 23:59:59'),
 ('c-odd2', 'u-odd2', 's-odd', 'g', '', 'Closed', '', '', '2016-02-29 23:59:59'),
 ('c-odd3', 'u-none', 's-odd', 'g', ?, 'Wait', '', '', '2016-01-01 00:00:00'),
 ('c-odd4', 'u-odd', 's-odd', 'g', '', ?, '', '', '2015-12-31 16:00:00')`, []any{"g\"\\\t\x01", odd, odd, odd, odd, "\"odd\\status"}},
	} {
		if _, err := st.DB().ExecContext(context.Background(), s.q, s.args...); err != nil {
			t.Fatal(err)
		}
	}
}

// varsFor gives each variable op declares a value of its type, leaving
// out some of the nullable ones.
func varsFor(op *gqlast.OperationDefinition, r *rand.Rand, ids []string) map[string]any {
	vars := map[string]any{}
	for _, v := range op.VariableDefinitions {
		if !v.Type.NonNull && r.IntN(4) == 0 {
			continue
		}
		one := func() any {
			switch v.Type.Name() {
			case "ID":
				return ids[r.IntN(len(ids))]
			case "Int":
				return []int{1, 2, 3, 20, 100, 0, 101}[r.IntN(7)]
			case "Boolean":
				return r.IntN(2) == 0
			case "ChatStatus":
				return []string{"WAIT", "SERVICE", "CLOSED", "UNKNOWN"}[r.IntN(4)]
			}
			return []any{nil, "not a cursor", ""}[r.IntN(3)]
		}
		if v.Type.Elem != nil {
			list := []any{one()}
			for r.IntN(2) == 0 {
				list = append(list, one())
			}
			vars[v.Variable] = list
		} else {
			vars[v.Variable] = one()
		}
	}
	return vars
}

// TestCompiledAnswersAsTheExecutor runs every operation of the module
// (its tests, the README, documents/, legacy/), and operations generated
// at random from the schema, over random data, on both servers, on each
// engine: the compiled path answers byte for byte as gqlgen's executor,
// errors included, and answers most of them itself.
func TestCompiledAnswersAsTheExecutor(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	ops := corpus(t, schema)
	if len(ops) < 40 {
		t.Fatalf("found only %d operations in the module: the corpus is not being read", len(ops))
	}
	s := seed(t)
	random := 400
	if testing.Short() {
		random = 50
	}
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		r := rand.New(rand.NewPCG(s, 1))
		dsn := e.NewDB(t, append(apptest.FixtureScripts(), apptest.OPWithChats(30))...)
		gen := generate(t, dsn, int64(r.Uint32()))
		oddRows(t, dsn)
		tw := newTwins(t, dsn)
		tokens := []string{apptest.TokenAdmin, apptest.TokenLi, apptest.TokenWang, apptest.TokenZhao, "tok-odd", "tok-many", apptest.TokenExpired, ""}
		ids := []string{apptest.StaffLi, apptest.StaffWang, apptest.StaffAdmin, "s-odd", "s-many", "nobody"}
		for _, s := range gen.Staff {
			tokens = append(tokens, s.Token)
			ids = append(ids, s.StaffID)
		}
		var asked, compiled float64
		for _, q := range ops {
			doc, _ := gqlparser.LoadQueryWithRules(schema, q, rules.NewDefaultRules())
			for _, op := range doc.Operations {
				for _, tok := range []string{apptest.TokenAdmin, apptest.TokenLi, tokens[r.IntN(len(tokens))]} {
					compiled += tw.compare(t, tok, q, op.Name, varsFor(op, r, ids))
					asked++
				}
			}
		}
		t.Logf("%d operations of the module, %d requests: %.0f root fields answered by plans", len(ops), int(asked), compiled)
		valid := 0
		for range random * 5 {
			if valid == random {
				break
			}
			q, vars, name := newOpGen(randChooser{r}, schema, ids).document()
			if _, errs := gqlparser.LoadQueryWithRules(schema, q, rules.NewDefaultRules()); len(errs) > 0 {
				continue
			}
			valid++
			tok := apptest.TokenAdmin
			if r.IntN(3) == 0 {
				tok = tokens[r.IntN(len(tokens))]
			}
			compiled += tw.compare(t, tok, q, name, vars)
			asked++
		}
		if valid < random/2 {
			t.Errorf("only %d of the generated operations validated", valid)
		}
		paths := tw.paths(t)
		t.Logf("%d random operations; root fields by path: %v", valid, paths)
		if paths[plan.PathCompiled] < asked/2 {
			t.Errorf("plans answered %.0f root fields of %.0f requests: the compiled path is not being taken", paths[plan.PathCompiled], asked)
		}
	})
}

// generate adds random demo rows to the database at dsn.
func generate(t testing.TB, dsn string, seed int64) legacydb.Generated {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen, err := legacydb.Generate(context.Background(), st.DB().DB, legacydb.DemoSizes(), seed)
	if err != nil {
		t.Fatal(err)
	}
	return gen
}
