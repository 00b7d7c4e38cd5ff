package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/app/apptest"
)

// TestSchemaCommand checks that `opfacade schema` prints what GET
// /schema.graphql serves, schema.graphqls, a schema that loads; that it
// needs no database; and that it refuses arguments it does not take.
func TestSchemaCommand(t *testing.T) {
	schema := func(args ...string) (string, string, error) {
		var stdout, stderr strings.Builder
		err := run(context.Background(), append([]string{"schema"}, args...), func(string) string { return "" }, noVars, &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}
	file, err := os.ReadFile("schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	// No database anywhere: run in an empty directory.
	t.Chdir(t.TempDir())
	printed, _, err := schema()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("opfacade.db"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opfacade schema made a database: %v", err)
	}

	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/schema.graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, served := srv.Do(t, req)
	if res.StatusCode != 200 || printed != string(served) {
		t.Errorf("opfacade schema printed what GET /schema.graphql (HTTP %d) does not serve:\nprinted:\n%s\nserved:\n%s", res.StatusCode, printed, served)
	}
	if printed != string(file) {
		t.Errorf("opfacade schema did not print schema.graphqls (run go generate ./... after changing it):\n%s", printed)
	}
	s, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: printed})
	if gerr != nil {
		t.Fatalf("the printed schema does not load: %v", gerr)
	}
	if s.Query == nil || s.Query.Fields.ForName("me") == nil {
		t.Errorf("the printed schema has no Query.me")
	}

	out, help, err := schema("-help")
	if err != nil || out != "" || !strings.Contains(help, "Usage: opfacade schema") {
		t.Errorf("opfacade schema -help: %v, stdout %q, stderr %q", err, out, help)
	}
	for _, args := range [][]string{{"extra"}, {"-db", "x.db"}} {
		out, _, err := schema(args...)
		var stderr strings.Builder
		if code := exitCode(err, &stderr); code != 2 || out != "" {
			t.Errorf("opfacade schema %s: exit status %d, stdout %q; want 2 and nothing printed", strings.Join(args, " "), code, out)
		}
		if !strings.Contains(stderr.String(), "opfacade: schema: ") {
			t.Errorf("opfacade schema %s: stderr %q", strings.Join(args, " "), stderr.String())
		}
	}
}
