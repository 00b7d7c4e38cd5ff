package api

import (
	"context"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityLimit is gqlgen's extension.FixedComplexityLimit, with the
// same stats, error and code, that keeps the complexity of operations
// without variables: theirs depends on the document alone, and the
// consoles send the same few documents every few seconds, each parsed
// once (the query cache keeps the document, and so the operation's
// identity). Operations with variables are measured on each request.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	known *lru.Cache[*ast.OperationDefinition, int]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

// knownComplexities bounds the operations whose complexity is kept: as
// many as the query cache keeps documents.
const knownComplexities = 1000

func newComplexityLimit(limit int) *complexityLimit {
	known, _ := lru.New[*ast.OperationDefinition, int](knownComplexities)
	return &complexityLimit{limit: limit, known: known}
}

func (c *complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(schema graphql.ExecutableSchema) error {
	c.es = schema
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Operation
	kept := op != nil && len(op.VariableDefinitions) == 0
	n, ok := 0, false
	if kept {
		n, ok = c.known.Get(op)
	}
	if !ok {
		n = complexity.Calculate(ctx, c.es, op, oc.Variables)
		if kept {
			c.known.Add(op, n)
		}
	}
	oc.Stats.SetExtension("ComplexityLimit", &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}
