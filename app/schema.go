package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/graph"
)

// SchemaSDL returns the GraphQL schema the facade serves, in the schema
// language: schema.graphqls as gqlgen compiled it into the server, its
// descriptions and comments included. `opfacade schema` prints it and
// GET /schema.graphql serves it, for tools (code generators, linters,
// editors) that read a schema file.
func SchemaSDL() string {
	return sdl(graph.NewExecutableSchema(graph.Config{}).Schema())
}

// sdl returns the source text of the files s was loaded from, in the
// order of their names, each ending in a newline. The built-in types and
// directives are not among them.
func sdl(s *ast.Schema) string {
	seen := map[*ast.Source]bool{}
	var sources []*ast.Source
	add := func(pos *ast.Position) {
		if pos != nil && pos.Src != nil && !pos.Src.BuiltIn && !seen[pos.Src] {
			seen[pos.Src] = true
			sources = append(sources, pos.Src)
		}
	}
	addArgs := func(args ast.ArgumentDefinitionList) {
		for _, a := range args {
			add(a.Position)
		}
	}
	for _, d := range s.Types {
		add(d.Position)
		for _, f := range d.Fields {
			add(f.Position)
			addArgs(f.Arguments)
		}
		for _, v := range d.EnumValues {
			add(v.Position)
		}
	}
	for _, d := range s.Directives {
		add(d.Position)
		addArgs(d.Arguments)
	}
	sort.Slice(sources, func(i, j int) bool { return sources[i].Name < sources[j].Name })
	var b strings.Builder
	for i, src := range sources {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(src.Input)
		if !strings.HasSuffix(src.Input, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// schemaFile serves the schema's SDL as text/plain (browsers show it,
// tools read it; application/graphql is registered nowhere), revalidated
// with its ETag, since a deployment may change it.
func schemaFile(s *ast.Schema) http.Handler {
	body := []byte(sdl(s))
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}
