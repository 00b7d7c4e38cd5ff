// Package plan answers the GraphQL operations the OP consoles send every
// few seconds at the cost of hand-written code. gqlgen stays the server:
// it parses, validates, applies the limits and runs the extensions. Each
// query operation it has validated is compiled once into a plan (cached by
// its document and operation name, and by the values of the variables its
// @skip and @include read): for each selected field, which resolver to
// call and how to write the value. Executing a plan calls the same
// resolvers, with the same arguments, as gqlgen's executor, and appends
// the JSON answer straight from their Go values (model's types): no field
// context, no goroutine per list element, no value boxed per field.
//
// The plan plugs in as two of gqlgen's extension points (Executor). A
// query with one root field that a plan covers, the consoles' kind, is
// answered whole from the plan, as a response interceptor: its data is
// that field's JSON in an object, and gqlgen's executor does not run.
// In an operation with several root fields, a plan answers each it
// covers as a root-field interceptor: it returns the field's finished
// JSON as the field's value, and gqlgen writes the response around it.
// gqlgen's executor remains the reference, and answers whatever a plan
// does not:
//
//   - what the compiler does not cover: introspection, a directive other
//     than @skip and @include, an operation other than a query;
//   - any root field whose compiled run fails — a resolver's error or
//     panic, an argument that does not coerce, a null where the schema
//     says non-null. gqlgen's executor then answers that root field, so
//     errors, their paths, null propagation and codes are exactly
//     gqlgen's; but the executor's resolvers (Replay) answer each call
//     the run made with what it returned, its value or its error (see
//     record), so no statement runs twice, and a failing one is not
//     retried.
//
// Plans are proven against gqlgen's executor byte for byte (the
// differential test and fuzz target beside this file).
package plan

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/model"
	"opfacade/resolvers"
)

// Resolvers are what plans call: the resolvers gqlgen's executor calls
// for the same fields.
type Resolvers interface {
	Caller(ctx context.Context) (*model.Staff, error)
	StaffByID(ctx context.Context, id string) (*model.Staff, error)
	ChatList(ctx context.Context, s *model.Staff, statuses []model.ChatStatus, withGrades bool) ([]model.Chat, error)
	ChatsConnection(ctx context.Context, s *model.Staff, statuses []model.ChatStatus, first *int, after *string, sel resolvers.PageSelection) (*model.ChatConnection, error)
}

var _ Resolvers = (*resolvers.Resolver)(nil)

// Sizes of the caches.
const (
	// maxOperations bounds the operations whose plans are kept: far more
	// than the operations the consoles send (gqlgen's query cache keeps
	// 1,000 documents).
	maxOperations = 1000
	// maxVariants bounds the plans of one operation, one per combination
	// of its @skip/@include variables met; past it, the executor answers.
	maxVariants = 16
	// maxKeptBuffer is the largest answer buffer kept for reuse.
	maxKeptBuffer = 1 << 20
)

// Metric is the counter of root fields by how they were answered.
const Metric = "opfacade_graphql_root_fields_total"

// The values of Metric's path label.
const (
	PathCompiled = "compiled" // a plan answered
	PathFallback = "fallback" // a plan ran, failed, and the executor answered
	PathExecutor = "executor" // no plan covers the field, or plans are off
)

// Executor is the gqlgen extension that answers root fields from plans.
type Executor struct {
	res  Resolvers
	ops  *lru.Cache[opKey, *operation]
	pool sync.Pool // *scratch
	// paths counts root fields by PathCompiled, PathFallback, PathExecutor.
	compiled, fallback, executor prometheus.Counter
}

// opKey names an operation: its document's text and its name.
type opKey struct{ query, name string }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.RootFieldInterceptor
} = (*Executor)(nil)

// New returns an Executor over res, whose counter (Metric) reg serves;
// nil keeps it unserved. A registry that refuses it is logged to log.
func New(res Resolvers, reg prometheus.Registerer, log *slog.Logger) *Executor {
	ops, err := lru.New[opKey, *operation](maxOperations)
	if err != nil {
		panic(err) // only for a size below 1
	}
	paths := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: Metric,
		Help: "GraphQL root fields (me, staff, introspection) by how they were answered: compiled (from the operation's compiled plan), fallback (the plan failed, gqlgen's executor answered from what the plan's resolvers returned), executor (no plan covers the field, or -compiled=false).",
	}, []string{"path"})
	if reg != nil {
		paths = register(reg, log, paths)
	}
	return &Executor{res: res, ops: ops,
		compiled: paths.WithLabelValues(PathCompiled), fallback: paths.WithLabelValues(PathFallback), executor: paths.WithLabelValues(PathExecutor)}
}

// Counter counts root fields answered by gqlgen's executor alone, for a
// server whose plans are off: it serves the same Metric.
func Counter(reg prometheus.Registerer, log *slog.Logger) graphql.HandlerExtension {
	e := New(nil, reg, log)
	return executorOnly{e.executor}
}

func register(reg prometheus.Registerer, log *slog.Logger, c *prometheus.CounterVec) *prometheus.CounterVec {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
	case errors.As(err, &already):
		if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing
		}
	default:
		log.Error("the compiled plans' metric could not be registered; it is not served", "err", err)
	}
	return c
}

func (*Executor) ExtensionName() string                      { return "CompiledPlans" }
func (*Executor) Validate(graphql.ExecutableSchema) error    { return nil }
func (executorOnly) ExtensionName() string                   { return "CompiledPlansOff" }
func (executorOnly) Validate(graphql.ExecutableSchema) error { return nil }

// executorOnly counts every root field as the executor's.
type executorOnly struct{ executor prometheus.Counter }

func (x executorOnly) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if rf := graphql.GetRootFieldContext(ctx); rf != nil {
		x.executor.Inc()
	}
	return next(ctx)
}

// InterceptRootField answers the root field from the operation's plan
// when one covers it and its run succeeds, and from next, gqlgen's
// executor, otherwise: after a failed run, with the run's record in its
// context.
func (e *Executor) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	rf := graphql.GetRootFieldContext(ctx)
	if rf == nil {
		return next(ctx)
	}
	if rec, ok := ctx.Value(failedRunKey{}).(*record); ok { // InterceptResponse's run
		e.fallback.Inc()
		return next(rec.context(ctx))
	}
	oc := graphql.GetOperationContext(ctx)
	root := e.root(oc, rf.Field)
	if root == nil {
		e.executor.Inc()
		return next(ctx)
	}
	sc := e.getScratch()
	null, rec := e.run(ctx, oc, root, sc)
	switch {
	case rec != nil:
		e.release(sc)
		e.fallback.Inc()
		return next(rec.context(ctx))
	case null:
		e.release(sc)
		e.compiled.Inc()
		return graphql.Null
	}
	e.compiled.Inc()
	return &answer{sc: sc, e: e}
}

// InterceptResponse answers a query whose one root field a plan covers,
// the consoles' kind, without gqlgen's executor: the answer's data is
// the object of that field alone, written around its run's JSON. When
// the run fails, the executor answers the operation, its root field
// from the run's record (see InterceptRootField). Any other operation is
// next's.
func (e *Executor) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	root := e.only(oc)
	if root == nil {
		return next(ctx)
	}
	sc := e.getScratch()
	sc.b = append(append(append(sc.b, `{"`...), root.alias...), `":`...)
	null, rec := e.run(ctx, oc, root, sc)
	if rec != nil {
		e.release(sc)
		return next(context.WithValue(ctx, failedRunKey{}, rec))
	}
	if null {
		sc.b = append(sc.b, "null"...)
	}
	data := append(make([]byte, 0, len(sc.b)+1), sc.b...)
	e.release(sc)
	e.compiled.Inc()
	return &graphql.Response{Data: append(data, '}')}
}

// failedRunKey marks the context of an operation InterceptResponse's run
// failed, with the run's record.
type failedRunKey struct{}

// only is the plan of the one root field of oc's query, when a plan
// covers it; nil otherwise, for two root fields or more too.
func (e *Executor) only(oc *graphql.OperationContext) *rootPlan {
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return nil
	}
	if p := e.plan(oc); p != nil && p.only {
		return &p.roots[0]
	}
	return nil
}

// plan is the plan of oc's operation with its variables; nil when no
// plan covers it.
func (e *Executor) plan(oc *graphql.OperationContext) *opPlan {
	op := e.operation(oc)
	if op == nil {
		return nil
	}
	return op.plan(oc)
}

// root is the plan of the root field f of oc's operation; nil when no
// plan covers it.
func (e *Executor) root(oc *graphql.OperationContext, f graphql.CollectedField) *rootPlan {
	if f.Name != "me" && f.Name != "staff" {
		return nil
	}
	p := e.plan(oc)
	if p == nil {
		return nil
	}
	for i := range p.roots {
		if r := &p.roots[i]; r.alias == f.Alias {
			return r
		}
	}
	return nil
}

// operation is oc's operation as compiled so far; nil when plans do not
// cover it.
func (e *Executor) operation(oc *graphql.OperationContext) *operation {
	if oc.Operation == nil || oc.Doc == nil {
		return nil
	}
	key := opKey{oc.RawQuery, oc.OperationName}
	if op, ok := e.ops.Get(key); ok {
		return op
	}
	op := newOperation(oc.Doc, oc.Operation)
	e.ops.Add(key, op)
	return op
}

// run executes root's plan, appending the root field's JSON value to
// sc.b: nothing when the value is null; rec holds the run's calls of its
// resolvers when it failed.
func (e *Executor) run(ctx context.Context, oc *graphql.OperationContext, root *rootPlan, sc *scratch) (null bool, rec *record) {
	r := runner{ctx: ctx, vars: oc.Variables, res: e.res, b: sc.b, calls: sc.calls, idx: sc.idx}
	err := r.exec(oc, root)
	if err != nil {
		rec = &record{calls: slices.Clone(r.calls)}
	}
	sc.keep(&r)
	return r.null, rec
}

// scratch is what a run writes to, kept for reuse: the answer's bytes,
// the record of calls and the list indices.
type scratch struct {
	b     []byte
	calls []call
	idx   []int
}

func (e *Executor) getScratch() *scratch {
	if sc, ok := e.pool.Get().(*scratch); ok {
		sc.b = sc.b[:0]
		return sc
	}
	return &scratch{b: make([]byte, 0, 8<<10)}
}

// keep takes back what r grew, the calls emptied: they hold the
// resolvers' values.
func (sc *scratch) keep(r *runner) {
	clear(r.calls)
	sc.b, sc.calls, sc.idx = r.b, r.calls[:0], r.idx[:0]
}

func (e *Executor) release(sc *scratch) {
	if cap(sc.b) <= maxKeptBuffer {
		e.pool.Put(sc)
	}
}

// answer is a root field's finished JSON value. gqlgen writes it once,
// into the response; its scratch then serves another run.
type answer struct {
	sc *scratch
	e  *Executor
}

func (a *answer) MarshalGQL(w io.Writer) {
	if a.sc == nil {
		return
	}
	_, _ = w.Write(a.sc.b)
	a.e.release(a.sc)
	a.sc = nil
}
