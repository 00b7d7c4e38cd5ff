package resolvers_test

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"opfacade/graph"
	"opfacade/resolvers"
)

// consoleChat is what the consoles select of a chat.
const consoleChat = `id groupId title status storedStatus address message createTime
  user { id nickName icon grade { chatCount orderCount serviceCount } } staff { id name }`

// TestComplexity holds the estimates the complexity limit (2,500 by
// default) is measured with: a page of chatsConnection costs `first` times
// what it selects, as the chats list costs 50 times, so a page of 50 costs
// about what the list does; a page or a list under a list, which would
// run its statements once per chat, costs past any sensible limit.
func TestComplexity(t *testing.T) {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &resolvers.Resolver{}, Complexity: resolvers.Complexity()})
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  int
	}{
		{"the consoles' list", `{ me { id name role isOnline chats { ` + consoleChat + ` } } }`, nil, 961},
		{"the consoles' selection, a page of 50", `{ me { id name role isOnline chatsConnection(first: 50) { nodes { ` + consoleChat + ` } } } }`, nil, 1016},
		{"the consoles' selection, a page of 20 (the default)", `{ me { id name role isOnline chatsConnection { edges { cursor node { ` + consoleChat + ` } } pageInfo { hasNextPage endCursor } totalCount } } }`, nil, 496},
		{"the consoles' selection, a page of 100", `{ me { id name role isOnline chatsConnection(first: 100) { edges { cursor node { ` + consoleChat + ` } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } } }`, nil, 2416},
		{"first in a variable", `query($n: Int) { me { chatsConnection(first: $n) { nodes { id } } } }`, map[string]any{"n": 100}, 212},
		{"first past the largest page costs the largest page", `{ me { chatsConnection(first: 1000000000) { nodes { id } } } }`, nil, 212},
		{"first below the smallest page", `{ me { chatsConnection(first: -5) { nodes { id } } } }`, nil, 62},
		{"the count alone", `{ me { chatsConnection(first: 1) { totalCount } } }`, nil, 62},
		{"a list in a list", `{ me { chats { staff { chats { id } } } } }`, nil, 2857},
		{"a page under a list", `{ me { chats { staff { chatsConnection(first: 1) { totalCount } } } } }`, nil, 3107},
		{"a page under a page", `{ me { chatsConnection(first: 100) { nodes { staff { chatsConnection(first: 1) { nodes { id } } } } } } }`, nil, 6312},
		{"a list under a small page", `{ me { chatsConnection(first: 5) { nodes { staff { chats { id } } } } } }`, nil, 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := gqlparser.LoadQueryWithRules(es.Schema(), tt.query, rules.NewDefaultRules())
			if err != nil {
				t.Fatal(err)
			}
			if got := complexity.Calculate(context.Background(), es, doc.Operations[0], tt.vars); got != tt.want {
				t.Errorf("complexity %d, want %d", got, tt.want)
			}
		})
	}
}
