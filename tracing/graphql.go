package tracing

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// maxOperationName bounds an operation's name in a span name; the
// client chooses it (the access log cuts it alike).
const maxOperationName = 64

// GraphQL is a gqlgen extension that gives each operation a span, named
// by its type and name ("query MyChats"), and, in an operation of
// several root fields, each of them but introspection's a span inside
// it, named Type.field ("Query.me"), that holds the field's whole
// answer. An operation of one root field, as the consoles' are, gives it
// none: its span would be the operation's, less the caller's check, and
// a span costs the request more than anything else tracing does. The
// fields below that read the store give themselves their spans
// (Staff.chats, see package resolvers), wherever they are run from. Use
// it before the extension that checks the caller, so that the token's
// statement is in the operation's span, and before any that answers root
// fields itself, so that a root field's span holds that answer too.
//
// It does not intercept every field, as a field span per field would
// cost an allocation or more for each of the hundreds of fields of a
// chat list.
func GraphQL(tp trace.TracerProvider) graphql.HandlerExtension {
	return operations{tracer: tp.Tracer("opfacade/graphql")}
}

type operations struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.RootFieldInterceptor
} = operations{}

func (operations) ExtensionName() string                   { return "Tracing" }
func (operations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation starts the operation's span around the operation's
// own work (the caller check) and ends it once its response is made,
// which for a query is when its fields have run.
func (o operations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() { // a request the sampler left out
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	ctx, span := begin(ctx, parent.SpanContext(), o.tracer, spanStart{name: operationName(oc), attributes: operationAttributes(oc)})
	respond := next(ctx)
	ended := false
	return func(rctx context.Context) *graphql.Response {
		if ended {
			return respond(rctx)
		}
		ended = true
		// The transport passes the context given to next (DispatchOperation
		// returns it): the fields' spans are in this one.
		resp := respond(rctx)
		endOperation(span, resp)
		return resp
	}
}

// operationName is "query MyChats", or "query" for an anonymous one.
func operationName(oc *graphql.OperationContext) string {
	name := oc.Operation.Name
	if name == "" {
		return string(oc.Operation.Operation)
	}
	if len(name) > maxOperationName { // a GraphQL name is ASCII
		name = name[:maxOperationName]
	}
	return string(oc.Operation.Operation) + " " + name
}

// operationAttributes are the operation's type, and its name if it has
// one.
func operationAttributes(oc *graphql.OperationContext) []attribute.KeyValue {
	typ := attribute.String("graphql.operation.type", string(oc.Operation.Operation))
	if oc.Operation.Name == "" {
		return []attribute.KeyValue{typ}
	}
	return []attribute.KeyValue{typ, attribute.String("graphql.operation.name", oc.Operation.Name)}
}

// endOperation ends span with the response's outcome: an error when the
// response has errors (the first one's code says which) or when there is
// none, the request's context having ended first.
func endOperation(span trace.Span, resp *graphql.Response) {
	switch {
	case resp == nil:
		span.SetStatus(codes.Error, "no response: the request's context ended first")
	case len(resp.Errors) > 0:
		span.SetStatus(codes.Error, errorCode(resp.Errors))
	}
	span.End()
}

// errorCode is what describes a failed operation: the first error's
// extensions.code, else its message, as the client saw them.
func errorCode(errs gqlerror.List) string {
	if code, ok := errs[0].Extensions["code"]; ok {
		return fmt.Sprint(code)
	}
	return errs[0].Message
}

// InterceptRootField gives a root field, but introspection's, a span
// around its whole answer when the operation has others, failed when the
// answer has an error: the field's own or one of a field below it.
func (o operations) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	rfc := graphql.GetRootFieldContext(ctx)
	if rfc == nil || strings.HasPrefix(rfc.Field.Name, "__") || !Recording(ctx) || !severalRootFields(graphql.GetOperationContext(ctx)) {
		return next(ctx)
	}
	ctx, span := o.tracer.Start(ctx, rootObject(ctx)+"."+rfc.Field.Name)
	defer span.End() // a panic too ends it
	res := next(ctx)
	if errs := fieldErrors(ctx, rfc.Field.Alias); len(errs) > 0 {
		span.SetStatus(codes.Error, errorCode(errs))
	}
	return res
}

// severalRootFields reports whether oc's operation may answer more than
// one root field, introspection's aside. A fragment at the root may hold
// any number: it counts as several.
func severalRootFields(oc *graphql.OperationContext) bool {
	n := 0
	for _, sel := range oc.Operation.SelectionSet {
		f, ok := sel.(*ast.Field)
		switch {
		case !ok:
			return true
		case !strings.HasPrefix(f.Name, "__"):
			n++
		}
	}
	return n > 1
}

// rootObject is the type whose root field ctx is in: Query, Mutation or
// Subscription.
func rootObject(ctx context.Context) string {
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		return fc.Object
	}
	return "Query"
}

// fieldErrors are the errors of the response so far under the root field
// answered as key.
func fieldErrors(ctx context.Context, key string) gqlerror.List {
	var out gqlerror.List
	for _, e := range graphql.GetErrors(ctx) {
		if len(e.Path) > 0 && e.Path[0] == ast.PathName(key) {
			out = append(out, e)
		}
	}
	return out
}
