package plan_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// corpus is every operation the module's sources, README and documents/
// hold that validates against schema: the string constants of every Go
// file (its tests, legacy/'s, bench's…; concatenations of constants
// folded), the README's graphql blocks and the queries of its JSON
// examples, and documents/*.graphql.
func corpus(t testing.TB, schema *gqlast.Schema) []string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	texts = append(texts, goStrings(t, root)...)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, readmeQueries(string(readme))...)
	docs, _ := filepath.Glob(filepath.Join(root, "documents", "*.graphql"))
	for _, d := range docs {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	var ops []string
	seen := map[string]bool{}
	for _, s := range texts {
		if seen[s] || !strings.Contains(s, "{") {
			continue
		}
		seen[s] = true
		if doc, errs := gqlparser.LoadQueryWithRules(schema, s, rules.NewDefaultRules()); len(errs) == 0 && len(doc.Operations) > 0 {
			ops = append(ops, s)
		}
	}
	slices.Sort(ops)
	return ops
}

// readmeQueries are the README's ```graphql blocks and the "query"
// members of its JSON.
func readmeQueries(readme string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		out = append(out, m[1])
	}
	for _, m := range regexp.MustCompile(`"query"\s*:\s*("(?:[^"\\]|\\.)*")`).FindAllStringSubmatch(readme, -1) {
		var q string
		if json.Unmarshal([]byte(m[1]), &q) == nil {
			out = append(out, q)
		}
	}
	return out
}

// goStrings are the string literals of the Go files under root, and the
// constant expressions that concatenate them with named string
// constants (of the same package, or pkg.Name of another).
func goStrings(t testing.TB, root string) []string {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "graph" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Named string constants, by name within their package and by
	// package.Name, as far as they fold.
	named := map[string]ast.Expr{}
	for _, f := range files {
		pkg := f.Name.Name
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == len(vs.Values) {
				for i, name := range vs.Names {
					named[pkg+"."+name.Name] = vs.Values[i]
				}
			}
			return true
		})
	}
	var fold func(pkg string, e ast.Expr, depth int) (string, bool)
	fold = func(pkg string, e ast.Expr, depth int) (string, bool) {
		if depth > 20 {
			return "", false
		}
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.ParenExpr:
			return fold(pkg, e.X, depth+1)
		case *ast.BinaryExpr:
			if e.Op != token.ADD {
				return "", false
			}
			x, ok1 := fold(pkg, e.X, depth+1)
			y, ok2 := fold(pkg, e.Y, depth+1)
			return x + y, ok1 && ok2
		case *ast.Ident:
			if v, ok := named[pkg+"."+e.Name]; ok {
				return fold(pkg, v, depth+1)
			}
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok {
				if v, ok := named[x.Name+"."+e.Sel.Name]; ok {
					return fold(x.Name, v, depth+1)
				}
			}
		}
		return "", false
	}
	var out []string
	for _, f := range files {
		pkg := f.Name.Name
		ast.Inspect(f, func(n ast.Node) bool {
			switch e := n.(type) {
			case *ast.BasicLit, *ast.BinaryExpr:
				if s, ok := fold(pkg, e.(ast.Expr), 0); ok {
					out = append(out, s)
				}
			}
			return true
		})
	}
	return out
}
