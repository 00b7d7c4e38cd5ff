package tracing

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// maxOperationName bounds an operation's name in a span name; the
// client chooses it (the access log cuts it alike).
const maxOperationName = 64

// GraphQL is a gqlgen extension that gives each operation a span, named
// by its type and name ("query MyChats"), and each field with a resolver
// of its own a span inside it, named Type.field ("Staff.chats"). Those
// are the fields that read the store (Query.me, Query.staff, Staff.chats,
// Staff.chatsConnection); the others are read from what they returned
// and get none. Use it before the extension that checks the caller, so
// that the token's statement is in the operation's span.
func GraphQL(tp trace.TracerProvider) graphql.HandlerExtension {
	return operations{tracer: tp.Tracer("opfacade/graphql")}
}

type operations struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.FieldInterceptor
} = operations{}

func (operations) ExtensionName() string                   { return "Tracing" }
func (operations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation starts the operation's span around the operation's
// own work (the caller check) and ends it once its response is made,
// which for a query is when its fields have run.
func (o operations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	ctx, span := o.tracer.Start(ctx, operationName(oc))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("graphql.operation.type", string(oc.Operation.Operation)))
		if oc.Operation.Name != "" {
			span.SetAttributes(attribute.String("graphql.operation.name", oc.Operation.Name))
		}
	}
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

// InterceptField gives a field with a resolver of its own a span.
func (o operations) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := o.tracer.Start(ctx, fc.Object+"."+fc.Field.Name)
	defer span.End() // a panic too ends it
	res, err := next(ctx)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return res, err
}
