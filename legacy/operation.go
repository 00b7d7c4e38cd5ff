package legacy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/domain"
)

// operation is one fixed GraphQL operation run in-process against the
// executable schema: no HTTP hop, and parsed and validated once (the
// executor's cache keeps the validated document).
type operation struct {
	exec  *executor.Executor
	query string
}

func newOperation(es graphql.ExecutableSchema, query string, log *slog.Logger) (*operation, error) {
	ex := executor.New(es)
	ex.SetQueryCache(lru.New[*ast.QueryDocument](1))
	ex.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return domain.Errorf(domain.EINTERNAL, "internal error")
	})
	op := &operation{exec: ex, query: query}
	// Validate at start: a mismatch with the schema is a build error, not
	// something the first legacy client should find.
	ctx := graphql.StartOperationTrace(context.Background())
	if _, errs := ex.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: map[string]any{"staffId": "validate"}}); errs != nil {
		return nil, errs
	}
	return op, nil
}

// run executes the operation with vars and decodes its data into out. The
// first error of the response, if any, is returned with its domain error
// in its chain.
func (o *operation) run(ctx context.Context, vars map[string]any, out any) error {
	ctx = graphql.StartOperationTrace(ctx)
	opCtx, errs := o.exec.CreateOperationContext(ctx, &graphql.RawParams{Query: o.query, Variables: vars})
	if errs != nil {
		return domain.Wrap(domain.EINVALID, errs, "invalid parameters")
	}
	responses, ctx := o.exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil {
		return domain.Wrap(domain.EUNAVAILABLE, ctx.Err(), "the request was cancelled")
	}
	if len(resp.Errors) > 0 {
		return resp.Errors[0]
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		return fmt.Errorf("decode %s: %w", resp.Data, err)
	}
	return nil
}
