package plan

import (
	"context"
	"errors"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/domain"
	"opfacade/model"
)

// errNull is a null where the schema says non-null: gqlgen's executor
// reports it, and propagates the null. errPanic is a panic no RecoverFunc
// turned into an error.
var (
	errNull  = errors.New("plan: null in a non-null field")
	errPanic = errors.New("plan: panic")
)

// runner executes a plan: it calls the resolvers in selection order and
// appends the JSON of what they return to b. Any error stops it; the
// executor then answers the root field, from what calls recorded.
type runner struct {
	ctx  context.Context
	vars map[string]any
	res  Resolvers
	b    []byte
	null bool // the root field resolved to null (Query.staff of no one)

	calls []call   // the resolvers' calls so far
	idx   []int    // the index in each list being written whose elements call resolvers
	busy  bool     // a resolver's call is under way,
	at    ast.Path // at this path
}

// exec runs p. A panic ends the run with the error oc's RecoverFunc makes
// of it, as gqlgen reports a resolver's: the log shows the panic and its
// stack once, and a resolver's panic is recorded as its call's end.
func (r *runner) exec(oc *graphql.OperationContext, p *rootPlan) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = r.recovered(oc, v)
		}
	}()
	return r.root(p)
}

func (r *runner) recovered(oc *graphql.OperationContext, v any) error {
	if oc.RecoverFunc == nil {
		return errPanic
	}
	err := oc.RecoverFunc(r.ctx, v)
	if err == nil {
		return errPanic
	}
	if r.busy {
		r.calls = append(r.calls, call{path: r.at, err: err, panicked: true})
	}
	return err
}

// begin notes that the resolver's call at path, a compiled path, starts.
func (r *runner) begin(path ast.Path) {
	r.at, r.busy = r.pathAt(path), true
}

// end records how the call begin noted ended.
func (r *runner) end(c call) {
	c.path, r.busy = r.at, false
	r.calls = append(r.calls, c)
}

// pathAt is the compiled path with the indices of the list elements
// being written in place of its listIndex elements.
func (r *runner) pathAt(compiled ast.Path) ast.Path {
	if len(r.idx) == 0 {
		return compiled
	}
	p := slices.Clone(compiled)
	j := 0
	for i, e := range p {
		if e == listIndex {
			p[i] = ast.PathIndex(r.idx[j])
			j++
		}
	}
	return p
}

// element notes that the i-th element of a list of o is written next,
// when o calls resolvers; its caller pops the index (leave) on success.
func (r *runner) element(o *object, i int) {
	if o.calls {
		r.idx = append(r.idx, i)
	}
}

func (r *runner) leave(o *object) {
	if o.calls {
		r.idx = r.idx[:len(r.idx)-1]
	}
}

func (r *runner) root(p *rootPlan) error {
	var s *model.Staff
	var err error
	if p.kind == queryMe {
		r.begin(p.path)
		s, err = r.res.Caller(r.ctx)
	} else {
		var a argValues
		if a, err = p.args.values(r.vars); err != nil {
			return err
		}
		r.begin(p.path)
		s, err = r.res.StaffByID(r.ctx, a.id)
	}
	r.end(call{staff: s, err: err})
	switch {
	case err != nil:
		return err
	case s == nil && p.kind == queryMe:
		return errNull
	case s == nil:
		r.null = true
		return nil
	}
	return r.staff(p.sel, s)
}

// empty writes {} for an object whose every field was skipped, and
// says so; otherwise the first field's prefix opens the object.
func (r *runner) empty(o *object) bool {
	if len(o.fields) == 0 {
		r.b = append(r.b, "{}"...)
		return true
	}
	return false
}

func (r *runner) staff(o *object, s *model.Staff) error {
	if r.empty(o) {
		return nil
	}
	for i := range o.fields {
		f := &o.fields[i]
		r.b = append(r.b, f.prefix...)
		switch f.kind {
		case staffID:
			r.b = appendString(r.b, s.ID)
		case staffName:
			r.b = appendString(r.b, s.Name)
		case staffRole:
			r.b = appendRole(r.b, s.Role)
		case staffIsOnline:
			r.b = appendBool(r.b, s.IsOnline)
		case staffChats:
			if err := r.chatList(f, s); err != nil {
				return err
			}
		case staffChatsConnection:
			if err := r.connection(f, s); err != nil {
				return err
			}
		}
	}
	r.b = append(r.b, '}')
	return nil
}

func (r *runner) chatList(f *field, s *model.Staff) error {
	a, err := f.args.values(r.vars)
	if err != nil {
		return err
	}
	r.begin(f.path)
	chats, err := r.res.ChatList(r.ctx, s, a.statuses, f.grades)
	r.end(call{chats: chats, err: err})
	if err != nil {
		return err
	}
	return r.chats(f.sel, chats)
}

func (r *runner) chats(o *object, chats []model.Chat) error {
	return writeList(r, o, chats, r.chat)
}

// writeList writes items as a JSON array, each element by write with its
// index in the response path.
func writeList[T any](r *runner, o *object, items []T, write func(*object, *T) error) error {
	r.b = append(r.b, '[')
	for i := range items {
		if i > 0 {
			r.b = append(r.b, ',')
		}
		r.element(o, i)
		if err := write(o, &items[i]); err != nil {
			return err
		}
		r.leave(o)
	}
	r.b = append(r.b, ']')
	return nil
}

func (r *runner) chat(o *object, c *model.Chat) error {
	if r.empty(o) {
		return nil
	}
	for i := range o.fields {
		f := &o.fields[i]
		r.b = append(r.b, f.prefix...)
		switch f.kind {
		case chatID:
			r.b = appendString(r.b, c.ID)
		case chatGroupID:
			r.b = appendString(r.b, c.GroupID)
		case chatTitle:
			r.b = appendString(r.b, c.Title)
		case chatStatus:
			r.b = appendChatStatus(r.b, c.Status)
		case chatStoredStatus:
			r.b = appendString(r.b, c.StoredStatus)
		case chatAddress:
			r.b = appendString(r.b, c.Address)
		case chatMessage:
			r.b = appendString(r.b, c.Message)
		case chatCreateTime:
			r.b = appendDateTime(r.b, c.CreateTime)
		case chatUser:
			if c.User == nil {
				return errNull
			}
			if err := r.user(f.sel, c.User); err != nil {
				return err
			}
		case chatStaff:
			if c.Staff == nil {
				r.b = append(r.b, "null"...)
				continue
			}
			if err := r.staff(f.sel, c.Staff); err != nil {
				return err
			}
		}
	}
	r.b = append(r.b, '}')
	return nil
}

func (r *runner) user(o *object, u *model.User) error {
	if r.empty(o) {
		return nil
	}
	for i := range o.fields {
		f := &o.fields[i]
		r.b = append(r.b, f.prefix...)
		switch f.kind {
		case userID:
			r.b = appendString(r.b, u.ID)
		case userNickName:
			r.b = appendNullableString(r.b, u.NickName)
		case userIcon:
			r.b = appendString(r.b, u.Icon)
		case userGrade:
			if u.Grade == nil {
				return errNull
			}
			r.grade(f.sel, u.Grade)
		}
	}
	r.b = append(r.b, '}')
	return nil
}

func (r *runner) grade(o *object, g *domain.Grade) {
	if r.empty(o) {
		return
	}
	for i := range o.fields {
		f := &o.fields[i]
		r.b = append(r.b, f.prefix...)
		switch f.kind {
		case gradeChatCount:
			r.b = appendInt(r.b, g.ChatCount)
		case gradeOrderCount:
			r.b = appendInt(r.b, g.OrderCount)
		case gradeServiceCount:
			r.b = appendInt(r.b, g.ServiceCount)
		}
	}
	r.b = append(r.b, '}')
}

func (r *runner) connection(f *field, s *model.Staff) error {
	a, err := f.args.values(r.vars)
	if err != nil {
		return err
	}
	r.begin(f.path)
	conn, err := r.res.ChatsConnection(r.ctx, s, a.statuses, a.first, a.after, f.page)
	r.end(call{conn: conn, err: err})
	if err != nil {
		return err
	}
	if conn == nil {
		return errNull
	}
	o := f.sel
	if r.empty(o) {
		return nil
	}
	for i := range o.fields {
		f := &o.fields[i]
		r.b = append(r.b, f.prefix...)
		switch f.kind {
		case connEdges:
			if err := r.edges(f.sel, conn.Edges); err != nil {
				return err
			}
		case connNodes:
			if err := r.chats(f.sel, conn.Nodes); err != nil {
				return err
			}
		case connPageInfo:
			r.pageInfo(f.sel, &conn.PageInfo)
		case connTotalCount:
			r.b = appendInt(r.b, conn.TotalCount)
		}
	}
	r.b = append(r.b, '}')
	return nil
}

func (r *runner) edges(o *object, edges []model.ChatEdge) error {
	return writeList(r, o, edges, r.edge)
}

func (r *runner) edge(o *object, e *model.ChatEdge) error {
	if r.empty(o) {
		return nil
	}
	for i := range o.fields {
		f := &o.fields[i]
		r.b = append(r.b, f.prefix...)
		switch f.kind {
		case edgeCursor:
			r.b = appendString(r.b, e.Cursor)
		case edgeNode:
			if e.Node == nil {
				return errNull
			}
			if err := r.chat(f.sel, e.Node); err != nil {
				return err
			}
		}
	}
	r.b = append(r.b, '}')
	return nil
}

func (r *runner) pageInfo(o *object, p *model.PageInfo) {
	if r.empty(o) {
		return
	}
	for i := range o.fields {
		f := &o.fields[i]
		r.b = append(r.b, f.prefix...)
		switch f.kind {
		case pageHasNextPage:
			r.b = appendBool(r.b, p.HasNextPage)
		case pageHasPreviousPage:
			r.b = appendBool(r.b, p.HasPreviousPage)
		case pageStartCursor:
			r.b = appendNullableString(r.b, p.StartCursor)
		case pageEndCursor:
			r.b = appendNullableString(r.b, p.EndCursor)
		}
	}
	r.b = append(r.b, '}')
}
