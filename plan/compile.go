package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/resolvers"
)

// operation is one validated operation and its plans: one for each
// combination of the values of conds, the variables its @skip and
// @include read, met so far. Which fields an operation selects, and in
// what order, depends on those values alone; every other variable is
// read when a plan runs.
type operation struct {
	doc     *ast.QueryDocument
	op      *ast.OperationDefinition
	covered bool     // false: the executor answers every root field
	conds   []string // variable names

	mu    sync.Mutex
	plans map[uint64]*opPlan // by condition bits: bit i is conds[i]'s value
}

func newOperation(doc *ast.QueryDocument, op *ast.OperationDefinition) *operation {
	o := &operation{doc: doc, op: op, plans: map[uint64]*opPlan{}}
	if op.Operation != ast.Query {
		return o
	}
	conds, ok := conditions(doc, op)
	o.covered = ok && len(conds) <= 16
	o.conds = conds
	return o
}

// plan is the plan for oc's values of the condition variables, compiled
// when first met; nil when the executor must answer.
func (o *operation) plan(oc *graphql.OperationContext) *opPlan {
	if !o.covered {
		return nil
	}
	var bits uint64
	for i, name := range o.conds {
		v, ok := oc.Variables[name].(bool)
		if !ok {
			return nil // gqlgen's executor reports it
		}
		if v {
			bits |= 1 << i
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if p, ok := o.plans[bits]; ok {
		return p
	}
	if len(o.plans) >= maxVariants {
		return nil
	}
	vars := make(map[string]any, len(o.conds))
	for i, name := range o.conds {
		vars[name] = bits&(1<<i) != 0
	}
	p, err := compile(o.doc, o.op, vars)
	if err != nil {
		p = nil // not covered: remembered, so as not to compile it again
	}
	o.plans[bits] = p
	return p
}

// conditions returns the variables that the @skip and @include of op,
// and of the fragments it spreads, read; false when op or a fragment has
// a directive the plans do not cover.
func conditions(doc *ast.QueryDocument, op *ast.OperationDefinition) ([]string, bool) {
	var names []string
	seen := map[string]bool{}
	frags := map[string]bool{}
	var walk func(ast.SelectionSet) bool
	directives := func(ds ast.DirectiveList) bool {
		for _, d := range ds {
			if d.Name != "skip" && d.Name != "include" {
				return false
			}
			for _, a := range d.Arguments {
				if a.Value != nil && a.Value.Kind == ast.Variable && !seen[a.Value.Raw] {
					seen[a.Value.Raw] = true
					names = append(names, a.Value.Raw)
				}
			}
		}
		return true
	}
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if !directives(sel.Directives) || !walk(sel.SelectionSet) {
					return false
				}
			case *ast.InlineFragment:
				if !directives(sel.Directives) || !walk(sel.SelectionSet) {
					return false
				}
			case *ast.FragmentSpread:
				if !directives(sel.Directives) {
					return false
				}
				if frags[sel.Name] {
					continue
				}
				frags[sel.Name] = true
				def := doc.Fragments.ForName(sel.Name)
				if def == nil || !directives(def.Directives) || !walk(def.SelectionSet) {
					return false
				}
			default:
				return false
			}
		}
		return true
	}
	ok := len(op.Directives) == 0 && walk(op.SelectionSet)
	return names, ok
}

// opPlan is an operation's plan for one set of condition values: a plan
// per root field it covers.
type opPlan struct {
	roots []rootPlan
	// only: the operation has one root field, roots[0] (see
	// Executor.InterceptResponse).
	only bool
}

// rootPlan is Query.me or Query.staff.
type rootPlan struct {
	alias string
	path  ast.Path // the response path of its resolver's call
	kind  kind     // queryMe or queryStaff
	args  args     // queryStaff's id
	sel   *object
}

// object is a selection set on one object type, its fields collected as
// gqlgen's executor collects them.
type object struct {
	fields []field
	// calls says that a resolver is called below: a list of such objects
	// keeps track of its index, which is part of those calls' paths.
	calls bool
}

// field is a selected field: the bytes written before its value, what it
// is, and what it selects.
type field struct {
	prefix []byte // `{"alias":` for the first field, `,"alias":` after
	kind   kind
	sel    *object // what an object or list field selects
	args   args
	// grades is Staff.chats' withGrades; page what a Staff.chatsConnection
	// reads: as the resolvers decide from the selection (see resolvers).
	grades bool
	page   resolvers.PageSelection
	// path is the response path of a resolver's call (Staff.chats,
	// Staff.chatsConnection), the index of each list above it unknown
	// (see listIndex) until the plan runs.
	path ast.Path
}

// listIndex stands, in a compiled path, for the index of a list element.
const listIndex = ast.PathIndex(-1)

// kind is a field of the schema.
type kind uint8

const (
	typename kind = iota
	queryMe
	queryStaff
	staffID
	staffName
	staffRole
	staffIsOnline
	staffChats
	staffChatsConnection
	chatID
	chatGroupID
	chatTitle
	chatStatus
	chatStoredStatus
	chatAddress
	chatMessage
	chatCreateTime
	chatUser
	chatStaff
	userID
	userNickName
	userIcon
	userGrade
	gradeChatCount
	gradeOrderCount
	gradeServiceCount
	connEdges
	connNodes
	connPageInfo
	connTotalCount
	edgeCursor
	edgeNode
	pageHasNextPage
	pageHasPreviousPage
	pageStartCursor
	pageEndCursor
)

// kindOf is the field name of type typ, when plans cover it.
func kindOf(typ, name string) (kind, bool) {
	switch typ + "." + name {
	case "Query.me":
		return queryMe, true
	case "Query.staff":
		return queryStaff, true
	case "Staff.id":
		return staffID, true
	case "Staff.name":
		return staffName, true
	case "Staff.role":
		return staffRole, true
	case "Staff.isOnline":
		return staffIsOnline, true
	case "Staff.chats":
		return staffChats, true
	case "Staff.chatsConnection":
		return staffChatsConnection, true
	case "Chat.id":
		return chatID, true
	case "Chat.groupId":
		return chatGroupID, true
	case "Chat.title":
		return chatTitle, true
	case "Chat.status":
		return chatStatus, true
	case "Chat.storedStatus":
		return chatStoredStatus, true
	case "Chat.address":
		return chatAddress, true
	case "Chat.message":
		return chatMessage, true
	case "Chat.createTime":
		return chatCreateTime, true
	case "Chat.user":
		return chatUser, true
	case "Chat.staff":
		return chatStaff, true
	case "User.id":
		return userID, true
	case "User.nickName":
		return userNickName, true
	case "User.icon":
		return userIcon, true
	case "User.grade":
		return userGrade, true
	case "UserGrade.chatCount":
		return gradeChatCount, true
	case "UserGrade.orderCount":
		return gradeOrderCount, true
	case "UserGrade.serviceCount":
		return gradeServiceCount, true
	case "ChatConnection.edges":
		return connEdges, true
	case "ChatConnection.nodes":
		return connNodes, true
	case "ChatConnection.pageInfo":
		return connPageInfo, true
	case "ChatConnection.totalCount":
		return connTotalCount, true
	case "ChatEdge.cursor":
		return edgeCursor, true
	case "ChatEdge.node":
		return edgeNode, true
	case "PageInfo.hasNextPage":
		return pageHasNextPage, true
	case "PageInfo.hasPreviousPage":
		return pageHasPreviousPage, true
	case "PageInfo.startCursor":
		return pageStartCursor, true
	case "PageInfo.endCursor":
		return pageEndCursor, true
	}
	return 0, false
}

// isList reports whether k is a list of objects.
func (k kind) isList() bool {
	return k == staffChats || k == connEdges || k == connNodes
}

// calls reports whether k is answered by a resolver of Staff.
func (k kind) calls() bool {
	return k == staffChats || k == staffChatsConnection
}

// selects reports whether k is a field of an object type, or a list of
// one, that selects fields of its own.
func (k kind) selects() bool {
	switch k {
	case queryMe, queryStaff, staffChats, staffChatsConnection, chatUser, chatStaff, userGrade,
		connEdges, connNodes, connPageInfo, edgeNode:
		return true
	}
	return false
}

// errNotCovered is a selection the plans do not cover.
var errNotCovered = errors.New("plan: not covered")

// compiler compiles one operation for one set of condition values. Its
// operation context holds just those values: the fields an operation
// selects depend on nothing else.
type compiler struct {
	oc  *graphql.OperationContext
	ctx context.Context
}

// compile is op's plan for vars, the values of its condition variables.
func compile(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) (p *opPlan, err error) {
	defer func() {
		if r := recover(); r != nil { // gqlgen's collection panics on what validation refused
			p, err = nil, fmt.Errorf("plan: %v", r)
		}
	}()
	oc := &graphql.OperationContext{Doc: doc, Operation: op, Variables: vars, RawQuery: "-"}
	c := compiler{oc: oc, ctx: graphql.WithOperationContext(context.Background(), oc)}
	p = &opPlan{}
	fields := graphql.CollectFields(oc, op.SelectionSet, []string{"Query"})
	for _, f := range fields {
		k, ok := kindOf("Query", f.Name)
		if !ok {
			continue // __typename, introspection: the executor's
		}
		path := ast.Path{ast.PathName(f.Alias)}
		sel, err := c.object("Staff", f, path)
		if err != nil {
			continue // the executor answers this root field
		}
		r := rootPlan{alias: f.Alias, path: path, kind: k, sel: sel}
		if k == queryStaff {
			r.args = newArgs(f.Field)
		}
		p.roots = append(p.roots, r)
	}
	p.only = len(fields) == 1 && len(p.roots) == 1
	return p, nil
}

// object compiles what f, a field of type typ at path, selects; path
// ends with listIndex when f is a list.
func (c compiler) object(typ string, f graphql.CollectedField, path ast.Path) (*object, error) {
	if len(f.Deferrables) > 0 {
		return nil, errNotCovered
	}
	collected := graphql.CollectFields(c.oc, f.Selections, []string{typ})
	o := &object{fields: make([]field, len(collected))}
	for i, cf := range collected {
		fp := &o.fields[i]
		fp.prefix = prefix(i, cf.Alias)
		if cf.Name == "__typename" {
			fp.kind = typename
			fp.prefix = strconv.AppendQuote(fp.prefix, typ) // a type name needs no escaping
			continue
		}
		k, ok := kindOf(typ, cf.Name)
		if !ok || cf.Definition == nil {
			return nil, errNotCovered
		}
		fp.kind = k
		fpath := append(slices.Clip(path), ast.PathName(cf.Alias))
		if k.selects() {
			spath := fpath
			if k.isList() {
				spath = append(slices.Clip(fpath), listIndex)
			}
			var err error
			if fp.sel, err = c.object(cf.Definition.Type.Name(), cf, spath); err != nil {
				return nil, err
			}
			o.calls = o.calls || fp.sel.calls
		}
		if k.calls() {
			fp.args = newArgs(cf.Field)
			fp.path = fpath
			o.calls = true
		}
		switch k {
		case staffChats:
			fp.grades = resolvers.ListWantsGrades(c.fieldContext(cf))
		case staffChatsConnection:
			fp.page = resolvers.PageSelectionOf(c.fieldContext(cf))
		}
	}
	return o, nil
}

// fieldContext is the context the resolver of f sees, as far as what it
// selects goes.
func (c compiler) fieldContext(f graphql.CollectedField) context.Context {
	return graphql.WithFieldContext(c.ctx, &graphql.FieldContext{Field: f})
}

// prefix is what is written before the i-th field's value.
func prefix(i int, alias string) []byte {
	b := make([]byte, 0, len(alias)+8)
	if i == 0 {
		b = append(b, '{')
	} else {
		b = append(b, ',')
	}
	b = appendString(b, alias)
	return append(b, ':')
}
