package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"opfacade/domain"
	"opfacade/model"
	"opfacade/tracing"
)

// The sizes of a page of chatsConnection.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// PageSelection is what an operation selects of a page: each part is
// read only when selected.
type PageSelection struct {
	Chats  bool // edges, nodes or pageInfo: one statement for the chats and their users
	Grades bool // a chat's user's grade: one more for all the grades
	Count  bool // totalCount: one more for the count
}

// PageSelectionOf looks ahead at what the chatsConnection field in ctx
// selects, through aliases, fragments and directives.
func PageSelectionOf(ctx context.Context) PageSelection {
	return PageSelection{
		Chats:  graphql.AnyFieldRequested(ctx, "edges", "nodes", "pageInfo"),
		Grades: graphql.AnyFieldRequested(ctx, "edges.node.user.grade", "nodes.user.grade"),
		Count:  graphql.FieldRequested(ctx, "totalCount"),
	}
}

// ChatsConnection answers Staff.chatsConnection: the first chats (at
// most MaxPageSize; DefaultPageSize when nil) of the OP's list with the
// given statuses after the cursor after (from the newest when nil), and
// the list's length, as sel asks. The page is read with keyset paging,
// one chat more than it holds to tell whether more follow: its
// statements do not depend on where it starts or how many chats it
// holds.
func (r *Resolver) ChatsConnection(ctx context.Context, s *model.Staff, statuses []model.ChatStatus, first *int, after *string, sel PageSelection) (_ *model.ChatConnection, err error) {
	ctx, span := tracing.Start(ctx, r.Tracer, "Staff.chatsConnection")
	defer func() { tracing.End(span, err) }()
	n := DefaultPageSize
	if first != nil {
		n = *first
	}
	if n < 1 || n > MaxPageSize {
		return nil, domain.Errorf(domain.EINVALID, "first must be from 1 to %d, not %d", MaxPageSize, n)
	}
	f := chatFilter(statuses)
	list := listOf(s.ID, f)
	if after != nil {
		k, err := list.place(*after)
		if err != nil {
			return nil, err
		}
		f.After = &k
	}
	conn := &model.ChatConnection{Edges: []model.ChatEdge{}, Nodes: []model.Chat{}}
	if sel.Chats {
		chats, rows, more, err := r.listChats(ctx, s, f, n, sel.Grades)
		if err != nil {
			return nil, err
		}
		conn.Nodes = chats
		conn.Edges = make([]model.ChatEdge, len(chats))
		for i, c := range rows {
			conn.Edges[i] = model.ChatEdge{Cursor: list.cursor(c.Key()), Node: &conn.Nodes[i]}
		}
		conn.PageInfo.HasNextPage = more
		if len(chats) > 0 {
			conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
			conn.PageInfo.EndCursor = &conn.Edges[len(chats)-1].Cursor
		}
	}
	if sel.Count {
		total, err := r.Store.CountChatsByStaff(ctx, s.ID, f)
		if err != nil {
			return nil, err
		}
		conn.TotalCount = total
	}
	return conn, nil
}
