package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"opfacade/app/apptest"
)

// FuzzGraphQL posts generated documents to the GraphQL endpoint of a
// server over the fixture database. Whatever the document, the answer is
// a GraphQL response with a status the endpoint means to give: never a
// 5xx but the deadline's 503, never a panic.
func FuzzGraphQL(f *testing.F) {
	intro, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{
		apptest.MeChatsQuery,
		string(intro),
		`{ me { id name role isOnline } }`,
		`query($id: ID!) { staff(id: $id) { id name chats(status: [CLOSED, UNKNOWN]) { id status storedStatus } } }`,
		`query Q($s: [ChatStatus!]!) { me { chats(status: $s) { id createTime user { grade { chatCount } } } } }`,
		`{ me { ...F } } fragment F on Staff { id ... on Staff { name } }`,
		`{ me { chats { staff { chats { id } } } } }`,
		`{ a: me { id } b: me { id } __typename }`,
		`{ me { id @skip(if: true) name @include(if: false) } }`,
		`{ __type(name: "Staff") { fields { name type { name ofType { name } } } } }`,
		`{ me { nope } }`,
		`{ me { id }`,
		`mutation { x }`,
		`subscription { me { id } }`,
		`query A { me { id } } query B { me { name } }`,
		`{ staff(id: "' OR 1=1 --") { id } }`,
		`{ staff(id: 123) { id } }`,
		"{ me { id } } # \x00 \xff",
		`fragment F on Staff { ...F } { me { ...F } }`,
		`"""desc""" { me { id } }`,
		`{ me { chats(status: [SERVICE, SERVICE, SERVICE]) { id } } }`,
	} {
		f.Add(q, `{"id":"u0001a5f0c3d2e1b04c7e9f8a6b5c4d3e2f10","s":["SERVICE"]}`)
	}
	f.Add(`query($id: ID!) { staff(id: $id) { id } }`, `{"id":{"nested":[1,2,3]}}`)
	f.Add(`query($s: [ChatStatus!]!) { me { chats(status: $s) { id } } }`, `{"s":"WAIT"}`)
	f.Add(`{ me { id } }`, `[1]`)

	// One server per worker process (go test runs this function once in
	// each), called in-process: a loopback round trip per execution would
	// cost more than the request's work, and the HTTP server's own
	// goroutines would lend executions coverage that is not theirs.
	// The fair share is off: the fuzzer sends one token thousands of
	// times a second, and what it explores is the body.
	srv := apptest.NewServer(f, apptest.Config(f, apptest.NewSQLiteDB(f, apptest.FixtureScripts()...), apptest.NoRateLimit))
	h := srv.Config.Handler
	logged := 0 // the log is searched from here on: it only grows
	f.Fuzz(func(t *testing.T, query, variables string) {
		req := map[string]any{"query": query}
		if json.Valid([]byte(variables)) {
			req["variables"] = json.RawMessage(variables)
		}
		body, err := json.Marshal(req)
		if err != nil {
			t.Skip()
		}
		for _, token := range []string{apptest.TokenAdmin, ""} {
			r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			status, raw := w.Code, w.Body.Bytes()
			var res apptest.GraphQLResponse
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatalf("HTTP %d, not JSON: %.300s", status, raw)
			}
			switch status {
			case 200, 400, 413, 422:
			case 503:
				if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" {
					t.Fatalf("HTTP 503 without SERVICE_UNAVAILABLE: %s", raw)
				}
			default:
				t.Fatalf("HTTP %d: %.300s\nquery: %q", status, raw, query)
			}
			if len(res.Errors) == 0 && (len(res.Data) == 0 || string(res.Data) == "null") {
				t.Fatalf("neither data nor errors: %s", raw)
			}
			for _, e := range res.Errors {
				if e.Extensions["code"] == "INTERNAL_SERVER_ERROR" {
					t.Fatalf("internal error for %q: %s", query, raw)
				}
			}
		}
		var logs string
		logs, logged = srv.Logs.Since(logged)
		if strings.Contains(logs, "panic") {
			t.Fatalf("panic for %q:\n%s", query, logs)
		}
	})
}
