package app

import (
	"context"
	"net/http"
	"time"

	"opfacade/api"
	"opfacade/domain"
	"opfacade/graph"
	"opfacade/httpguard"
	"opfacade/legacy"
	"opfacade/loader"
	"opfacade/playground"
	"opfacade/resolvers"
	"opfacade/store"
)

// Handler builds the resolvers and both front doors over b and mounts
// them, with the playground and the health endpoints. Each front door
// guards itself (panics, bodies, the deadline) and answers in its clients'
// terms; the other routes share one guard against panics.
func Handler(b Backend, cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	log := cfg.Log
	res := &resolvers.Resolver{Store: b, DefaultIcon: cfg.DefaultIcon}
	es := graph.NewExecutableSchema(graph.Config{Resolvers: res, Complexity: resolvers.Complexity()})
	prepare := func(ctx context.Context) context.Context {
		return loader.With(store.Pin(ctx), loader.New(b))
	}

	mux := http.NewServeMux()
	mux.Handle("/query", api.New(es, b, api.Options{Introspection: cfg.Introspection, Limits: cfg.Limits, Prepare: prepare}, log))
	// Every method reaches the legacy handler: the contract answers a
	// wrong one with its own envelope.
	mux.Handle("/op/v2/receives", legacy.New(legacy.Config{
		Resolvers:    res,
		Store:        b,
		CheckSign:    cfg.CheckSign,
		ServicePhone: cfg.ServicePhone,
		HostName:     cfg.HostName,
		Zone:         cfg.Zone,
		Now:          cfg.Now,
		Timeout:      cfg.Limits.Timeout, // the body limit is the contract's 64 KiB, whatever -max-body says
		Prepare:      prepare,
		Log:          log,
	}))

	other := http.NewServeMux()
	other.HandleFunc("GET /op/v2/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(legacy.OpenAPI)
	})
	pg := playground.Handler(playground.Config{
		Title:          "OP facade — GraphQL playground",
		Endpoint:       "/query",
		DefaultHeaders: cfg.PlaygroundHeaders,
	})
	other.Handle("GET /{$}", pg)
	other.Handle("GET /playground/", pg)
	other.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	other.HandleFunc("GET /readyz", ready(b, cfg))
	mux.Handle("/", httpguard.Recover(log, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error", http.StatusInternalServerError)
	}, other))
	return mux
}

// ready answers 200 while the database answers with the legacy tables,
// 503 otherwise. An outage is the store's to log, once; anything else
// (tables missing, say) is a configuration to mend, logged each time.
func ready(b Backend, cfg Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := b.Ready(ctx); err != nil {
			if domain.Code(err) != domain.EUNAVAILABLE {
				cfg.Log.Warn("not ready", "err", err)
			}
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}
}
