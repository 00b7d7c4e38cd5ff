// Package loader batches the per-row lookups of one request into a few SQL
// statements. A request's loaders travel in its context: each request
// gets fresh ones (New, With), so nothing cached outlives the request or
// leaks between callers; For finds them.
//
// Resolvers that already hold rows prime the loaders (see Prime*), so the
// common paths never wait for a batching window; the short window below
// only serves lookups nobody primed.
package loader

import (
	"context"
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

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders. It panics when none were put in the
// context: that is a wiring bug, not a runtime condition.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loader: no loaders in context; give each request loader.With(ctx, loader.New(store))")
	}
	return l
}
