package api

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"opfacade/domain"
)

// codes is how GraphQL clients see each domain error: the value of
// extensions.code. It is the one place this mapping lives.
var codes = map[domain.ErrorCode]string{
	domain.EUNAUTHENTICATED: "UNAUTHENTICATED",
	domain.EFORBIDDEN:       "FORBIDDEN",
	domain.ENOTFOUND:        "NOT_FOUND",
	domain.EINVALID:         "BAD_USER_INPUT",
	domain.EUNAVAILABLE:     "SERVICE_UNAVAILABLE",
	domain.EINTERNAL:        "INTERNAL_SERVER_ERROR",
	domain.ELIVETOKEN:       "TOO_MANY_SUBSCRIPTIONS_FOR_TOKEN",
	domain.ELIVECONNECTION:  "TOO_MANY_SUBSCRIPTIONS_ON_CONNECTION",
	domain.ELIVEREPLICA:     "TOO_MANY_SUBSCRIPTIONS_ON_REPLICA",
}

// Code returns the extensions.code GraphQL clients see for err.
func Code(err error) string { return codes[domain.Code(err)] }

// presenter shows domain errors by their code and client-safe message.
// Errors gqlgen raises itself (validation, nullability) keep their text;
// any other error is internal: logged with its cause, shown as a generic
// message.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var de *domain.Error
		switch {
		case errors.As(err, &de):
		case gqlErr.Err == nil:
			return gqlErr // gqlgen's own, safe to show
		default:
			de = domain.Wrap(domain.EINTERNAL, err, "internal error")
		}
		switch de.Code {
		case domain.EINTERNAL:
			log.ErrorContext(ctx, "graphql request failed", "path", gqlErr.Path.String(), "code", de.Code, "err", err)
		case domain.EUNAVAILABLE:
			// The store logs an outage once, not once a request.
			log.DebugContext(ctx, "graphql request failed", "path", gqlErr.Path.String(), "code", de.Code, "err", err)
		}
		gqlErr.Message = domain.Message(de)
		gqlErr.Err = de
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = codes[de.Code]
		return gqlErr
	}
}

// recoverer turns a resolver's panic into an internal error and logs the
// stack; the client sees neither.
func recoverer(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return domain.Errorf(domain.EINTERNAL, "internal error")
	}
}
