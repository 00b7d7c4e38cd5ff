package api_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/documents"
)

// manifestPath is the consoles' manifest, as the server loads it with
// -trusted-documents.
var manifestPath = filepath.Join("..", "documents", "manifest.json")

// persisted is extensions.persistedQuery as Apollo clients send it.
func persisted(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// persistedURL is the same, as a GET's extensions parameter.
func persistedURL(hash string) string {
	b, _ := json.Marshal(persisted(hash))
	return string(b)
}

// TestAutomaticPersistedQueries runs Apollo's automatic persisted query
// handshake on each transport and media type: the hash alone is
// PERSISTED_QUERY_NOT_FOUND until the query is sent with it, and then
// runs the query; a hash that is not the query's, or an extension that is
// not version 1, is refused.
func TestAutomaticPersistedQueries(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	for i, media := range []string{mediaJSON, mediaGraphQL} {
		t.Run(media, func(t *testing.T) {
			// A query of its own per media type: the cache is the server's.
			query := `query Mine($all: [ChatStatus!]!) { me { name chats(status: $all) { id } } }` + strings.Repeat(" ", i)
			hash := documents.ID(query)
			vars := map[string]any{"all": []string{"SERVICE", "CLOSED"}}

			hashOnly := httpCall{body: map[string]any{"variables": vars, "extensions": persisted(hash)}, accept: media, token: apptest.TokenLi}
			a := sendCall(t, srv, hashOnly)
			a.wantRequestError(t, media, wantErrorStatus(media), "PERSISTED_QUERY_NOT_FOUND")
			if a.res.Errors[0].Message != "PersistedQueryNotFound" {
				t.Errorf("message %q: Apollo clients of old look for PersistedQueryNotFound", a.res.Errors[0].Message)
			}
			get := httpCall{method: "GET", params: url.Values{"variables": {`{"all":["SERVICE","CLOSED"]}`}, "extensions": {persistedURL(hash)}}, accept: media, token: apptest.TokenLi}
			sendCall(t, srv, get).wantRequestError(t, media, wantErrorStatus(media), "PERSISTED_QUERY_NOT_FOUND")

			// The client sends the query with its hash: it runs, and is kept.
			withQuery := hashOnly
			withQuery.body = map[string]any{"query": query, "variables": vars, "extensions": persisted(hash)}
			full := sendCall(t, srv, withQuery)
			full.wantData(t, media)
			if !strings.Contains(string(full.res.Data), `"name":"小李"`) {
				t.Fatalf("data %s", full.res.Data)
			}

			// The hash alone now runs it, by POST and by GET.
			again := sendCall(t, srv, hashOnly)
			again.wantData(t, media)
			apptest.AssertJSON(t, string(full.res.Data), again.res.Data)
			byGET := sendCall(t, srv, get)
			byGET.wantData(t, media)
			apptest.AssertJSON(t, string(full.res.Data), byGET.res.Data)

			// A GET needs its preflight header, persisted or not.
			noPreflight := get
			noPreflight.header = map[string]string{"Apollo-Require-Preflight": ""}
			if a := sendCall(t, srv, noPreflight); a.status != 400 || a.res.Errors[0].Extensions["code"] != "CSRF_PREVENTED" {
				t.Errorf("a GET without a preflight header: HTTP %d %s", a.status, a.raw)
			}
		})
	}

	const query = `{ me { id } }`
	for _, media := range []string{mediaJSON, mediaGraphQL} {
		tests := []struct {
			name   string
			body   map[string]any
			code   string
			status int
		}{
			{"a hash that is not the query's", map[string]any{"query": query, "extensions": persisted(documents.ID(query + " "))}, "PERSISTED_QUERY_HASH_MISMATCH", 400},
			{"a hash in capitals", map[string]any{"query": query, "extensions": persisted(strings.ToUpper(documents.ID(query)))}, "PERSISTED_QUERY_HASH_MISMATCH", 400},
			{"version 2", map[string]any{"query": query, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": documents.ID(query)}}}, "BAD_REQUEST", 400},
			{"no version", map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"sha256Hash": documents.ID(query)}}}, "BAD_REQUEST", 400},
			{"no hash", map[string]any{"query": query, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1}}}, "BAD_REQUEST", 400},
			{"an extension that is no object", map[string]any{"query": query, "extensions": map[string]any{"persistedQuery": "x"}}, "BAD_REQUEST", 400},
		}
		for _, tt := range tests {
			t.Run(tt.name+" "+media, func(t *testing.T) {
				sendCall(t, srv, httpCall{body: tt.body, accept: media, token: apptest.TokenLi}).wantRequestError(t, media, tt.status, tt.code)
			})
		}
	}
	// A query is kept as it was sent, before it is validated: its hash
	// alone answers as the query does.
	bad := `{ me { nope } }`
	sendCall(t, srv, httpCall{body: map[string]any{"query": bad, "extensions": persisted(documents.ID(bad))}, token: apptest.TokenLi}).
		wantRequestError(t, mediaJSON, 200, "GRAPHQL_VALIDATION_FAILED")
	sendCall(t, srv, httpCall{body: map[string]any{"extensions": persisted(documents.ID(bad))}, token: apptest.TokenLi}).
		wantRequestError(t, mediaJSON, 200, "GRAPHQL_VALIDATION_FAILED")
}

// TestTrustedDocuments serves the consoles' manifest: its operations run
// by id (Apollo's sha256Hash, or documentId as GraphQL over HTTP's
// persisted documents spell it, on POST and GET), and other queries run
// too, unless the server runs trusted documents only.
func TestTrustedDocuments(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	trusted := apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) { c.TrustedDocuments = manifestPath }))
	only := apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) { c.TrustedDocuments, c.TrustedOnly = manifestPath, true }))
	plain := apptest.NewServer(t, apptest.Config(t, db))

	id := documents.ID(documents.MyChats)
	want := sendCall(t, plain, httpCall{body: map[string]any{"query": documents.MyChats}, token: apptest.TokenLi})
	want.wantData(t, mediaJSON)

	byID := []struct {
		name string
		c    httpCall
	}{
		{"extensions.persistedQuery", httpCall{body: map[string]any{"extensions": persisted(id)}}},
		{"documentId sha256:", httpCall{body: map[string]any{"documentId": "sha256:" + id}}},
		{"documentId, the manifest's id", httpCall{body: map[string]any{"documentId": id}}},
		{"documentId and other extensions", httpCall{body: map[string]any{"documentId": "sha256:" + id, "extensions": map[string]any{"tracing": true}}}},
		{"GET documentId", httpCall{method: "GET", params: url.Values{"documentId": {"sha256:" + id}}}},
		{"GET extensions.persistedQuery", httpCall{method: "GET", params: url.Values{"extensions": {persistedURL(id)}}}},
		{"the text of the document", httpCall{body: map[string]any{"query": documents.MyChats}}},
		{"the text with its hash", httpCall{body: map[string]any{"query": documents.MyChats, "extensions": persisted(id)}}},
	}
	for _, srv := range []struct {
		name string
		s    *apptest.Server
	}{{"trusted documents", trusted}, {"trusted documents only", only}} {
		for _, tt := range byID {
			for _, media := range []string{mediaJSON, mediaGraphQL} {
				t.Run(srv.name+" "+tt.name+" "+media, func(t *testing.T) {
					c := tt.c
					c.accept, c.token = media, apptest.TokenLi
					a := sendCall(t, srv.s, c)
					a.wantData(t, media)
					apptest.AssertJSON(t, string(want.res.Data), a.res.Data)
				})
			}
		}
	}
	// Without a manifest, a documentId is a persisted query unknown.
	sendCall(t, plain, httpCall{body: map[string]any{"documentId": "sha256:" + id}, token: apptest.TokenLi}).
		wantRequestError(t, mediaJSON, 200, "PERSISTED_QUERY_NOT_FOUND")

	free := `{ me { name } }`
	for _, media := range []string{mediaJSON, mediaGraphQL} {
		// Other queries run beside the manifest's...
		sendCall(t, trusted, httpCall{body: map[string]any{"query": free}, accept: media, token: apptest.TokenLi}).wantData(t, media)
		// ...but not when it alone runs, introspection included, nor as
		// automatic persisted queries.
		for _, c := range []httpCall{
			{body: map[string]any{"query": free}},
			{body: map[string]any{"query": `{ __schema { queryType { name } } }`}},
			{body: map[string]any{"query": free, "extensions": persisted(documents.ID(free))}},
			{method: "GET", params: url.Values{"query": {free}}},
			{body: map[string]any{"query": documents.MyChats + " "}}, // not the manifest's text
		} {
			c.accept, c.token = media, apptest.TokenLi
			sendCall(t, only, c).wantRequestError(t, media, 400, "OPERATION_NOT_TRUSTED")
		}
		sendCall(t, only, httpCall{body: map[string]any{"extensions": persisted(documents.ID(free))}, accept: media, token: apptest.TokenLi}).
			wantRequestError(t, media, wantErrorStatus(media), "PERSISTED_QUERY_NOT_FOUND")
		sendCall(t, only, httpCall{body: map[string]any{"documentId": "sha256:" + strings.Repeat("0", 64)}, accept: media, token: apptest.TokenLi}).
			wantRequestError(t, media, wantErrorStatus(media), "PERSISTED_QUERY_NOT_FOUND")
		sendCall(t, only, httpCall{body: map[string]any{"documentId": "custom-id"}, accept: media, token: apptest.TokenLi}).
			wantRequestError(t, media, wantErrorStatus(media), "PERSISTED_QUERY_NOT_FOUND")
	}

	// A documentId with a query, or with a persisted query, or that is no
	// string, is no persisted document request.
	for _, body := range []string{
		`{"documentId":"sha256:` + id + `","query":"{ me { id } }"}`,
		`{"documentId":"sha256:` + id + `","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + id + `"}}}`,
		`{"documentId":1}`,
	} {
		sendCall(t, trusted, httpCall{body: body, token: apptest.TokenLi}).wantRequestError(t, mediaJSON, 400, "BAD_REQUEST")
	}
	sendCall(t, trusted, httpCall{method: "GET", params: url.Values{"documentId": {id}, "query": {free}}, token: apptest.TokenLi}).
		wantRequestError(t, mediaJSON, 400, "BAD_REQUEST")
}

// TestConsoleOperationsRun runs every operation of the consoles'
// manifest by its id on a server that runs trusted documents only: each
// answers data and no error.
func TestConsoleOperationsRun(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), func(c *app.Config) {
			c.TrustedDocuments, c.TrustedOnly = manifestPath, true
		}))
		vars := map[string]map[string]any{"Receives": {"staffId": apptest.StaffLi}}
		for _, op := range documents.Consoles().Operations {
			t.Run(op.Name, func(t *testing.T) {
				a := sendCall(t, srv, httpCall{body: map[string]any{"operationName": op.Name, "variables": vars[op.Name], "extensions": persisted(op.ID)}, token: apptest.TokenLi})
				a.wantData(t, mediaJSON)
				if !strings.Contains(string(a.res.Data), "u0001d68d5da979194a4b831097de49db3dd2") {
					t.Errorf("小李's chat is not in the answer: %s", a.res.Data)
				}
			})
		}
	})
}

// TestTrustedDocumentsUnfit checks that a manifest operation the schema
// does not accept is named in the log when the server starts, and is
// refused as any document that does not validate.
func TestTrustedDocumentsUnfit(t *testing.T) {
	body := "query Gone { me { retired } }"
	m := documents.Manifest{Format: documents.Format, Version: 1, Operations: []documents.Operation{{ID: documents.ID(body), Name: "Gone", Type: "query", Body: body}}}
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, m.JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), func(c *app.Config) { c.TrustedDocuments = path }))
	if logs := srv.Logs.String(); !strings.Contains(logs, "a trusted document does not fit the schema") || !strings.Contains(logs, "Gone") {
		t.Errorf("the log does not name the operation:\n%s", logs)
	}
	sendCall(t, srv, httpCall{body: map[string]any{"extensions": persisted(documents.ID(body))}, token: apptest.TokenLi}).
		wantRequestError(t, mediaJSON, 200, "GRAPHQL_VALIDATION_FAILED")
}
