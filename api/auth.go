package api

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"opfacade/domain"
	"opfacade/live"
)

// TokenChecker finds the OP a console session token belongs to.
type TokenChecker interface {
	StaffByToken(ctx context.Context, token string) (domain.Staff, error)
}

// requireCaller checks the bearer token once per operation. An operation
// that reads only introspection fields runs without one; any other gets
// UNAUTHENTICATED and no data when the token is missing, unknown or
// expired.
type requireCaller struct {
	tokens  TokenChecker
	present graphql.ErrorPresenterFunc
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = requireCaller{}

func (requireCaller) ExtensionName() string                          { return "RequireCaller" }
func (requireCaller) Validate(schema graphql.ExecutableSchema) error { return nil }

func (rc requireCaller) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if !needsCaller(oc) {
		return next(ctx)
	}
	token, ok := bearer(oc.Headers.Get("Authorization"))
	if !ok {
		token, ok = initToken(ctx) // a WebSocket's connection_init
	}
	if !ok {
		return rc.fail(ctx, domain.Errorf(domain.EUNAUTHENTICATED, "a bearer token is required: send Authorization: Bearer <token>"))
	}
	staff, err := rc.tokens.StaffByToken(ctx, token)
	if err != nil {
		return rc.fail(ctx, err)
	}
	return next(live.WithToken(domain.WithCaller(ctx, staff), token))
}

// bearer returns the token of an Authorization header of the Bearer
// scheme (RFC 6750; the scheme's name in any case).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func (rc requireCaller) fail(ctx context.Context, err error) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{rc.present(ctx, err)}})
}

// needsCaller reports whether the operation reads anything but
// introspection.
func needsCaller(oc *graphql.OperationContext) bool {
	// A root field without directives is always collected: most
	// operations answer here, without collecting the fields.
	for _, sel := range oc.Operation.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && len(f.Directives) == 0 && !introspection(f.Name) {
			return true
		}
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		if !introspection(f.Name) {
			return true
		}
	}
	return false
}

// introspection reports whether a root field is introspection's.
func introspection(name string) bool {
	return name == "__schema" || name == "__type" || name == "__typename"
}
