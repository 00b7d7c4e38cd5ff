package plan_test

import (
	"encoding/json"
	"testing"

	"opfacade/app/apptest"
)

// BenchmarkFallback is what a failing field costs on each path, beside a
// succeeding one: with plans on, a root field whose plan fails is
// resolved a second time by gqlgen's executor.
//
//	go test -run '^$' -bench Fallback -benchmem ./plan
func BenchmarkFallback(b *testing.B) {
	dsn := apptest.NewSQLiteDB(b, append(apptest.FixtureScripts(), apptest.OPWithChats(20))...)
	tw := newTwins(b, dsn)
	for _, op := range []struct{ name, query string }{
		// tok-many's 20 chats, then a page refused: first is out of range.
		{"fails", `{ me { chats { id title user { nickName grade { chatCount } } } chatsConnection(first: 0) { totalCount } } }`},
		{"succeeds", `{ me { chats { id title user { nickName grade { chatCount } } } chatsConnection(first: 1) { totalCount } } }`},
	} {
		body, _ := json.Marshal(map[string]any{"query": op.query})
		for _, side := range []struct {
			name string
			srv  *apptest.Server
		}{{"compiled", tw.compiled}, {"executor", tw.executor}} {
			b.Run(op.name+"/"+side.name, func(b *testing.B) {
				var statements int64
				b.ReportAllocs()
				for b.Loop() {
					statements += ask(side.srv, "tok-many", body).statements
				}
				b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
			})
		}
	}
}
