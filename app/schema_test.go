package app_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/net/html"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/documents"
)

// TestSchemaFile checks GET /schema.graphql: with introspection on, the
// schema.graphqls the server runs, as text/plain, revalidated by its
// ETag; with introspection off, 404.
func TestSchemaFile(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, db))

	res, raw := srv.Do(t, plainGET(t, srv.URL+"/schema.graphql"))
	if res.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q, want text/plain; charset=utf-8", ct)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", res.Header.Get("X-Content-Type-Options"))
	}
	file, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(file) {
		t.Errorf("GET /schema.graphql is not schema.graphqls (run go generate ./... after changing it):\n%s", raw)
	}
	if string(raw) != app.SchemaSDL() {
		t.Errorf("GET /schema.graphql is not app.SchemaSDL()")
	}
	s, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(raw)})
	if gerr != nil {
		t.Fatalf("the served schema does not load: %v", gerr)
	}
	if s.Query == nil || s.Query.Fields.ForName("me") == nil || s.Types["Staff"] == nil {
		t.Errorf("the served schema lacks Query.me or Staff")
	}

	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, res.Header.Get("Cache-Control"))
	}
	req := plainGET(t, srv.URL+"/schema.graphql")
	req.Header.Set("If-None-Match", etag)
	if res, raw := srv.Do(t, req); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating with the ETag: HTTP %d %s, want 304", res.StatusCode, raw)
	}

	closed := apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) { c.Introspection = false }))
	if res, raw := closed.Do(t, plainGET(t, closed.URL+"/schema.graphql")); res.StatusCode != http.StatusNotFound {
		t.Errorf("with introspection off: HTTP %d %s, want 404", res.StatusCode, raw)
	}
}

// TestPlaygroundQuery checks that the playground opens on the consoles'
// query unless told another, and that the query runs as it stands.
func TestPlaygroundQuery(t *testing.T) {
	if app.DefaultPlaygroundQuery != documents.MyChats {
		t.Errorf("the playground's query is not the consoles' (documents.MyChats):\n%s", app.DefaultPlaygroundQuery)
	}
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, db))
	if got := playgroundQuery(t, srv); got != app.DefaultPlaygroundQuery {
		t.Errorf("data-default-query = %q, want app.DefaultPlaygroundQuery", got)
	}
	res, raw := srv.GraphQL(t, apptest.TokenLi, app.DefaultPlaygroundQuery, nil)
	if len(res.Errors) != 0 || !strings.Contains(string(res.Data), apptest.StaffLi) {
		t.Errorf("the playground's query, run with the demo token: %s", raw)
	}

	const other = "{ me { name } }"
	srv = apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) { c.PlaygroundQuery = other }))
	if got := playgroundQuery(t, srv); got != other {
		t.Errorf("data-default-query = %q, want %q", got, other)
	}
}

// playgroundQuery returns the data-default-query of the page at /.
func playgroundQuery(t *testing.T, srv *apptest.Server) string {
	t.Helper()
	res, raw := srv.Do(t, plainGET(t, srv.URL+"/"))
	if res.StatusCode != 200 {
		t.Fatalf("GET /: HTTP %d", res.StatusCode)
	}
	doc, err := html.Parse(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var find func(n *html.Node) (string, bool)
	find = func(n *html.Node) (string, bool) {
		if n.Type == html.ElementNode {
			id, q, has := "", "", false
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					id = a.Val
				case "data-default-query":
					q, has = a.Val, true
				}
			}
			if id == "graphiql" && has {
				return q, true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if q, ok := find(c); ok {
				return q, true
			}
		}
		return "", false
	}
	q, ok := find(doc)
	if !ok {
		t.Fatalf("the page has no #graphiql with data-default-query:\n%s", raw)
	}
	return q
}

func plainGET(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
