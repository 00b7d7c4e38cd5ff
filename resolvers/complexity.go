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
	// once. It is the expected size, not the list's maximum (MaxChats):
	// the estimate bounds an operation's shape, the maximum and the
	// request's deadline what one list costs.
	chatsExpected = 50
	// statementCost is what a field that runs a SQL statement of its own
	// costs on top.
	statementCost = 5
)

// Complexity returns the field costs for graph.Config. A chat list pays
// its statement and 50 times its chat's selection, so lists of chats
// nested in chats (Chat.staff.chats) exceed any sensible limit, while the
// consoles' queries stay far below it.
//
// A page of chatsConnection pays its statements (the page's and the
// count's) and `first` times what it selects, as a list pays 50 times: a
// page of 50 costs about what the list does. Its page info and count cost
// 1 each, whatever they select, and are paid per chat too (gqlgen hands
// the connection one sum). A page never costs less than a chat list with
// one field: that floor makes a connection under a chat list (chats {
// staff { chatsConnection … } }), which would run its statements once for
// each of up to MaxChats chats, exceed any sensible limit as a list
// inside a list does.
func Complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Staff = func(child int, _ string) int { return 1 + statementCost + child }
	c.Staff.Chats = func(child int, _ []model.ChatStatus) int {
		return 1 + statementCost + chatsExpected*child
	}
	c.Staff.ChatsConnection = func(child int, _ []model.ChatStatus, first *int, _ *string) int {
		return 1 + 2*statementCost + max(chatsExpected, pageSize(first)*child)
	}
	// What the page info and the count select costs 1: gqlgen takes no
	// cost below 1, and what a page selects is paid per chat.
	one := func(int) int { return 1 }
	c.ChatConnection.PageInfo, c.ChatConnection.TotalCount = one, one
	return c
}

// pageSize is the chats a page of first holds, as the estimate counts
// them: a first out of range is refused before anything is read, so it
// costs no more than the largest page.
func pageSize(first *int) int {
	if first == nil {
		return DefaultPageSize
	}
	return min(max(*first, 1), MaxPageSize)
}
