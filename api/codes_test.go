package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/documents"
	"opfacade/domain"
	"opfacade/store"
)

var readme = flag.String("readme", "../README.md", "the README whose GraphQL error-code table TestREADMEErrorCodes holds to the server")

// codeCase makes the server answer with code: the statuses when the
// client accepts application/json and application/graphql-response+json.
type codeCase struct {
	code          string
	why           string
	json, graphql int
	do            func(t *testing.T, s *codeServers, media string) httpReply
}

// postCase is a codeCase's request: a POST of body with the demo token.
func postCase(srv func(*codeServers) *apptest.Server, body any) func(*testing.T, *codeServers, string) httpReply {
	return func(t *testing.T, s *codeServers, media string) httpReply {
		return sendCall(t, srv(s), httpCall{body: body, accept: media, token: apptest.TokenLi})
	}
}

func (s *codeServers) plain() *apptest.Server { return s.get("plain", nil, nil) }

// codeCases make the server send every code the README's table lists,
// each at every status the table gives it.
func codeCases() []codeCase {
	aliases := "{" + strings.Repeat(" __typename", 501) + " }"
	manyTokens := "{ me { " + strings.Repeat("id ", 4000) + "} }"
	apqHash := documents.ID("{ me { name } }")
	return []codeCase{
		{"UNAUTHENTICATED", "no bearer token", 200, 200, func(t *testing.T, s *codeServers, media string) httpReply {
			return sendCall(t, s.plain(), httpCall{body: map[string]any{"query": "{ me { id } }"}, accept: media})
		}},
		{"FORBIDDEN", "an OP asks for another OP", 200, 200,
			postCase((*codeServers).plain, map[string]any{"query": `query ($id: ID!) { staff(id: $id) { id } }`, "variables": map[string]any{"id": apptest.StaffWang}})},
		{"BAD_USER_INPUT", "a page of more than 100 chats", 200, 200,
			postCase((*codeServers).plain, map[string]any{"query": `{ me { chatsConnection(first: 101) { totalCount } } }`})},
		{"SERVICE_UNAVAILABLE", "the database unavailable at the token check", 200, 200,
			postCase((*codeServers).unavailable, map[string]any{"query": "{ me { id } }"})},
		{"SERVICE_UNAVAILABLE", "the request deadline passes first", 503, 503,
			postCase((*codeServers).slow, map[string]any{"query": "{ me { id } }"})},
		{"INTERNAL_SERVER_ERROR", "an unexpected error at the token check", 200, 200,
			postCase((*codeServers).broken, map[string]any{"query": "{ me { id } }"})},
		{"INTERNAL_SERVER_ERROR", "a panic outside the resolvers", 500, 500,
			postCase((*codeServers).panicking, map[string]any{"query": "{ me { id } }"})},
		{"GRAPHQL_PARSE_FAILED", "a document that does not parse", 200, 400,
			postCase((*codeServers).plain, map[string]any{"query": "{ me {"})},
		{"GRAPHQL_VALIDATION_FAILED", "a field the schema lacks", 200, 400,
			postCase((*codeServers).plain, map[string]any{"query": "{ me { nope } }"})},
		{"TOKEN_LIMIT_EXCEEDED", "more tokens than -max-tokens", 200, 400,
			postCase((*codeServers).plain, map[string]any{"query": manyTokens})},
		{"DEPTH_LIMIT_EXCEEDED", "deeper than -max-depth", 200, 400,
			postCase((*codeServers).plain, map[string]any{"query": apptest.NestedQuery(5)})},
		{"TOO_MANY_FIELDS", "more fields than -max-fields", 200, 400,
			postCase((*codeServers).plain, map[string]any{"query": aliases})},
		{"COMPLEXITY_LIMIT_EXCEEDED", "costlier than -max-complexity", 200, 400,
			postCase((*codeServers).plain, map[string]any{"query": `{ me { chats { staff { chats { id } } } } }`})},
		{"PERSISTED_QUERY_NOT_FOUND", "a hash the server does not know", 200, 400,
			postCase((*codeServers).plain, map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.Repeat("0", 64)}}})},
		{"PERSISTED_QUERY_HASH_MISMATCH", "a query sent with another's hash", 400, 400,
			postCase((*codeServers).plain, map[string]any{"query": "{ me { id } }", "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": apqHash}}})},
		{"OPERATION_NOT_TRUSTED", "with -trusted-only, a query not in the manifest", 400, 400,
			postCase((*codeServers).trustedOnly, map[string]any{"query": "{ me { id } }"})},
		{"PAYLOAD_TOO_LARGE", "a body over -max-body", 413, 413,
			postCase((*codeServers).plain, `{"query":"`+strings.Repeat(" ", 70<<10)+`{ me { id } }"}`)},
		{"BATCHING_NOT_SUPPORTED", "a JSON array", 400, 400,
			postCase((*codeServers).plain, `[{"query":"{ me { id } }"}]`)},
		{"BAD_REQUEST", "a body that is not JSON", 400, 400,
			postCase((*codeServers).plain, `{"query":`)},
		{"BAD_REQUEST", "no query", 400, 400,
			postCase((*codeServers).plain, map[string]any{"variables": map[string]any{}})},
		{"CSRF_PREVENTED", "a text/plain POST", 400, 400, func(t *testing.T, s *codeServers, media string) httpReply {
			return sendCall(t, s.plain(), httpCall{body: map[string]any{"query": "{ me { id } }"}, accept: media, token: apptest.TokenLi, header: map[string]string{"Content-Type": "text/plain"}})
		}},
		{"CSRF_PREVENTED", "a GET without a preflight header", 400, 400, func(t *testing.T, s *codeServers, media string) httpReply {
			return sendCall(t, s.plain(), httpCall{method: "GET", params: url.Values{"query": {"{ me { id } }"}}, accept: media, token: apptest.TokenLi, header: map[string]string{"Apollo-Require-Preflight": ""}})
		}},
		{"METHOD_NOT_ALLOWED", "a PUT", 405, 405, func(t *testing.T, s *codeServers, media string) httpReply {
			return sendCall(t, s.plain(), httpCall{method: "PUT", accept: media, token: apptest.TokenLi})
		}},
		{"METHOD_NOT_ALLOWED", "a mutation over GET", 405, 405, func(t *testing.T, s *codeServers, media string) httpReply {
			return sendCall(t, s.plain(), httpCall{method: "GET", params: url.Values{"query": {"mutation { x }"}}, accept: media, token: apptest.TokenLi})
		}},
		{"UNSUPPORTED_MEDIA_TYPE", "a POST of application/graphql", 415, 415, func(t *testing.T, s *codeServers, media string) httpReply {
			return sendCall(t, s.plain(), httpCall{body: "{ me { id } }", accept: media, token: apptest.TokenLi, header: map[string]string{"Content-Type": "application/graphql"}})
		}},
		{"CORS_ORIGIN_NOT_ALLOWED", "a preflight from an origin not allowed", 403, 403, func(t *testing.T, s *codeServers, media string) httpReply {
			return sendCall(t, s.plain(), httpCall{method: "OPTIONS", accept: media, header: map[string]string{"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}})
		}},
		{"TOO_MANY_SUBSCRIPTIONS_FOR_TOKEN", "a second subscription of a token allowed one", 200, 200, func(t *testing.T, s *codeServers, media string) httpReply {
			srv := s.get("one per token "+media, func(c *app.Config) { c.Live.MaxPerToken = 1 }, nil)
			holdSSE(t, srv, apptest.TokenLi)
			return sseCall(t, srv, apptest.TokenLi)
		}},
		{"TOO_MANY_SUBSCRIPTIONS_ON_REPLICA", "a second subscription on a replica allowed one", 200, 200, func(t *testing.T, s *codeServers, media string) httpReply {
			srv := s.get("one per replica "+media, func(c *app.Config) { c.Live.MaxPerReplica = 1 }, nil)
			holdSSE(t, srv, apptest.TokenWang)
			return sseCall(t, srv, apptest.TokenLi)
		}},
		{"TOO_MANY_SUBSCRIPTIONS_ON_CONNECTION", "a second subscription on a WebSocket allowed one", 101, 101, func(t *testing.T, s *codeServers, media string) httpReply {
			srv := s.get("one per connection "+media, func(c *app.Config) { c.Live.MaxPerConnection = 1 }, nil)
			c, res, err := srv.TryDialWS(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			ws := &apptest.WS{T: t, C: c}
			ws.Init(apptest.TokenLi)
			ws.Subscribe("1", "subscription { me { id } }", nil)
			ws.Next("1")
			ws.Subscribe("2", "subscription { me { id } }", nil)
			m := ws.Must("next")
			a := httpReply{status: res.StatusCode, header: res.Header, raw: m.Payload, hasData: true}
			if err := json.Unmarshal(m.Payload, &a.res); err != nil {
				t.Fatal(err)
			}
			return a
		}},
		{"RATE_LIMITED", "a token over its share", 429, 429, func(t *testing.T, s *codeServers, media string) httpReply {
			srv := s.get("rate limited", func(c *app.Config) {
				c.RateLimit.PerSecond, c.RateLimit.Burst, c.RateLimit.Now = 1, 1, apptest.NewClock().Now
			}, nil)
			c := httpCall{body: map[string]any{"query": "{ __typename }"}, accept: media, token: apptest.TokenLi}
			sendCall(t, srv, c) // spends the burst of one, on a clock that stands still
			a := sendCall(t, srv, c)
			if a.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			return a
		}},
	}
}

// holdSSE opens a subscription over SSE for token, held until the test
// ends.
func holdSSE(t *testing.T, srv *apptest.Server, token string) {
	t.Helper()
	st := srv.StreamSSE(t, http.Header{"Authorization": {"Bearer " + token}}, "subscription { me { id } }")
	if ev, err := st.Next(); err != nil || ev.Name != "next" || strings.Contains(ev.Data, `"errors"`) {
		t.Fatalf("holding a subscription: %+v, %v", ev, err)
	}
}

// sseCall subscribes over SSE with token, and returns the first event's
// answer, under the stream's HTTP status.
func sseCall(t *testing.T, srv *apptest.Server, token string) httpReply {
	t.Helper()
	st := srv.StreamSSE(t, http.Header{"Authorization": {"Bearer " + token}}, "subscription { me { id } }")
	ev, err := st.Next()
	if err != nil || ev.Name != "next" {
		t.Fatalf("first event: %+v, %v", ev, err)
	}
	a := httpReply{status: st.Res.StatusCode, header: st.Res.Header, raw: []byte(ev.Data)}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(a.raw, &members); err != nil {
		t.Fatal(err)
	}
	_, a.hasData = members["data"]
	if err := json.Unmarshal(a.raw, &a.res); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestErrorCodes makes the server send every code of the README's table
// through the real routes, for a client that accepts application/json and
// one that accepts application/graphql-response+json, and checks the
// status and extensions.code of each; TestREADMEErrorCodes holds the
// table to these cases.
func TestErrorCodes(t *testing.T) {
	s := newCodeServers(t)
	for _, cc := range codeCases() {
		for _, media := range []string{mediaJSON, mediaGraphQL} {
			t.Run(cc.code+" "+cc.why+" "+media, func(t *testing.T) {
				want := cc.json
				if media == mediaGraphQL {
					want = cc.graphql
				}
				a := cc.do(t, s, media)
				if a.status != want || len(a.res.Errors) != 1 || a.res.Errors[0].Extensions["code"] != cc.code {
					t.Fatalf("HTTP %d, want %d with one %s error: %.400s", a.status, want, cc.code, a.raw)
				}
				// An httpReply without data is never 2xx under
				// application/graphql-response+json.
				if media == mediaGraphQL && !a.hasData && a.status < 300 {
					t.Errorf("HTTP %d without a data member", a.status)
				}
				// Nothing in the httpReply repeats the token.
				if strings.Contains(string(a.raw), apptest.TokenLi) {
					t.Errorf("the httpReply repeats the token: %s", a.raw)
				}
			})
		}
	}
}

// TestREADMEErrorCodes holds the README's GraphQL error-code table to
// TestErrorCodes: the table lists exactly the codes the cases make the
// server send, and each row's HTTP cell names exactly the statuses the
// cases see for its codes.
func TestREADMEErrorCodes(t *testing.T) {
	rows := readmeCodeTable(t)
	seen := map[string][]int{}
	for _, cc := range codeCases() {
		for _, st := range []int{cc.json, cc.graphql} {
			if !slices.Contains(seen[cc.code], st) {
				seen[cc.code] = append(seen[cc.code], st)
			}
		}
	}
	for _, code := range slices.Sorted(maps.Keys(seen)) {
		statuses := seen[code]
		row, ok := rows[code]
		if !ok {
			t.Errorf("the README's error table lacks %s (HTTP %v), which the server sends", code, statuses)
			continue
		}
		slices.Sort(statuses)
		if !slices.Equal(row, statuses) {
			t.Errorf("the README gives %s the HTTP statuses %v; the server sends %v", code, row, statuses)
		}
	}
	for _, code := range slices.Sorted(maps.Keys(rows)) {
		if _, ok := seen[code]; !ok {
			t.Errorf("the README's error table lists %s, which no case of TestErrorCodes makes the server send", code)
		}
	}
}

// readmeCodeTable reads the README's table of GraphQL error codes (the
// one headed | code | HTTP | when |): the HTTP statuses its HTTP cell
// names, by each code its first cell names.
func readmeCodeTable(t *testing.T) map[string][]int {
	t.Helper()
	raw, err := os.ReadFile(*readme)
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(raw), "\n| code | HTTP | when |\n")
	if !ok {
		t.Fatalf("%s has no table headed | code | HTTP | when |", *readme)
	}
	code := regexp.MustCompile("`([A-Z_]+)`")
	status := regexp.MustCompile(`\b[1-5][0-9][0-9]\b`)
	rows := map[string][]int{}
	for _, line := range strings.Split(table, "\n")[1:] { // after | --- |
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) < 3 {
			t.Fatalf("a row of the error table has %d cells: %s", len(cells), line)
		}
		var statuses []int
		for _, s := range status.FindAllString(cells[1], -1) {
			var n int
			fmt.Sscan(s, &n)
			if !slices.Contains(statuses, n) {
				statuses = append(statuses, n)
			}
		}
		slices.Sort(statuses)
		codes := code.FindAllStringSubmatch(cells[0], -1)
		if len(codes) == 0 {
			t.Fatalf("a row of the error table names no code: %s", line)
		}
		for _, m := range codes {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("the error table lists %s twice", m[1])
			}
			rows[m[1]] = statuses
		}
	}
	return rows
}

// codeServers are the servers the cases need, each started once, over
// one database: the defaults, and servers with faults or settings.
type codeServers struct {
	t  *testing.T
	db string
	mu sync.Mutex
	m  map[string]*apptest.Server
}

func newCodeServers(t *testing.T) *codeServers {
	return &codeServers{t: t, db: apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), m: map[string]*apptest.Server{}}
}

// get is the server named name, started with configure and wrap (nil:
// none) the first time.
func (s *codeServers) get(name string, configure func(*app.Config), wrap func(*store.Store) app.Backend) *apptest.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if srv, ok := s.m[name]; ok {
		return srv
	}
	var opts []func(*app.Config)
	if configure != nil {
		opts = append(opts, configure)
	}
	if wrap == nil {
		wrap = func(st *store.Store) app.Backend { return st }
	}
	srv := apptest.NewServerOver(s.t, apptest.Config(s.t, s.db, opts...), wrap)
	s.m[name] = srv
	return srv
}

func (s *codeServers) unavailable() *apptest.Server {
	return s.get("unavailable", nil, func(st *store.Store) app.Backend {
		return tokenFault{st, func(context.Context) error {
			return domain.Wrap(domain.EUNAVAILABLE, errors.New("injected outage"), "the database is unavailable")
		}}
	})
}

func (s *codeServers) broken() *apptest.Server {
	return s.get("broken", nil, func(st *store.Store) app.Backend {
		return tokenFault{st, func(context.Context) error { return errors.New("injected: no such table: op_token") }}
	})
}

func (s *codeServers) panicking() *apptest.Server { return s.get("panicking", nil, panicking) }

func (s *codeServers) slow() *apptest.Server {
	return s.get("slow", func(c *app.Config) { c.Limits.Timeout = 100 * time.Millisecond }, func(st *store.Store) app.Backend {
		// Busy past the deadline, as a SQLite busy wait that does not
		// watch the context: the front door answers without it.
		return tokenFault{st, func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(200 * time.Millisecond)
			return domain.Wrap(domain.EUNAVAILABLE, context.Cause(ctx), "the database is unavailable")
		}}
	})
}

func (s *codeServers) trustedOnly() *apptest.Server {
	return s.get("trusted only", func(c *app.Config) {
		c.TrustedDocuments, c.TrustedOnly = filepath.Join("..", "documents", "manifest.json"), true
	}, nil)
}

// tokenFault is a store whose token check fails with what fault returns.
type tokenFault struct {
	*store.Store
	fault func(context.Context) error
}

func (f tokenFault) StaffByToken(ctx context.Context, token string) (domain.Staff, error) {
	if err := f.fault(ctx); err != nil {
		return domain.Staff{}, err
	}
	return f.Store.StaffByToken(ctx, token)
}

// panicking is a store whose token check panics, outside the resolvers.
func panicking(st *store.Store) app.Backend { return panicStore{st} }

type panicStore struct{ *store.Store }

func (panicStore) StaffByToken(context.Context, string) (domain.Staff, error) {
	panic("injected fault in StaffByToken")
}
