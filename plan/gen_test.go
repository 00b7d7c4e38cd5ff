package plan_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// chooser makes the generator's choices: at random, or from a fuzzer's
// bytes.
type chooser interface{ intn(n int) int }

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int { return c.r.IntN(n) }

// byteChooser takes each choice from the next byte; past the end, 0.
type byteChooser struct {
	b []byte
	i int
}

func (c *byteChooser) intn(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	return v % n
}

// opGen writes a random operation of the schema's query types: random
// selections, aliases, named and inline fragments (with and without a
// type condition), @skip and @include on literals and variables,
// arguments as literals, variables, or left to their defaults. Not every
// document it writes validates: the test skips those.
type opGen struct {
	c      chooser
	schema *ast.Schema
	ids    []string // staff ids to ask for
	vars   []string // "$v1: Type", as declared
	values map[string]any
	frags  []string
	n      int // names made so far
	// fragments counts the fragments written, up to maxFragments.
	fragments int
}

// maxFragments bounds the fragments of a document: the choices that
// stop at one (a fuzzer's exhausted bytes choose 0, a field) come first.
const maxFragments = 6

func newOpGen(c chooser, schema *ast.Schema, ids []string) *opGen {
	return &opGen{c: c, schema: schema, ids: ids, values: map[string]any{}}
}

// document returns the operation, its variables' values, and its name.
func (g *opGen) document() (string, map[string]any, string) {
	var roots []string
	for range 1 + g.c.intn(2) {
		if g.c.intn(3) == 0 {
			roots = append(roots, g.alias("staff")+"staff(id: "+g.idArg()+")"+g.directives()+" "+g.selection("Staff", 3))
		} else {
			roots = append(roots, g.alias("me")+"me"+g.directives()+" "+g.selection("Staff", 3))
		}
	}
	if g.c.intn(6) == 0 {
		roots = append(roots, "__typename")
	}
	name := ""
	if g.c.intn(2) == 0 {
		name = "Op"
	}
	head := "query " + name
	if len(g.vars) > 0 {
		head += "(" + strings.Join(g.vars, ", ") + ")"
	}
	doc := head + " { " + strings.Join(roots, " ") + " }"
	for _, f := range g.frags {
		doc += "\n" + f
	}
	return doc, g.values, name
}

func (g *opGen) alias(name string) string {
	switch g.c.intn(4) {
	case 0:
		return "a: "
	case 1:
		return "b: "
	case 2:
		return name + ": "
	}
	return ""
}

func (g *opGen) variable(typ string, value any) string {
	g.n++
	name := fmt.Sprintf("v%d", g.n)
	g.vars = append(g.vars, "$"+name+": "+typ)
	if value != nil || g.c.intn(2) == 0 {
		g.values[name] = value
	}
	return "$" + name
}

func (g *opGen) idArg() string {
	id := g.ids[g.c.intn(len(g.ids))]
	if g.c.intn(2) == 0 {
		return g.variable("ID!", id)
	}
	return fmt.Sprintf("%q", id)
}

func (g *opGen) directives() string {
	var out string
	for range g.c.intn(3) {
		if g.c.intn(3) > 0 {
			continue
		}
		name := "skip"
		if g.c.intn(2) == 0 {
			name = "include"
		}
		cond := "true"
		switch g.c.intn(4) {
		case 0:
			cond = "false"
		case 1:
			cond = g.variable("Boolean!", g.c.intn(2) == 0)
		case 2:
			g.n++
			v := fmt.Sprintf("v%d", g.n)
			def := []string{"true", "false"}[g.c.intn(2)]
			g.vars = append(g.vars, "$"+v+": Boolean = "+def)
			if g.c.intn(2) == 0 {
				g.values[v] = g.c.intn(2) == 0
			}
			cond = "$" + v
		}
		out += " @" + name + "(if: " + cond + ")"
	}
	return out
}

func (g *opGen) statusArg() string {
	statuses := []string{"WAIT", "SERVICE", "CLOSED", "UNKNOWN"}
	var list []string
	for range 1 + g.c.intn(3) {
		list = append(list, statuses[g.c.intn(len(statuses))])
	}
	switch g.c.intn(4) {
	case 0:
		return ""
	case 1:
		return "status: " + list[0]
	case 2:
		vals := make([]any, len(list))
		for i, s := range list {
			vals[i] = s
		}
		return "status: " + g.variable("[ChatStatus!]!", vals)
	}
	return "status: [" + strings.Join(list, ", ") + "]"
}

func (g *opGen) args(field string) string {
	var parts []string
	if s := g.statusArg(); s != "" {
		parts = append(parts, s)
	}
	if field == "chatsConnection" {
		firsts := []int{1, 2, 3, 5, 20, 100, 0, 101}
		switch g.c.intn(4) {
		case 0:
			parts = append(parts, fmt.Sprintf("first: %d", firsts[g.c.intn(len(firsts))]))
		case 1:
			var v any
			if g.c.intn(3) > 0 {
				v = firsts[g.c.intn(len(firsts))]
			}
			parts = append(parts, "first: "+g.variable("Int", v))
		}
		switch g.c.intn(5) {
		case 0:
			parts = append(parts, "after: null")
		case 1:
			parts = append(parts, "after: "+g.variable("String", []any{nil, "AQ", "not a cursor"}[g.c.intn(3)]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// selection is a selection set on typ, nesting at most depth more object
// levels.
func (g *opGen) selection(typ string, depth int) string {
	def := g.schema.Types[typ]
	var parts []string
	for range 1 + g.c.intn(4) {
		choice := g.c.intn(10)
		if g.fragments >= maxFragments {
			choice = 0
		}
		switch choice {
		case 8:
			g.fragments++
			cond := ""
			if g.c.intn(2) == 0 {
				cond = "on " + typ + " "
			}
			parts = append(parts, "... "+cond+strings.TrimPrefix(g.directives(), " ")+" "+g.selection(typ, depth))
		case 9:
			g.fragments++
			g.n++
			name := fmt.Sprintf("F%d", g.n)
			g.frags = append(g.frags, "fragment "+name+" on "+typ+" "+g.selection(typ, depth))
			parts = append(parts, "..."+name+g.directives())
		default:
			parts = append(parts, g.field(def, depth))
		}
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

func (g *opGen) field(def *ast.Definition, depth int) string {
	var fields []*ast.FieldDefinition
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		if g.isObject(f) && depth == 0 {
			continue
		}
		// A list of chats under a list of chats is past any sensible
		// complexity limit: seldom asked for.
		if (f.Name == "chats" || f.Name == "chatsConnection") && depth < 2 && g.c.intn(4) > 0 {
			continue
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 || g.c.intn(12) == 0 {
		return "__typename"
	}
	f := fields[g.c.intn(len(fields))]
	out := g.alias(f.Name) + f.Name
	if f.Name == "chats" || f.Name == "chatsConnection" {
		out += g.args(f.Name)
	}
	out += g.directives()
	if g.isObject(f) {
		out += " " + g.selection(f.Type.Name(), depth-1)
	}
	return out
}

func (g *opGen) isObject(f *ast.FieldDefinition) bool {
	t := g.schema.Types[f.Type.Name()]
	return t != nil && t.Kind == ast.Object
}
