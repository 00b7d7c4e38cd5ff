package resolvers

import (
	"opfacade/graph"
	"opfacade/model"
)

// What fields cost when the GraphQL endpoint measures an operation
// against its complexity limit. A field costs 1 plus what it selects,
// except for these.
const (
	// chatsExpected is how many chats a list is expected to hold: what a
	// chat selects is paid that many times. An OP serves a few dozen at
	// once.
	chatsExpected = 50
	// statementCost is what a field that runs a SQL statement of its own
	// costs on top.
	statementCost = 5
)

// Complexity returns the field costs for graph.Config. A chat list pays
// its statement and 50 times its chat's selection, so lists of chats
// nested in chats (Chat.staff.chats) exceed any sensible limit, while the
// consoles' queries stay far below it.
func Complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Staff = func(child int, _ string) int { return 1 + statementCost + child }
	c.Staff.Chats = func(child int, _ []model.ChatStatus) int {
		return 1 + statementCost + chatsExpected*child
	}
	return c
}
