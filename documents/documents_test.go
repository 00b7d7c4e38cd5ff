package documents_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"opfacade/documents"
	"opfacade/graph"
)

var update = flag.Bool("update", false, "rewrite manifest.json from the .graphql files")

// TestManifestUpToDate fails when manifest.json is not what the .graphql
// files make; go test ./documents -update rewrites it.
func TestManifestUpToDate(t *testing.T) {
	m, err := documents.FromFiles(os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	want := m.JSON()
	if *update {
		if err := os.WriteFile("manifest.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("manifest.json is stale: run go test ./documents -update and commit it\nwant:\n%s", want)
	}
	if _, err := documents.Parse(got); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
}

// TestOperationsValidate checks every operation of the manifest against
// the schema the server serves.
func TestOperationsValidate(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	ops := documents.Consoles().Operations
	if len(ops) == 0 {
		t.Fatal("the manifest has no operations")
	}
	for _, op := range ops {
		t.Run(op.Name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: op.Body})
			if err != nil {
				t.Fatal(err)
			}
			if errs := validator.ValidateWithRules(schema, doc, nil); len(errs) > 0 {
				t.Fatalf("does not fit the schema: %v", errs)
			}
		})
	}
}

// TestExportedBodies checks that the exported texts are the manifest's
// bodies, so a client that sends them sends trusted documents.
func TestExportedBodies(t *testing.T) {
	byName := map[string]documents.Operation{}
	for _, op := range documents.Consoles().Operations {
		byName[op.Name] = op
	}
	for name, body := range map[string]string{"MyChats": documents.MyChats, "Receives": documents.Receives} {
		op, ok := byName[name]
		if !ok {
			t.Errorf("the manifest has no %s", name)
			continue
		}
		if op.Body != body || op.ID != documents.ID(body) || op.Type != "query" {
			t.Errorf("%s: the manifest's operation differs from the exported text: %+v", name, op)
		}
	}
}

// TestParseRefuses checks that a manifest the server could not trust is
// refused with the reason.
func TestParseRefuses(t *testing.T) {
	const body = "query Q { me { id } }"
	id := documents.ID(body)
	tests := []struct{ name, manifest, want string }{
		{"not JSON", `{`, "not a persisted query manifest"},
		{"another format", `{"format":"relay","version":1,"operations":[]}`, `format is "relay"`},
		{"another version", `{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`, "version is 2"},
		{"an id that is not the body's hash", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"abc","name":"Q","type":"query","body":"` + body + `"}]}`, "is not the sha256 of its body"},
		{"an id twice", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"` + id + `","name":"Q","type":"query","body":"` + body + `"},{"id":"` + id + `","name":"Q","type":"query","body":"` + body + `"}]}`, "appears twice"},
		{"no body", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"` + documents.ID("") + `","name":"Q","type":"query","body":""}]}`, "has no body"},
		{"an unknown type", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"` + id + `","name":"Q","type":"fragment","body":"` + body + `"}]}`, `type "fragment"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := documents.Parse([]byte(tt.manifest))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	ok := `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"` + id + `","name":"Q","type":"query","body":"` + body + `","extra":true}],"createdBy":"a tool"}`
	if m, err := documents.Parse([]byte(ok)); err != nil || len(m.Operations) != 1 {
		t.Fatalf("a manifest with members this server does not know: %v", err)
	}
}
