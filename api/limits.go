package api

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"opfacade/httpguard"
)

// Limits bound what one GraphQL request may ask of the server. A zero
// field takes its value from DefaultLimits.
type Limits struct {
	// MaxComplexity bounds an operation's cost: every field costs 1 plus
	// what it selects, and lists multiply what they select by their
	// expected size (see resolvers.Complexity).
	MaxComplexity int
	// MaxDepth bounds how deeply selections nest; introspection is bounded
	// by its own rule (at most three nested __Type lists).
	MaxDepth int
	// MaxFields bounds the field selections of an operation, with every
	// fragment counted as often as it is spread and aliases counted as
	// the fields they are.
	MaxFields int
	// MaxTokens bounds the lexical tokens of a query document.
	MaxTokens int
	// MaxBody bounds a request body, in bytes.
	MaxBody int64
	// Timeout bounds a request's work, database calls included.
	Timeout time.Duration
}

// DefaultLimits admit the playground's introspection and every query the
// consoles send, with room to spare.
var DefaultLimits = Limits{
	MaxComplexity: 2500,
	MaxDepth:      10,
	MaxFields:     500,
	MaxTokens:     4000,
	MaxBody:       64 << 10,
	Timeout:       5 * time.Second,
}

// WithDefaults is l with DefaultLimits in place of its zero fields.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.MaxComplexity > 0 {
		d.MaxComplexity = l.MaxComplexity
	}
	if l.MaxDepth > 0 {
		d.MaxDepth = l.MaxDepth
	}
	if l.MaxFields > 0 {
		d.MaxFields = l.MaxFields
	}
	if l.MaxTokens > 0 {
		d.MaxTokens = l.MaxTokens
	}
	if l.MaxBody > 0 {
		d.MaxBody = l.MaxBody
	}
	if l.Timeout > 0 {
		d.Timeout = l.Timeout
	}
	return d
}

// The extensions.code of each refusal. Each names the limit it hit.
const (
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED" // gqlgen's own code
	CodeDepthLimit      = "DEPTH_LIMIT_EXCEEDED"
	CodeTooManyFields   = "TOO_MANY_FIELDS"
	CodeTokenLimit      = "TOKEN_LIMIT_EXCEEDED"
	CodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
	CodeBatching        = "BATCHING_NOT_SUPPORTED"
	CodeBadRequest      = "BAD_REQUEST"
	CodeCSRF            = "CSRF_PREVENTED"
	// A bearer token over its share of the replica (HTTP 429).
	CodeRateLimited = "RATE_LIMITED"
	// A request no GraphQL transport serves: its method, or its body's type.
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
)

// limitOf names the limit each refusal's code stands for, for the
// operators' metrics (httpguard.Outcome.Limit); the deadline names its
// own (httpguard.Deadline).
var limitOf = map[string]string{
	CodeRateLimited:     httpguard.LimitTokenRate,
	CodePayloadTooLarge: httpguard.LimitBody,
	CodeTokenLimit:      httpguard.LimitTokens,
	CodeDepthLimit:      httpguard.LimitDepth,
	CodeTooManyFields:   httpguard.LimitFields,
	CodeComplexityLimit: httpguard.LimitComplexity,
}

// useLimits puts the document limits on srv. Depth and field counts run
// before the complexity calculation, which walks every spread of every
// fragment: a document that passes them is small enough to walk.
func useLimits(srv *handler.Server, l Limits, introspection bool) {
	srv.SetParserTokenLimit(l.MaxTokens)
	// "Did you mean …" suggestions would show the schema's field names
	// to clients that may not read the schema.
	srv.SetDisableSuggestion(!introspection)
	srv.Use(shapeLimit{maxDepth: l.MaxDepth, maxFields: l.MaxFields})
	srv.Use(newComplexityLimit(l.MaxComplexity))
}

// presentLimits gives the parser's token-limit error a code of its own;
// gqlparser reports it as any other parse failure.
func presentLimits(next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := next(ctx, err)
		if e != nil && e.Extensions["code"] == errcode.ParseFailed && strings.HasPrefix(e.Message, "exceeded token limit of ") {
			e.Extensions["code"] = CodeTokenLimit
		}
		return e
	}
}

// shapeLimit refuses operations nested deeper than maxDepth or selecting
// more than maxFields fields. It runs after validation, so fragments are
// known and acyclic; each fragment is measured once, so a document whose
// spreads multiply costs no more to measure than to read.
type shapeLimit struct {
	maxDepth, maxFields int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                          { return "ShapeLimit" }
func (shapeLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (l shapeLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	m := shapeMeter{frags: map[string]shape{}}
	s := m.selectionSet(oc.Operation.SelectionSet)
	if s.depth > l.maxDepth {
		return codeError(CodeDepthLimit, fmt.Sprintf("the operation nests %d levels deep, over the limit of %d", s.depth, l.maxDepth))
	}
	if s.fields > int64(l.maxFields) {
		return codeError(CodeTooManyFields, fmt.Sprintf("the operation selects %s fields, over the limit of %d", countString(s.fields), l.maxFields))
	}
	return nil
}

// shape is what a selection set adds below it: how deep it nests and how
// many fields it selects, fragments expanded.
type shape struct {
	depth  int
	fields int64
}

// fieldCountCap keeps counts of fragment bombs from overflowing.
const fieldCountCap = 1 << 40

func countString(n int64) string {
	if n >= fieldCountCap {
		return "more than a trillion"
	}
	return fmt.Sprint(n)
}

type shapeMeter struct {
	frags map[string]shape
}

func (m *shapeMeter) selectionSet(set ast.SelectionSet) shape {
	var s shape
	for _, sel := range set {
		var c shape
		switch sel := sel.(type) {
		case *ast.Field:
			c = m.field(sel)
		case *ast.InlineFragment:
			c = m.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			c = m.fragment(sel)
		}
		s.depth = max(s.depth, c.depth)
		s.fields = min(s.fields+c.fields, fieldCountCap)
	}
	return s
}

func (m *shapeMeter) field(f *ast.Field) shape {
	if f.Name == "__schema" || f.Name == "__type" {
		// Bounded by gqlparser's MaxIntrospectionDepth rule; counted
		// for its fields only.
		inner := m.selectionSet(f.SelectionSet)
		return shape{depth: 1, fields: min(1+inner.fields, fieldCountCap)}
	}
	inner := m.selectionSet(f.SelectionSet)
	return shape{depth: 1 + inner.depth, fields: min(1+inner.fields, fieldCountCap)}
}

func (m *shapeMeter) fragment(spread *ast.FragmentSpread) shape {
	if s, ok := m.frags[spread.Name]; ok {
		return s
	}
	if spread.Definition == nil {
		return shape{}
	}
	m.frags[spread.Name] = shape{} // validation refused cycles; this only guards
	s := m.selectionSet(spread.Definition.SelectionSet)
	m.frags[spread.Name] = s
	return s
}
