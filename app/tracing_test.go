package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/tracing"
	"opfacade/tracing/tracingtest"
)

// TestTracing follows one request through each front door, over the real
// routes and database: the spans nest as the work does, every SQL
// statement the store ran has its span, and the trace a client started
// (traceparent) is the one continued.
func TestTracing(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		exp := newTraces(t)
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), func(c *app.Config) { c.Tracing = exp.recorder }))

		t.Run("graphql", func(t *testing.T) {
			tc := newTraceContext(1)
			before := srv.Store.Statements()
			res, raw := srv.Do(t, graphQLRequest(t, srv, apptest.TokenLi, apptest.MeChatsQuery, tc))
			if res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
				t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
			}
			spans := traceOf(t, exp, tc, "POST /query")
			wantTree(t, spans, `
POST /query
  query MyChats
    staff by token
    Staff.chats
      chats by staff
      grades by user ids`)
			wantStatements(t, spans, e.Name, srv.Store.Statements()-before)
			op := spanNamed(t, spans, "query MyChats")
			wantAttr(t, op, "graphql.operation.name", "MyChats")
			wantAttr(t, op, "graphql.operation.type", "query")
			for _, s := range spans {
				if s.Status != codes.Unset {
					t.Errorf("span %s: status %v %q, want unset", s.Name, s.Status, s.Description)
				}
			}
		})

		t.Run("page", func(t *testing.T) {
			tc := newTraceContext(5)
			before := srv.Store.Statements()
			res, raw := srv.Do(t, graphQLRequest(t, srv, apptest.TokenLi, pageQuery, tc))
			if res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
				t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
			}
			spans := traceOf(t, exp, tc, "POST /query")
			wantTree(t, spans, `
POST /query
  query Page
    staff by token
    Staff.chatsConnection
      chats by staff
      grades by user ids
      count chats by staff`)
			wantStatements(t, spans, e.Name, srv.Store.Statements()-before)
		})

		t.Run("several root fields", func(t *testing.T) {
			// Each root field has its span when there are several; the
			// resolvers below that read the store are inside theirs.
			tc := newTraceContext(9)
			before := srv.Store.Statements()
			res, raw := srv.Do(t, graphQLRequest(t, srv, apptest.TokenLi, `query Both { a: me { id } b: me { chats { id } } }`, tc))
			if res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
				t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
			}
			spans := traceOf(t, exp, tc, "POST /query")
			wantStatements(t, spans, e.Name, srv.Store.Statements()-before)
			var fields []tracingtest.Span
			for _, s := range spans {
				if s.Name == "Query.me" {
					fields = append(fields, s)
				}
			}
			op := spanNamed(t, spans, "query Both")
			if len(fields) != 2 {
				t.Fatalf("%d spans Query.me, want 2: %v", len(fields), names(spans))
			}
			for _, f := range fields {
				if f.Parent != op.SpanID {
					t.Errorf("Query.me: parent %v, want the operation's span", f.Parent)
				}
			}
			if chats := spanNamed(t, spans, "Staff.chats"); chats.Parent != fields[0].SpanID && chats.Parent != fields[1].SpanID {
				t.Errorf("Staff.chats: parent %v, want a span Query.me", chats.Parent)
			}
		})

		t.Run("websocket", func(t *testing.T) {
			// The request's span is around the connection's whole life:
			// the upgrade goes through it, and it ends with the socket.
			tc := newTraceContext(8)
			ws := srv.DialWS(t, http.Header{"traceparent": {tc.header()}})
			ws.Init(apptest.TokenLi)
			ws.Subscribe("1", `subscription Live { me { isOnline } }`, nil)
			ws.Next("1")
			_ = ws.C.Close(websocket.StatusNormalClosure, "")
			spans := traceOf(t, exp, tc, "GET /query")
			if op := spanNamed(t, spans, "subscription Live"); op.Parent != spanNamed(t, spans, "GET /query").SpanID {
				t.Errorf("subscription Live: parent %v, want the request's span", op.Parent)
			}
			s := spanNamed(t, spans, "GET /query")
			if code, _ := s.Attr("http.response.status_code"); code != "101" || s.Status != codes.Unset {
				t.Errorf("GET /query: status code %s, span status %v; want 101, unset", code, s.Status)
			}
		})

		t.Run("sampled out", func(t *testing.T) {
			out := newTraceContext(6)
			req := graphQLRequest(t, srv, apptest.TokenLi, apptest.MeChatsQuery, out)
			req.Header.Set("traceparent", fmt.Sprintf("00-%s-%s-00", out.trace, out.span))
			if res, raw := srv.Do(t, req); res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
				t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
			}
			// A traced request after it: once its spans are in, the first
			// request's would be too.
			in := newTraceContext(7)
			srv.Do(t, graphQLRequest(t, srv, apptest.TokenLi, apptest.MeChatsQuery, in))
			traceOf(t, exp, in, "POST /query")
			for _, s := range exp.client.Spans() {
				if s.TraceID == out.trace {
					t.Errorf("span %s of a trace its caller did not sample", s.Name)
				}
			}
		})

		t.Run("legacy", func(t *testing.T) {
			tc := newTraceContext(2)
			before := srv.Store.Statements()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(apptest.Signed(apptest.TokenLi).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("traceparent", tc.header())
			if out, raw := srv.LegacyDo(t, req); out.Code != 200 {
				t.Fatalf("code %d: %s", out.Code, raw)
			}
			spans := traceOf(t, exp, tc, "POST /op/v2/receives")
			wantTree(t, spans, `
POST /op/v2/receives
  client by id
  staff by token
  Staff.chats
    chats by staff
    grades by user ids`)
			wantStatements(t, spans, e.Name, srv.Store.Statements()-before)

			// A refusal fails the request's span, with the envelope's code
			// and why.
			tc = newTraceContext(10)
			req, _ = http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(apptest.Signed(apptest.TokenExpired).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("traceparent", tc.header())
			if out, raw := srv.LegacyDo(t, req); out.Code != 401 {
				t.Fatalf("code %d, want 401: %s", out.Code, raw)
			}
			s := spanNamed(t, traceOf(t, exp, tc, "POST /op/v2/receives"), "POST /op/v2/receives")
			if s.Status != codes.Error || !strings.HasPrefix(s.Description, "401 token refused") {
				t.Errorf("POST /op/v2/receives of an expired token: status %v %q, want error 401 token refused…", s.Status, s.Description)
			}
		})

		t.Run("failures", func(t *testing.T) {
			tc := newTraceContext(3)
			srv.Do(t, graphQLRequest(t, srv, apptest.TokenExpired, apptest.MeChatsQuery, tc))
			op := spanNamed(t, traceOf(t, exp, tc, "POST /query"), "query MyChats")
			if op.Status != codes.Error || op.Description != "UNAUTHENTICATED" {
				t.Errorf("operation of an expired token: status %v %q, want error UNAUTHENTICATED", op.Status, op.Description)
			}

			// Grades read service_order: without it, that statement fails,
			// and with it the resolver and the operation.
			if _, err := srv.Store.DB().Exec("ALTER TABLE service_order RENAME TO service_order_gone"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _, _ = srv.Store.DB().Exec("ALTER TABLE service_order_gone RENAME TO service_order") })
			tc = newTraceContext(4)
			srv.Do(t, graphQLRequest(t, srv, apptest.TokenLi, apptest.MeChatsQuery, tc))
			spans := traceOf(t, exp, tc, "POST /query")
			for _, name := range []string{"grades by user ids", "Staff.chats", "query MyChats"} {
				if s := spanNamed(t, spans, name); s.Status != codes.Error {
					t.Errorf("span %s: status %v, want error", name, s.Status)
				}
			}
			if s := spanNamed(t, spans, "chats by staff"); s.Status != codes.Unset {
				t.Errorf("chats by staff: status %v %q, want unset", s.Status, s.Description)
			}
		})
	})
}

// pageQuery reads a page of the caller's chats, with their users'
// grades, and how many there are.
const pageQuery = `query Page {
  me { chatsConnection(first: 2) { totalCount edges { cursor node { id user { id grade { chatCount } } } } } }
}`

// TestTracingCostsPerRequest: what tracing adds to a request does not
// grow with the fields it answers. Spans are per operation, root field,
// resolver and statement; the GraphQL extension does not wrap each
// field's resolution, which would cost allocations for each of the
// hundreds of fields of a chat list. The main query for an OP with 40
// chats answers some 500 fields more than for one with 4; traced, it
// may cost only what its larger statements' spans do more.
func TestTracingCostsPerRequest(t *testing.T) {
	db := apptest.NewSQLiteDB(t, append(apptest.FixtureScripts(), apptest.OPWithChats(40))...)
	tp := tracing.NewRecorder(tracingtest.Discard{}, tracing.Options{})
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	traced := apptest.NewServer(t, apptest.Config(t, db, apptest.NoRateLimit, func(c *app.Config) { c.Tracing = tp }))
	plain := apptest.NewServer(t, apptest.Config(t, db, apptest.NoRateLimit))
	body, _ := json.Marshal(map[string]any{"query": apptest.MeChatsQuery})
	allocs := func(srv *apptest.Server, token string) float64 {
		var rec *httptest.ResponseRecorder
		serve := func() {
			req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			rec = httptest.NewRecorder()
			srv.Config.Handler.ServeHTTP(rec, req)
		}
		// The least of a few runs: goroutines (gqlgen's, per list
		// element) cost an allocation when none is free to reuse, which
		// depends on when the collector last ran. Each run starts with the
		// spans before it sent, their records back in the recorder's pool,
		// as a busy server's are a batch after another.
		least := math.Inf(1)
		for range 5 {
			_ = tp.ForceFlush(context.Background())
			least = min(least, testing.AllocsPerRun(20, serve))
		}
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) || bytes.Count(rec.Body.Bytes(), []byte(`"chatCount"`)) < 4 {
			t.Fatalf("HTTP %d: %.300s", rec.Code, rec.Body.Bytes())
		}
		return least
	}
	cost := func(token string) float64 { return allocs(traced, token) - allocs(plain, token) }
	few, many := cost(apptest.TokenLi), cost("tok-many")
	t.Logf("tracing adds %.0f allocations to the main query of 4 chats, %.0f to that of 40", few, many)
	if few <= 0 {
		t.Fatalf("tracing adds %.0f allocations: the traced server traced nothing", few)
	}
	if many-few > 36 { // fewer than one a chat
		t.Errorf("tracing adds %.0f allocations to the main query of 4 chats, %.0f to that of 40: a cost per field", few, many)
	}
}

// traceContext is a client's trace: its id and the span the request is
// sent from.
type traceContext struct {
	trace trace.TraceID
	span  trace.SpanID
}

// newTraceContext is a trace of its own for each n.
func newTraceContext(n byte) traceContext {
	return traceContext{
		trace: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, n},
		span:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, n},
	}
}

// header is the W3C traceparent of a sampled request from tc.
func (tc traceContext) header() string {
	return fmt.Sprintf("00-%s-%s-01", tc.trace, tc.span)
}

func graphQLRequest(t *testing.T, srv *apptest.Server, token, query string, tc traceContext) *http.Request {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("traceparent", tc.header())
	return req
}

// traces is a Recorder whose spans are kept in memory.
type traces struct {
	recorder *tracing.Recorder
	client   *tracingtest.Client
}

func newTraces(t *testing.T) traces {
	client := &tracingtest.Client{}
	rec := tracing.NewRecorder(client, tracing.Options{})
	t.Cleanup(func() { _ = rec.Shutdown(context.Background()) })
	return traces{rec, client}
}

// traceOf waits for the server's span of the request sent in tc, named
// root, to end (it may end just after the client has the answer), and
// returns the trace's spans. The root must continue the client's span.
func traceOf(t *testing.T, exp traces, tc traceContext, root string) []tracingtest.Span {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := exp.recorder.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var spans []tracingtest.Span
		ended := false
		for _, s := range exp.client.Spans() {
			if s.TraceID == tc.trace {
				spans = append(spans, s)
				ended = ended || s.Name == root
			}
		}
		if ended {
			r := spanNamed(t, spans, root)
			if r.Parent != tc.span || !r.RemoteParent {
				t.Errorf("%s: parent %v, want the client's span %v", root, r.Parent, tc.span)
			}
			if r.Kind != trace.SpanKindServer {
				t.Errorf("%s: kind %v, want server", root, r.Kind)
			}
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %s in trace %s; spans: %v", root, tc.trace, names(exp.client.Spans()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantTree compares the spans' tree, each span under its parent indented
// by two spaces, siblings in the order they started, with want.
func wantTree(t *testing.T, spans []tracingtest.Span, want string) {
	t.Helper()
	children := map[trace.SpanID][]tracingtest.Span{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanID] = true
	}
	var roots []tracingtest.Span
	for _, s := range spans {
		if p := s.Parent; ids[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(ss []tracingtest.Span, depth int)
	walk = func(ss []tracingtest.Span, depth int) {
		slices.SortStableFunc(ss, func(a, b tracingtest.Span) int { return a.Start.Compare(b.Start) })
		for _, s := range ss {
			fmt.Fprintf(&b, "\n%s%s", strings.Repeat("  ", depth), s.Name)
			walk(children[s.SpanID], depth+1)
		}
	}
	walk(roots, 0)
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("span tree (-want +got):\n%s", diff)
	}
}

// wantStatements checks that the trace has a span, of db.system engine,
// for each of the n statements the store ran.
func wantStatements(t *testing.T, spans []tracingtest.Span, engine string, n int64) {
	t.Helper()
	var got int64
	for _, s := range spans {
		if v, ok := s.Attr("db.system"); ok {
			got++
			if v != engine {
				t.Errorf("span %s: db.system %q, want %q", s.Name, v, engine)
			}
			if s.Kind != trace.SpanKindClient {
				t.Errorf("span %s: kind %v, want client", s.Name, s.Kind)
			}
		}
	}
	if got != n || n == 0 {
		t.Errorf("%d statement spans, and the store ran %d statements", got, n)
	}
}

func spanNamed(t *testing.T, spans []tracingtest.Span, name string) tracingtest.Span {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %s among %v", name, names(spans))
	return tracingtest.Span{}
}

func wantAttr(t *testing.T, s tracingtest.Span, key, want string) {
	t.Helper()
	if got, _ := s.Attr(key); got != want {
		t.Errorf("span %s: %s = %q, want %q", s.Name, key, got, want)
	}
}

func names(spans []tracingtest.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
