package plan

import (
	"context"
	"errors"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"opfacade/graph"
	"opfacade/model"
)

// call is one resolver's call in a plan's run, at its response path:
// what it returned, or the error or panic it ended with.
type call struct {
	path     ast.Path
	staff    *model.Staff // Query.me, Query.staff
	chats    []model.Chat // Staff.chats
	conn     *model.ChatConnection
	err      error
	panicked bool // err is what the RecoverFunc made of a panic
}

// record is the calls of a root field's failed run. gqlgen's executor,
// which answers the field instead, is handed what each call returned
// rather than calling the resolver again (see Replay): a failing
// database is asked once, not twice, and the executor writes the values
// the plan read, with gqlgen's errors, paths and null propagation. A
// path names one field of one operation, whose arguments the operation
// and its variables fix: it is the call's whole key.
type record struct {
	calls []call
}

type recordKey struct{}

// context marks ctx, the root field's, for the executor's run; a run
// that called no resolver needs no mark.
func (rec *record) context(ctx context.Context) context.Context {
	if len(rec.calls) == 0 {
		return ctx
	}
	return context.WithValue(ctx, recordKey{}, rec)
}

// recorded is the plan's call of the resolver whose field ctx is, when
// ctx is in a root field whose plan failed and the run made that call.
func recorded(ctx context.Context) *call {
	rec, ok := ctx.Value(recordKey{}).(*record)
	if !ok {
		return nil
	}
	path := graphql.GetFieldContext(ctx).Path()
	for i := range rec.calls {
		if c := &rec.calls[i]; slices.Equal(c.path, path) {
			return c
		}
	}
	return nil
}

// error is the call's error as its resolver gives it to gqlgen.
func (c *call) error(ctx context.Context) error {
	if c.panicked {
		return asPanic(ctx, c.err)
	}
	return c.err
}

// asPanic is err, a RecoverFunc's, as gqlgen reports a resolver's panic:
// on the field's path and without a location, which gqlgen adds to a
// returned error whose locations are nil, and not to a panic's.
func asPanic(ctx context.Context, err error) error {
	err = graphql.ErrorOnPath(ctx, err)
	var g *gqlerror.Error
	if errors.As(err, &g) && g.Locations == nil {
		g.Locations = []gqlerror.Location{}
	}
	return err
}

// Replay returns root, the resolvers gqlgen's executor calls, made to
// answer, in a root field whose plan failed, each call the plan's run
// made with what that call returned. Any other call costs one context
// lookup more; a field without a resolver, nothing.
func Replay(root graph.ResolverRoot) graph.ResolverRoot {
	return &replayRoot{ResolverRoot: root, query: replayQuery{root.Query()}, staff: replayStaff{root.Staff()}}
}

type replayRoot struct {
	graph.ResolverRoot
	query replayQuery
	staff replayStaff
}

func (r *replayRoot) Query() graph.QueryResolver { return &r.query }
func (r *replayRoot) Staff() graph.StaffResolver { return &r.staff }

type replayQuery struct{ graph.QueryResolver }

func (q *replayQuery) Me(ctx context.Context) (*model.Staff, error) {
	if c := recorded(ctx); c != nil {
		return c.staff, c.error(ctx)
	}
	return q.QueryResolver.Me(ctx)
}

func (q *replayQuery) Staff(ctx context.Context, id string) (*model.Staff, error) {
	if c := recorded(ctx); c != nil {
		return c.staff, c.error(ctx)
	}
	return q.QueryResolver.Staff(ctx, id)
}

type replayStaff struct{ graph.StaffResolver }

func (s *replayStaff) Chats(ctx context.Context, obj *model.Staff, status []model.ChatStatus) ([]model.Chat, error) {
	if c := recorded(ctx); c != nil {
		return c.chats, c.error(ctx)
	}
	return s.StaffResolver.Chats(ctx, obj, status)
}

func (s *replayStaff) ChatsConnection(ctx context.Context, obj *model.Staff, status []model.ChatStatus, first *int, after *string) (*model.ChatConnection, error) {
	if c := recorded(ctx); c != nil {
		return c.conn, c.error(ctx)
	}
	return s.StaffResolver.ChatsConnection(ctx, obj, status, first, after)
}
