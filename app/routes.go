package app

import (
	"context"
	"log/slog"
	"net/http"

	"opfacade/accesslog"
	"opfacade/api"
	"opfacade/graph"
	"opfacade/httpguard"
	"opfacade/legacy"
	"opfacade/live"
	"opfacade/loader"
	"opfacade/plan"
	"opfacade/playground"
	"opfacade/resolvers"
	"opfacade/store"
	"opfacade/tracing"
)

// Handler builds the resolvers and both front doors over b and mounts
// them, with the playground and the health endpoints. Each front door
// guards itself (panics, bodies, the deadline) and answers in its clients'
// terms; the other routes share one guard against panics.
//
// Each front door has an access log in front of its guards (see
// accesslog), so a request they refuse, or a panic they answer, is logged
// too; what the front doors log about a request carries its request_id.
// With cfg.Tracing, the request's span (see tracing.Handler) is outside
// all of it, so that the access line carries its trace_id.
func Handler(b Backend, cfg Config) http.Handler {
	h, _ := NewHandler(b, cfg)
	return h
}

// NewHandler is Handler, and the hub of its live subscriptions: Close
// ends them (the server shutting down); tests and benchmarks count them.
func NewHandler(b Backend, cfg Config) (http.Handler, *live.Hub) {
	cfg = cfg.withDefaults()
	access := cfg.Log
	log := slog.New(accesslog.WithRequestID(cfg.Log.Handler()))
	hub := live.New(b, cfg.liveConfig())
	res := &resolvers.Resolver{Store: b, DefaultIcon: cfg.DefaultIcon, Live: hub, Tracer: tracing.Tracer(cfg.Tracing, "opfacade/resolvers")}
	var root graph.ResolverRoot = res
	plans := plan.Counter(cfg.Metrics, log)
	if cfg.Compiled {
		plans = plan.New(res, cfg.Metrics, log)
		root = plan.Replay(res) // a failed plan's calls are not made again
	}
	es := graph.NewExecutableSchema(graph.Config{Resolvers: root, Complexity: resolvers.Complexity()})
	prepare := func(ctx context.Context) context.Context {
		return loader.With(store.Pin(ctx), b)
	}

	rl := newLimiters(cfg.RateLimit)
	mux := http.NewServeMux()
	doors := cfg.frontDoorMetrics()
	mux.Handle("/query", accesslog.New(access, accesslog.GraphQL, doors.Door(accesslog.GraphQL), api.New(es, b, api.Options{Introspection: cfg.Introspection, Limits: cfg.Limits, RateLimit: rl.graphQL, Prepare: prepare, CORSOrigins: cfg.CORSOrigins,
		TrustedDocuments: cfg.mustTrustedDocuments(), TrustedOnly: cfg.TrustedOnly, Live: hub.Config(), Streams: hub, Tracing: cfg.Tracing, RootFields: plans}, log)))
	lc := legacy.Config{
		Resolvers:    res,
		Store:        b,
		CheckSign:    cfg.CheckSign,
		ServicePhone: cfg.ServicePhone,
		HostName:     cfg.HostName,
		Zone:         cfg.Zone,
		Now:          cfg.Now,
		Timeout:      cfg.Limits.Timeout, // the body limit is the contract's 64 KiB, whatever -max-body says
		TokenLimit:   rl.legacyTokens,
		ClientLimit:  rl.legacyClients,
		Prepare:      prepare,
		Log:          log,
	}
	openAPI := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(legacy.OpenAPI)
	}
	// Every method reaches the legacy handler: the contract answers a
	// wrong one with its own envelope.
	receives := legacy.New(lc)
	if m := cfg.mustMigration(receives, lc); m != nil {
		// In front of the old service: it answers the v2 paths the facade
		// does not serve, and receives when told to (see migrate).
		receives = m.Receives()
		mux.Handle("/op/v2/", m.Forward())
		mux.HandleFunc("GET /op/v2/openapi.json", openAPI) // the facade's description, not passed on
	}
	mux.Handle("/op/v2/receives", accesslog.New(access, accesslog.Legacy, doors.Door(accesslog.Legacy), receives))

	other := http.NewServeMux()
	other.HandleFunc("GET /op/v2/openapi.json", openAPI)
	pg := playground.Handler(playground.Config{
		Title:          "OP facade — GraphQL playground",
		Endpoint:       "/query",
		DefaultHeaders: cfg.PlaygroundHeaders,
		DefaultQuery:   cfg.PlaygroundQuery,
	})
	other.Handle("GET /{$}", pg)
	other.Handle("GET /playground/", pg)
	if cfg.Introspection {
		other.Handle("GET /schema.graphql", schemaFile(es.Schema())) // 404 without: the schema is not to be read
	}
	other.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	other.Handle("GET /readyz", newReadiness(b, cfg.ReadyCache, cfg.Draining))
	mux.Handle("/", httpguard.Recover(log, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error", http.StatusInternalServerError)
	}, other))
	return tracing.Handler(cfg.Tracing, mux), hub
}

// liveConfig is c.Live with the facade's clock, log and request timeout.
func (c Config) liveConfig() live.Config {
	l := c.Live
	l.Now, l.Log, l.Timeout = c.Now, c.Log, c.Limits.Timeout
	return l
}
