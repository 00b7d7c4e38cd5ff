// Package loader batches the per-row lookups of one request into a few SQL
// statements. A request's loaders travel in its context: each request
// gets fresh ones (With), built when first asked for (For), so nothing
// cached outlives the request or leaks between callers.
//
// The schema's lists read their rows a list at a time (a chat list with
// its users in one statement, their grades in one more; see
// resolvers.listChats), so today's operations ask for no loader and
// build none. A field resolved per object (a user by id, an OP by id)
// goes through them, and costs one statement per request, not one per
// row; a resolver that already holds rows may prime them (Prime), so that
// such a field never waits for the batching window below.
package loader

import (
	"context"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"

	"opfacade/domain"
)

// Store is what the loaders read.
type Store interface {
	StaffByIDs(ctx context.Context, ids []string) (map[string]domain.Staff, error)
	UsersByIDs(ctx context.Context, ids []string) (map[string]domain.User, error)
	GradesByUserIDs(ctx context.Context, ids []string) (map[string]domain.Grade, error)
}

// wait is how long an unprimed lookup waits for others to join its batch.
const wait = time.Millisecond

// Loaders are one request's dataloaders.
type Loaders struct {
	Staff  *dataloadgen.Loader[string, domain.Staff]
	Users  *dataloadgen.Loader[string, domain.User]
	Grades *dataloadgen.Loader[string, domain.Grade]
}

// batchCapacity is the most keys one batch holds; a full batch fires at once.
const batchCapacity = 1000

// New returns fresh loaders over s.
func New(s Store) *Loaders { return newLoaders(s, wait, batchCapacity) }

func newLoaders(s Store, wait time.Duration, capacity int) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(capacity)}
	return &Loaders{
		Staff:  dataloadgen.NewMappedLoader(s.StaffByIDs, opts...),
		Users:  dataloadgen.NewMappedLoader(s.UsersByIDs, opts...),
		Grades: dataloadgen.NewMappedLoader(s.GradesByUserIDs, opts...),
	}
}

type ctxKey struct{}

// lazy builds a request's loaders when it first asks for them: most
// requests read their rows by the list (see resolvers.listChats) and
// never do.
type lazy struct {
	s    Store
	once sync.Once
	l    *Loaders
}

// With returns ctx in which For finds fresh loaders over s, built at the
// first call.
func With(ctx context.Context, s Store) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{s: s})
}

// For returns the request's loaders. It panics when With was not called:
// that is a wiring bug, not a runtime condition.
func For(ctx context.Context) *Loaders {
	z, ok := ctx.Value(ctxKey{}).(*lazy)
	if !ok {
		panic("loader: no loaders in context; give each request loader.With(ctx, store)")
	}
	z.once.Do(func() { z.l = New(z.s) })
	return z.l
}
