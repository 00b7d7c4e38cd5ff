// Package api is the GraphQL endpoint over HTTP: transports, caches,
// caller checks and how errors are shown.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/ratelimit"
)

// Options configure the GraphQL endpoint.
type Options struct {
	// Introspection lets clients (and the playground) read the schema.
	Introspection bool
	// Limits bound each request; zero fields take DefaultLimits.
	Limits Limits
	// RateLimit holds a bucket per bearer token; nil is no limit.
	RateLimit *ratelimit.Limiter
	// Prepare gives each request what its resolvers find in their context
	// (the request's loaders, say), inside the guards and under the
	// deadline; nil leaves the context as it is.
	Prepare func(context.Context) context.Context
}

// New returns the GraphQL endpoint: POST with a JSON body (answered by
// postJSON when the client takes plain JSON), and GET for queries only.
// Requests carry the caller's bearer token, checked once per operation
// against tokens, and are bounded by opt.Limits.
func New(es graphql.ExecutableSchema, tokens TokenChecker, opt Options, log *slog.Logger) http.Handler {
	limits := opt.Limits.WithDefaults()
	return protect(newServer(es, tokens, opt.Introspection, limits, log), limits, opt.RateLimit, opt.Prepare, log)
}

// newServer is the GraphQL handler, without the HTTP-level guards.
func newServer(es graphql.ExecutableSchema, tokens TokenChecker, introspection bool, limits Limits, log *slog.Logger) *handler.Server {
	srv := handler.New(es)
	present := presentLimits(presenter(log))
	cancelled := unavailableMessage(limits)
	for _, t := range []graphql.Transport{postJSON{}, transport.POST{}, transport.GET{}} {
		srv.AddTransport(untilDone{Transport: t, present: present, message: cancelled})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(recoverer(log))
	if introspection {
		srv.Use(extension.Introspection{})
	}
	useLimits(srv, limits, introspection)
	srv.Use(requireCaller{tokens: tokens, present: present})
	return srv
}
