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
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"opfacade/documents"
	"opfacade/live"
	"opfacade/ratelimit"
	"opfacade/tracing"
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
	// CORSOrigins may call the endpoint from a browser (see ParseOrigins).
	CORSOrigins []string
	// TrustedDocuments are operations served by id (their sha256, sent
	// as extensions.persistedQuery.sha256Hash or documentId); nil for
	// none.
	TrustedDocuments *documents.Manifest
	// TrustedOnly runs the trusted documents only: any other operation is
	// OPERATION_NOT_TRUSTED, and no automatic persisted query is kept.
	TrustedOnly bool
	// RootFields is the last extension, inside every other, after the
	// caller check: the compiled plans (plan.Executor), which answer a
	// response or a root field. nil for none.
	RootFields graphql.HandlerExtension
	// Live tunes the subscriptions' streams (keepalive, idle and send
	// timeouts); zero fields take live.Defaults'.
	Live live.Config
	// Streams keeps the WebSockets, so that a shutdown closes them (the
	// live hub); nil keeps none.
	Streams Streams
	// Tracing gives each operation a span, and each of its root fields
	// when it has several (see tracing.GraphQL); nil for none.
	Tracing trace.TracerProvider
}

// New returns the GraphQL endpoint: POST with a JSON body (postJSON), and
// GET for queries only (getQuery), answered as GraphQL over HTTP asks for
// application/json and application/graphql-response+json. Requests carry
// the caller's bearer token, checked once per operation against tokens,
// and are bounded by opt.Limits. An operation may be named by its hash
// (automatic persisted queries, trusted documents; see persistedQueries).
func New(es graphql.ExecutableSchema, tokens TokenChecker, opt Options, log *slog.Logger) http.Handler {
	limits := opt.Limits.WithDefaults()
	opt.Live = opt.Live.WithDefaults()
	checkTrusted(es.Schema(), opt.TrustedDocuments, log)
	return protect(buildServer(es, tokens, opt, limits, log), limits, opt, log)
}

// newServer is the GraphQL handler, without the HTTP-level guards, with
// automatic persisted queries and no trusted documents.
func newServer(es graphql.ExecutableSchema, tokens TokenChecker, introspection bool, limits Limits, log *slog.Logger) *handler.Server {
	return buildServer(es, tokens, Options{Introspection: introspection}, limits, log)
}

// buildServer is the GraphQL handler of opt, without the HTTP-level
// guards.
func buildServer(es graphql.ExecutableSchema, tokens TokenChecker, opt Options, limits Limits, log *slog.Logger) *handler.Server {
	srv := handler.New(es)
	present := presentLimits(presenter(log))
	ops := operations{present: present, unavailable: unavailableMessage(limits), maxTokens: limits.MaxTokens}
	addStreams(srv, opt.Live.WithDefaults(), tokens, present, opt.Prepare, limits.Timeout)
	srv.AddTransport(postJSON{ops})
	srv.AddTransport(getQuery{ops})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(recoverer(log))
	if opt.Tracing != nil { // first: its span holds the other extensions' work
		srv.Use(tracing.GraphQL(opt.Tracing))
	}
	srv.Use(newPersistedQueries(opt.TrustedDocuments, opt.TrustedOnly, log))
	if opt.Introspection {
		srv.Use(extension.Introspection{})
	}
	useLimits(srv, limits, opt.Introspection)
	srv.Use(requireCaller{tokens: tokens, present: present})
	if opt.RootFields != nil {
		srv.Use(opt.RootFields)
	}
	return srv
}
