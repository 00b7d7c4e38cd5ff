package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"opfacade/api"
	"opfacade/app"
	"opfacade/app/apptest"
)

// postQuery POSTs one operation as JSON with a bearer token and returns
// the status and the decoded answer.
func postQuery(t testing.TB, s *apptest.Server, token, query string) (int, apptest.GraphQLResponse, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	status, raw := s.RawDo(t, http.MethodPost, "/query", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, bytes.NewReader(body))
	var out apptest.GraphQLResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("HTTP %d, not JSON: %v: %s", status, err, raw)
	}
	return status, out, raw
}

// wantOneError checks that an answer is exactly one error with code, no
// data, and the wanted HTTP status.
func wantOneError(t testing.TB, status int, res apptest.GraphQLResponse, raw []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("HTTP %d, want %d: %.300s", status, wantStatus, raw)
	}
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != wantCode {
		t.Fatalf("want one %s error, got %.300s", wantCode, raw)
	}
	if len(res.Data) != 0 && string(res.Data) != "null" {
		t.Fatalf("want no data, got %.300s", raw)
	}
}

func TestGraphQLDocumentLimits(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{ ")
		for i := range n {
			fmt.Fprintf(&b, "a%d: __typename ", i)
		}
		b.WriteString("}")
		return b.String()
	}
	// Each fragment spreads the one before twice: 2^40 fields once
	// expanded, a few hundred bytes written.
	var bomb strings.Builder
	bomb.WriteString("{ me { ...F40 } } fragment F0 on Staff { id name }\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&bomb, "fragment F%d on Staff { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	tests := []struct {
		name     string
		query    string
		status   int
		wantCode string
	}{
		{"nesting past the depth limit", apptest.NestedQuery(5), 200, api.CodeDepthLimit},
		{"a chat list inside a chat list", `{ me { chats { staff { chats { id } } } } }`, 200, api.CodeComplexityLimit},
		{"many aliases of one field", aliases(501), 200, api.CodeTooManyFields},
		{"aliases up to the limit", aliases(500), 200, ""},
		{"a fragment bomb", bomb.String(), 200, api.CodeTooManyFields},
		{"a document over the token limit", "{ me { " + strings.Repeat("id ", 4000) + "} }", 200, api.CodeTokenLimit},
		{"an introspection bomb", `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"the consoles' query, twice", apptest.MeChatsQuery[len("query MyChats "):len(apptest.MeChatsQuery)-1] + ` admin: staff(id: "` + apptest.StaffLi + `") { id name role isOnline chats { id groupId title status storedStatus address message createTime user { id nickName icon grade { chatCount orderCount serviceCount } } staff { id name } } } }`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, res, raw := postQuery(t, srv, apptest.TokenAdmin, tt.query)
			if tt.wantCode == "" {
				if status != 200 || len(res.Errors) > 0 {
					t.Fatalf("HTTP %d: %.500s", status, raw)
				}
				return
			}
			wantOneError(t, status, res, raw, tt.status, tt.wantCode)
			t.Logf("%s", res.Errors[0].Message)
		})
	}
}

// TestGraphQLIntrospectionFits runs the playground's introspection query
// (graphql-js's, every option on): the limits must admit it.
func TestGraphQLIntrospectionFits(t *testing.T) {
	q, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, db))
	status, res, raw := postQuery(t, srv, "", string(q))
	if status != 200 || len(res.Errors) > 0 || !bytes.Contains(res.Data, []byte(`"name":"Staff"`)) {
		t.Fatalf("HTTP %d: %.500s", status, raw)
	}
	// And with the limits tightened below it (-max-fields=100,
	// -max-tokens=100), each refuses it by name.
	for _, l := range []struct {
		tighten func(*app.Config)
		code    string
	}{
		{func(c *app.Config) { c.Limits.MaxFields = 100 }, api.CodeTooManyFields},
		{func(c *app.Config) { c.Limits.MaxTokens = 100 }, api.CodeTokenLimit},
	} {
		tight := apptest.NewServer(t, apptest.Config(t, db, l.tighten))
		status, res, raw := postQuery(t, tight, "", string(q))
		wantOneError(t, status, res, raw, 200, l.code)
	}
}

func TestGraphQLBodyLimits(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	big := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 64<<10) + `"}}`
	jsonCT := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + apptest.TokenLi}
	tests := []struct {
		name     string
		body     io.Reader
		status   int
		wantCode string
	}{
		{"a body over 64 KiB", strings.NewReader(big), 413, api.CodePayloadTooLarge},
		// No Content-Length: the limit is found while reading.
		{"a streamed body over 64 KiB", io.MultiReader(strings.NewReader(big)), 413, api.CodePayloadTooLarge},
		{"a batch", strings.NewReader(`[{"query":"{ me { id } }"},{"query":"{ me { name } }"}]`), 400, api.CodeBatching},
		{"a batch after white space", strings.NewReader(" \n\t[{\"query\":\"{ me { id } }\"}]"), 400, api.CodeBatching},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := srv.RawDo(t, http.MethodPost, "/query", jsonCT, tt.body)
			var res apptest.GraphQLResponse
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatalf("HTTP %d, not JSON: %s", status, raw)
			}
			wantOneError(t, status, res, raw, tt.status, tt.wantCode)
		})
	}
	// Just under the limit is served.
	under := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 64<<10-100) + `"}}`
	status, raw := srv.RawDo(t, http.MethodPost, "/query", jsonCT, strings.NewReader(under))
	if status != 200 || !bytes.Contains(raw, []byte(apptest.StaffLi)) {
		t.Fatalf("a body under the limit: HTTP %d: %.300s", status, raw)
	}
}

func TestGraphQLCSRFPrevention(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	const q = `{ me { id } }`
	jsonBody := `{"query":"` + q + `"}`
	get := "/query?" + url.Values{"query": {q}}.Encode()
	bearer := "Bearer " + apptest.TokenLi
	tests := []struct {
		name     string
		method   string
		target   string
		header   map[string]string
		body     string
		status   int
		wantCode string // "" when the query must run
	}{
		{"POST JSON", "POST", "/query", map[string]string{"Content-Type": "application/json"}, jsonBody, 200, ""},
		{"POST JSON with charset", "POST", "/query", map[string]string{"Content-Type": "application/json; charset=utf-8"}, jsonBody, 200, ""},
		{"POST text/plain", "POST", "/query", map[string]string{"Content-Type": "text/plain"}, jsonBody, 400, api.CodeCSRF},
		{"POST text/plain with charset", "POST", "/query", map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, jsonBody, 400, api.CodeCSRF},
		{"POST form", "POST", "/query", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "query=" + url.QueryEscape(q), 400, api.CodeCSRF},
		{"POST multipart", "POST", "/query", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n" + q + "\r\n--x--\r\n", 400, api.CodeCSRF},
		{"POST without Content-Type", "POST", "/query", nil, jsonBody, 400, api.CodeCSRF},
		{"GET without a preflight header", "GET", get, nil, "", 400, api.CodeCSRF},
		{"GET with an empty preflight header", "GET", get, map[string]string{"Apollo-Require-Preflight": ""}, "", 400, api.CodeCSRF},
		{"GET with Apollo-Require-Preflight", "GET", get, map[string]string{"Apollo-Require-Preflight": "true"}, "", 200, ""},
		{"GET with X-Apollo-Operation-Name", "GET", get, map[string]string{"X-Apollo-Operation-Name": "Me"}, "", 200, ""},
		{"GET with X-Requested-With", "GET", get, map[string]string{"X-Requested-With": "XMLHttpRequest"}, "", 200, ""},
		{"GET with a non-simple Content-Type", "GET", get, map[string]string{"Content-Type": "application/json"}, "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Authorization": bearer}
			for k, v := range tt.header {
				h[k] = v
			}
			status, raw := srv.RawDo(t, tt.method, tt.target, h, strings.NewReader(tt.body))
			var res apptest.GraphQLResponse
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatalf("HTTP %d, not JSON: %s", status, raw)
			}
			if tt.wantCode == "" {
				if status != 200 || len(res.Errors) > 0 || !bytes.Contains(res.Data, []byte(apptest.StaffLi)) {
					t.Fatalf("HTTP %d: %s", status, raw)
				}
				return
			}
			wantOneError(t, status, res, raw, tt.status, tt.wantCode)
		})
	}
	// A preflight header lets a text/plain POST past the CSRF check, but
	// the POST transport takes JSON only: nothing runs.
	status, raw := srv.RawDo(t, "POST", "/query", map[string]string{"Authorization": bearer, "Content-Type": "text/plain", "Apollo-Require-Preflight": "true"}, strings.NewReader(jsonBody))
	if status != http.StatusUnsupportedMediaType || bytes.Contains(raw, []byte(apptest.StaffLi)) {
		t.Fatalf("text/plain POST with a preflight header: HTTP %d: %s", status, raw)
	}
	// GET runs queries only.
	status, raw = srv.RawDo(t, "GET", "/query?"+url.Values{"query": {`mutation { x }`}}.Encode(), map[string]string{"Authorization": bearer, "Apollo-Require-Preflight": "true"}, nil)
	if status == 200 {
		t.Fatalf("a mutation over GET: HTTP %d: %s", status, raw)
	}
}

func TestGraphQLSuggestionsFollowIntrospection(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	for _, on := range []bool{true, false} {
		srv := apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) { c.Introspection = on }))
		_, res, raw := postQuery(t, srv, apptest.TokenLi, `{ me { nam } }`)
		if len(res.Errors) != 1 {
			t.Fatalf("introspection %v: %s", on, raw)
		}
		if got := strings.Contains(res.Errors[0].Message, "Did you mean"); got != on {
			t.Errorf("introspection %v: suggestions shown = %v: %s", on, got, raw)
		}
		_, res, raw = postQuery(t, srv, "", `{ __schema { queryType { name } } }`)
		if got := len(res.Errors) == 0; got != on {
			t.Errorf("introspection %v: schema readable = %v: %s", on, got, raw)
		}
	}
}
