package plan_test

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"opfacade/app/apptest"
	"opfacade/graph"
)

// FuzzCompiled is TestCompiledAnswersAsTheExecutor's random half driven
// by the fuzzer: its bytes make the generator's choices (the selections,
// aliases, fragments, directives, arguments and variables of an
// operation, and the OP who asks), and both servers must answer byte for
// byte alike.
func FuzzCompiled(f *testing.F) {
	for _, seed := range []string{"", "\x00\x01\x02\x03", "\x05\x09\x01\x03\x07\x02\x00\x04", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4"} {
		f.Add([]byte(seed))
	}
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	dsn := apptest.NewSQLiteDB(f, append(apptest.FixtureScripts(), apptest.OPWithChats(30))...)
	gen := generate(f, dsn, 7)
	oddRows(f, dsn)
	tw := newTwins(f, dsn)
	tokens := []string{apptest.TokenAdmin, apptest.TokenLi, apptest.TokenWang, "tok-odd", "tok-many", gen.Staff[len(gen.Staff)-1].Token}
	ids := []string{apptest.StaffLi, apptest.StaffWang, "s-odd", "s-many", "nobody", gen.Staff[1].StaffID}
	f.Fuzz(func(t *testing.T, choices []byte) {
		c := &byteChooser{b: choices}
		token := tokens[c.intn(len(tokens))]
		q, vars, name := newOpGen(c, schema, ids).document()
		if _, errs := gqlparser.LoadQueryWithRules(schema, q, rules.NewDefaultRules()); len(errs) > 0 {
			return
		}
		tw.compare(t, token, q, name, vars)
	})
}
