package main

import (
	"context"
	"log/slog"
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

// backend is what the handlers read: the store, or in tests a store with
// faults put in.
type backend interface {
	resolvers.Store
	loader.Store
	legacy.Store
	Ready(ctx context.Context) error
}

var _ backend = (*store.Store)(nil)

// routes builds the resolvers and handlers over st and mounts them.
func routes(st backend, cfg config, demo *demoInfo, log *slog.Logger) (http.Handler, error) {
	es := graph.NewExecutableSchema(graph.Config{
		Resolvers: &resolvers.Resolver{
			Store:       st,
			DefaultIcon: cfg.DefaultIcon,
		},
		Complexity: resolvers.Complexity(),
	})
	receives, err := legacy.New(legacy.Config{
		Schema:       es,
		Store:        st,
		CheckSign:    cfg.CheckSign,
		ServicePhone: cfg.ServicePhone,
		HostName:     cfg.HostName,
		Zone:         cfg.Zone,
		Now:          cfg.Now,
		Log:          log,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/query", pinned(loader.Middleware(st, api.New(es, st, api.Options{Introspection: cfg.Introspection, Limits: cfg.Limits}, log))))
	// Every method reaches the legacy handler: the contract answers a
	// wrong one with its own envelope.
	mux.Handle("/op/v2/receives", pinned(receives.Protect(cfg.Limits.Timeout, loader.Middleware(st, receives))))
	mux.HandleFunc("GET /op/v2/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(legacy.OpenAPI)
	})
	pg := playground.Handler(playground.Config{
		Title:          "OP facade — GraphQL playground",
		Endpoint:       "/query",
		DefaultHeaders: demo.headers(),
	})
	mux.Handle("GET /{$}", pg)
	mux.Handle("GET /playground/", pg)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /readyz", ready(st, log))
	// The front doors answer their own panics in their clients' terms;
	// this answers any other.
	return httpguard.Recover(log, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error", http.StatusInternalServerError)
	}, mux), nil
}

// pinned makes every statement of a request read the same database (see
// store.Pin).
func pinned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(store.Pin(r.Context())))
	})
}

// ready answers 200 while the database answers with the legacy tables,
// 503 otherwise. An outage is the store's to log, once; anything else
// (tables missing, say) is a configuration to mend, logged each time.
func ready(st backend, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ready(ctx); err != nil {
			if domain.Code(err) != domain.EUNAVAILABLE {
				log.Warn("not ready", "err", err)
			}
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}
}
