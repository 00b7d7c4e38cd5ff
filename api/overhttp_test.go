package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opfacade/app/apptest"
)

// The media types a client may accept (GraphQL over HTTP).
const (
	mediaJSON    = "application/json"
	mediaGraphQL = "application/graphql-response+json"
)

// httpCall is one request to /query.
type httpCall struct {
	method string     // GET or POST; POST when empty
	body   any        // POST: marshalled to JSON, or sent as it is when a string
	params url.Values // GET: the URL's query
	accept string     // the Accept header; none when empty
	token  string     // the bearer token; none when empty
	header map[string]string
}

// httpReply is what the server said.
type httpReply struct {
	status int
	header http.Header
	res    apptest.GraphQLResponse
	raw    []byte
	// hasData: the answer has a data member (null included).
	hasData bool
}

// sendCall sends c to srv and decodes the answer, which must be JSON.
func sendCall(t testing.TB, srv *apptest.Server, c httpCall) httpReply {
	t.Helper()
	var req *http.Request
	switch c.method {
	case "GET":
		req, _ = http.NewRequest(http.MethodGet, srv.URL+"/query?"+c.params.Encode(), nil)
		req.Header.Set("Apollo-Require-Preflight", "true")
	case "", "POST":
		body, ok := c.body.(string)
		if !ok {
			b, err := json.Marshal(c.body)
			if err != nil {
				t.Fatal(err)
			}
			body = string(b)
		}
		req, _ = http.NewRequest(http.MethodPost, srv.URL+"/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	default:
		req, _ = http.NewRequest(c.method, srv.URL+"/query", nil)
	}
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, raw := srv.Do(t, req)
	a := httpReply{status: res.StatusCode, header: res.Header, raw: raw}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		t.Fatalf("HTTP %d, not a JSON object: %v: %.300s", res.StatusCode, err, raw)
	}
	_, a.hasData = members["data"]
	if err := json.Unmarshal(raw, &a.res); err != nil {
		t.Fatalf("HTTP %d: %v: %.300s", res.StatusCode, err, raw)
	}
	return a
}

// wantData checks an answer with data and no error.
func (a httpReply) wantData(t testing.TB, media string) {
	t.Helper()
	if a.status != 200 || len(a.res.Errors) > 0 || len(a.res.Data) == 0 || string(a.res.Data) == "null" {
		t.Fatalf("HTTP %d, want 200 with data: %.500s", a.status, a.raw)
	}
	if ct := a.header.Get("Content-Type"); ct != media {
		t.Errorf("Content-Type %q, want %q", ct, media)
	}
}

// wantRequestError checks the answer to a request refused before it ran:
// the status, one error with code, no data member, the media type asked
// for, and no-store.
func (a httpReply) wantRequestError(t testing.TB, media string, status int, code string) {
	t.Helper()
	if a.status != status || len(a.res.Errors) != 1 || a.res.Errors[0].Extensions["code"] != code {
		t.Fatalf("HTTP %d, want %d with one %s error: %.500s", a.status, status, code, a.raw)
	}
	if a.hasData {
		t.Errorf("a request error with a data member: %s", a.raw)
	}
	if ct := a.header.Get("Content-Type"); ct != media {
		t.Errorf("Content-Type %q, want %q", ct, media)
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// wantErrorStatus is the status of a document that does not parse,
// validate or fit the limits, by the media type accepted.
func wantErrorStatus(media string) int {
	if media == mediaGraphQL {
		return 400
	}
	return 200
}

// TestMediaTypes checks that the answer is in the media type the client
// accepts, application/json when it names neither (or none), on both
// transports.
func TestMediaTypes(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	tests := []struct{ accept, want string }{
		{"", mediaJSON},
		{"*/*", mediaJSON},
		{"application/*", mediaJSON},
		{"application/json", mediaJSON},
		{"application/graphql-response+json", mediaGraphQL},
		{"application/graphql-response+json; charset=utf-8", mediaGraphQL},
		{"application/graphql-response+json,application/json;q=0.9", mediaGraphQL}, // Apollo Client 4
		{"application/json, application/graphql-response+json", mediaJSON},
		{"application/json;q=0.5, application/graphql-response+json", mediaGraphQL},
		{"application/graphql-response+json;q=0, application/json", mediaJSON},
		{"text/html", mediaJSON},
		{"text/html, */*;q=0.1", mediaJSON},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			sendCall(t, srv, httpCall{body: map[string]any{"query": "{ me { id } }"}, accept: tt.accept, token: apptest.TokenLi}).wantData(t, tt.want)
			sendCall(t, srv, httpCall{method: "GET", params: url.Values{"query": {"{ me { id } }"}}, accept: tt.accept, token: apptest.TokenLi}).wantData(t, tt.want)
		})
	}
}

// TestRequestErrors checks the answers to requests refused before they
// run, as GraphQL over HTTP asks for each media type: a document that
// does not parse or validate, or variables that do not coerce, is 200
// under application/json and 400 under application/graphql-response+json,
// and a request that is no GraphQL request 400 under both; neither has a
// data member.
func TestRequestErrors(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	tests := []struct {
		name   string
		c      httpCall
		status int // 0: wantErrorStatus
		code   string
		// guard: the HTTP guards refuse the request before a transport
		// reads it, in application/json whatever the client accepts.
		guard bool
	}{
		{name: "a document that does not parse", c: httpCall{body: map[string]any{"query": "{"}}, code: "GRAPHQL_PARSE_FAILED"},
		{name: "an unknown field", c: httpCall{body: map[string]any{"query": "{ nope }"}}, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "no operation in the document", c: httpCall{body: map[string]any{"query": "# nothing"}}, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "an unknown operation name", c: httpCall{body: map[string]any{"query": "query A { __typename }", "operationName": "B"}}, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "a variable that does not coerce", c: httpCall{body: map[string]any{"query": "query ($id: ID!) { staff(id: $id) { id } }", "variables": map[string]any{"id": nil}}}, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "a missing variable", c: httpCall{body: map[string]any{"query": "query ($id: ID!) { staff(id: $id) { id } }"}}, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "no query", c: httpCall{body: map[string]any{"qeury": "{ __typename }"}}, status: 400, code: "BAD_REQUEST"},
		{name: "an empty query", c: httpCall{body: map[string]any{"query": ""}}, status: 400, code: "BAD_REQUEST"},
		{name: "a query that is no string", c: httpCall{body: map[string]any{"query": 1}}, status: 400, code: "BAD_REQUEST", guard: true},
		{name: "variables that are no object", c: httpCall{body: map[string]any{"query": "{ __typename }", "variables": []int{1}}}, status: 400, code: "BAD_REQUEST", guard: true},
		{name: "extensions that are no object", c: httpCall{body: map[string]any{"query": "{ __typename }", "extensions": "x"}}, status: 400, code: "BAD_REQUEST", guard: true},
		{name: "an operationName that is no string", c: httpCall{body: map[string]any{"query": "{ __typename }", "operationName": false}}, status: 400, code: "BAD_REQUEST", guard: true},
		{name: "a GET without query", c: httpCall{method: "GET", params: url.Values{"operationName": {"A"}}}, status: 400, code: "BAD_REQUEST"},
		{name: "a GET whose variables are no JSON object", c: httpCall{method: "GET", params: url.Values{"query": {"{ __typename }"}, "variables": {"[1]"}}}, status: 400, code: "BAD_REQUEST"},
		{name: "a GET whose extensions are not JSON", c: httpCall{method: "GET", params: url.Values{"query": {"{ __typename }"}, "extensions": {"{"}}}, status: 400, code: "BAD_REQUEST"},
		{name: "a GET of a mutation", c: httpCall{method: "GET", params: url.Values{"query": {"mutation { x }"}}}, status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "a GET of a subscription, by name", c: httpCall{method: "GET", params: url.Values{"query": {"query A { __typename } subscription B { x }"}, "operationName": {"B"}}}, status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "a GET that does not parse", c: httpCall{method: "GET", params: url.Values{"query": {"{"}}}, code: "GRAPHQL_PARSE_FAILED"},
	}
	for _, tt := range tests {
		for _, media := range []string{mediaJSON, mediaGraphQL} {
			t.Run(tt.name+" "+media, func(t *testing.T) {
				c := tt.c
				c.accept, c.token = media, apptest.TokenLi
				status := tt.status
				if status == 0 {
					status = wantErrorStatus(media)
				}
				a := sendCall(t, srv, c)
				want := media
				if tt.guard {
					want = mediaJSON
				}
				a.wantRequestError(t, want, status, tt.code)
				if status == 405 && a.header.Get("Allow") != "POST" {
					t.Errorf("Allow %q, want POST", a.header.Get("Allow"))
				}
			})
		}
	}
	// A document that fails at the token check has run: data null, 200.
	for _, media := range []string{mediaJSON, mediaGraphQL} {
		a := sendCall(t, srv, httpCall{body: map[string]any{"query": "{ me { id } }"}, accept: media})
		if a.status != 200 || !a.hasData || string(a.res.Data) != "null" || len(a.res.Errors) != 1 || a.res.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("%s: no token: HTTP %d %s, want 200 with data null and UNAUTHENTICATED", media, a.status, a.raw)
		}
	}
}

// TestPanicAnswerIsJSON checks that gqlgen's answer to a panic around
// the operation has the JSON type the transport set first.
func TestPanicAnswerIsJSON(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServerOver(t, apptest.Config(t, db), panicking)
	for _, media := range []string{mediaJSON, mediaGraphQL} {
		a := sendCall(t, srv, httpCall{body: map[string]any{"query": "{ me { id } }"}, accept: media, token: apptest.TokenLi})
		if a.status != 500 || len(a.res.Errors) != 1 || a.res.Errors[0].Extensions["code"] != "INTERNAL_SERVER_ERROR" || bytes.Contains(a.raw, []byte("injected")) {
			t.Fatalf("HTTP %d %s, want 500 INTERNAL_SERVER_ERROR", a.status, a.raw)
		}
		if ct := a.header.Get("Content-Type"); ct != media {
			t.Errorf("Content-Type %q, want %q", ct, media)
		}
	}
}
