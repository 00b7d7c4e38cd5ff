// Package legacy serves the platform's v2 REST path, POST /op/v2/receives,
// for the OP consoles written against the old API. It renders the output
// of the GraphQL resolvers in the original JSON shape: the adapter runs one
// fixed operation (receives.graphql) through the same executable schema,
// in-process, and queries nothing itself beyond the caller checks.
// CONTRACT.md of the old platform defines every byte it answers.
package legacy

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"opfacade/auth"
	"opfacade/domain"
	"opfacade/store"
)

// Store is what the caller checks read.
type Store interface {
	ClientByID(ctx context.Context, id string) (store.Client, error)
	StaffByToken(ctx context.Context, token string) (domain.Staff, error)
}

// Config is what the adapter needs.
type Config struct {
	Schema graphql.ExecutableSchema
	Store  Store
	// CheckSign checks request signatures; off only for development.
	CheckSign bool
	// ServicePhone and HostName fill the envelope's foot.
	ServicePhone string
	HostName     string
	// Zone is the platform's zone, for foot.operationTime.
	Zone *time.Location
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxBody bounds a request body; 64 KiB when 0.
	MaxBody int64
	Log     *slog.Logger
}

// Handler serves POST /op/v2/receives.
type Handler struct {
	cfg      Config
	receives *operation
}

// New checks the fixed operation against the schema and returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	op, err := newOperation(cfg.Schema, receivesQuery, cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("legacy: receives.graphql: %w", err)
	}
	return &Handler{cfg: cfg, receives: op}, nil
}

//go:embed receives.graphql
var receivesQuery string

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Log.ErrorContext(r.Context(), "panic in legacy handler", "panic", p, "stack", string(debug.Stack()))
			h.write(w, errInternal, nil)
		}
	}()
	data, e := h.serve(r)
	if e != nil {
		h.write(w, *e, nil)
		return
	}
	h.write(w, success, data)
}

// serve runs the checks in the contract's order: method, body size, body
// parse, apiVersion, signature, token, staffId.
func (h *Handler) serve(r *http.Request) (*receivesData, *apiError) {
	if r.Method != http.MethodPost {
		return nil, &errMethod
	}
	params, e := readParams(r, h.cfg.MaxBody)
	if e != nil {
		return nil, e
	}
	if v := params["apiVersion"]; v != "" && v != "01" {
		e := errParams.withReason("unsupported apiVersion")
		return nil, &e
	}
	ctx := r.Context()
	if h.cfg.CheckSign {
		if e := h.checkSign(ctx, params); e != nil {
			return nil, e
		}
	}
	caller, e := h.checkToken(ctx, params["token"])
	if e != nil {
		return nil, e
	}
	staffID := params["staffId"]
	if staffID == "" {
		staffID = caller.ID
	}
	return h.runReceives(auth.WithStaff(ctx, caller), staffID)
}

func (h *Handler) checkSign(ctx context.Context, params map[string]string) *apiError {
	if params["client"] == "" || params["sign"] == "" {
		return &errSign
	}
	client, err := h.cfg.Store.ClientByID(ctx, params["client"])
	switch {
	case domain.Code(err) == domain.ENOTFOUND:
		return &errSign
	case err != nil:
		return h.fail(ctx, err)
	case client.Enabled == 0 || !validSign(params, client.Secret):
		return &errSign
	}
	return nil
}

func (h *Handler) checkToken(ctx context.Context, token string) (domain.Staff, *apiError) {
	if token == "" {
		return domain.Staff{}, &errToken
	}
	staff, err := h.cfg.Store.StaffByToken(ctx, token)
	if err != nil {
		return domain.Staff{}, h.fail(ctx, err)
	}
	return staff, nil
}

// fail maps err to the error table, logging what the client does not see.
func (h *Handler) fail(ctx context.Context, err error) *apiError {
	e := fromDomain(err)
	switch {
	case e == errUnavailable:
		// The store logs an outage once, not once a request.
		h.cfg.Log.DebugContext(ctx, "legacy request failed", "code", e.Code, "err", err)
	case e.Code >= 500:
		h.cfg.Log.ErrorContext(ctx, "legacy request failed", "code", e.Code, "err", err)
	}
	return &e
}

// OpenAPI is the OpenAPI 3 description of the v2 path, served at
// /op/v2/openapi.json for the people who integrate with it.
//
//go:embed openapi.json
var OpenAPI []byte
