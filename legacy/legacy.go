// Package legacy serves the platform's v2 REST path, POST /op/v2/receives,
// for the OP consoles written against the old API. It renders the output
// of the GraphQL resolvers in the original JSON shape: it calls the
// resolvers that the GraphQL operation staff(id) { isOnline chats {…} }
// calls, in the same order and over the same request loaders, and writes
// the v2 envelope from the Go values they return; it queries nothing
// itself beyond the caller checks. CONTRACT.md of the old platform
// defines every byte it answers.
package legacy

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"opfacade/domain"
	"opfacade/httpguard"
	"opfacade/model"
	"opfacade/ratelimit"
)

// Store is what the caller checks read.
type Store interface {
	ClientByID(ctx context.Context, id string) (domain.Client, error)
	StaffByToken(ctx context.Context, token string) (domain.Staff, error)
}

// Resolvers are the GraphQL resolvers the adapter renders: Query.staff,
// then Staff.chats with the users' grades.
type Resolvers interface {
	StaffByID(ctx context.Context, id string) (*model.Staff, error)
	Chats(ctx context.Context, s *model.Staff, statuses []model.ChatStatus, withGrades bool) ([]model.Chat, error)
}

// Config is what the adapter needs.
type Config struct {
	Resolvers Resolvers
	Store     Store
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
	// Timeout bounds a request's work, database included; 5s when 0.
	Timeout time.Duration
	// TokenLimit and ClientLimit hold a bucket per token and per client;
	// nil is no limit.
	TokenLimit, ClientLimit *ratelimit.Limiter
	// Prepare gives each request what the resolvers find in its context
	// (the request's loaders, say), under the deadline; nil leaves it as
	// it is.
	Prepare func(context.Context) context.Context
	Log     *slog.Logger
}

// Handler serves POST /op/v2/receives behind its guards (see guarded).
type Handler struct {
	cfg     Config
	answers sync.Pool // of *[]byte, the envelopes' buffers (see write)
}

// DefaultMaxBody is the contract's body limit, past which a request is
// 请求过大.
const DefaultMaxBody = 64 << 10

// New returns the v2 path, guarded.
func New(cfg Config) http.Handler {
	return (&Handler{cfg: cfg.withDefaults()}).guarded()
}

// withDefaults fills in what cfg leaves at zero.
func (cfg Config) withDefaults() Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return cfg
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, e := h.serve(r)
	if e != nil {
		failSpan(r, *e)
		h.refuse(w, r, *e)
		return
	}
	h.write(w, success, data)
}

// refuse answers e. Its reason, in English, goes to the log only, at
// Debug: the client sees the contract's message alone, and a client's
// mistake is not the operator's to act on. The access log's request_id
// joins the line (see accesslog.WithRequestID).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, e apiError) {
	if e.reason != "" {
		h.cfg.Log.DebugContext(r.Context(), "legacy request refused", "code", e.Code, "reason", e.reason)
	}
	h.write(w, e, nil)
}

// serve runs the checks in the contract's order: method, body size (the
// guard's), body parse, apiVersion, signature, token, staffId. The fair
// share (limit) comes just before the signature: the checks before it
// answer as they always did, and a caller over its share never reaches
// the database.
func (h *Handler) serve(r *http.Request) (*receivesData, *apiError) {
	if r.Method != http.MethodPost {
		return nil, &errMethod
	}
	params, e := readParams(r, httpguard.Body(r))
	if e != nil {
		return nil, e
	}
	if v := params["apiVersion"]; v != "" && v != "01" {
		e := errParams.withReason("unsupported apiVersion")
		return nil, &e
	}
	ctx := r.Context()
	if e := h.limit(ctx, params["token"], params["client"]); e != nil {
		return nil, e
	}
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
	return h.receives(domain.WithCaller(ctx, caller), staffID)
}

// limit spends a request of the token's bucket, then of the client's,
// each as sent; an empty one has no bucket, as it fails its check (token,
// signature) without a statement. The token comes first so that a
// flooding console, refused by its own bucket, does not drain its app's
// share for every other console of the app. The log says which share,
// never the values: a token is a secret, a client as sent any text.
func (h *Handler) limit(ctx context.Context, token, client string) *apiError {
	if token != "" {
		if ok, _ := h.cfg.TokenLimit.Allow(token); !ok {
			h.cfg.Log.DebugContext(ctx, "legacy request over its token's share")
			return &errTokenRateLimited
		}
	}
	if client != "" {
		if ok, _ := h.cfg.ClientLimit.Allow(client); !ok {
			h.cfg.Log.DebugContext(ctx, "legacy request over its client's share")
			return &errClientRateLimited
		}
	}
	return nil
}

// checkSign checks the request's signature. Every failure is the
// contract's 签名错误, whatever its reason; the reason (which parameter
// is missing, an unknown or disabled client, a signature that does not
// match) goes to the log only, never with the values.
func (h *Handler) checkSign(ctx context.Context, params map[string]string) *apiError {
	var reason string
	switch {
	case params["client"] == "":
		reason = "missing parameter client"
	case params["sign"] == "":
		reason = "missing parameter sign"
	}
	if reason != "" {
		return signError(reason)
	}
	client, err := h.cfg.Store.ClientByID(ctx, params["client"])
	switch {
	case domain.Code(err) == domain.ENOTFOUND:
		return signError("unknown client")
	case err != nil:
		return h.fail(ctx, err)
	case !client.Enabled:
		return signError("disabled client")
	case !validSign(params, client.Secret):
		return signError("signature mismatch")
	}
	return nil
}

func signError(reason string) *apiError {
	e := errSign.withReason("signature refused: " + reason)
	return &e
}

// checkToken finds the caller by their token. A missing, unknown or
// expired one is the contract's token无效或已过期, whatever its reason;
// the reason goes to the log only.
func (h *Handler) checkToken(ctx context.Context, token string) (domain.Staff, *apiError) {
	if token == "" {
		e := errToken.withReason("token refused: missing parameter token")
		return domain.Staff{}, &e
	}
	staff, err := h.cfg.Store.StaffByToken(ctx, token)
	var de *domain.Error
	if domain.Code(err) == domain.EUNAUTHENTICATED && errors.As(err, &de) {
		reason := "token refused"
		if de.Err != nil {
			reason += ": " + de.Err.Error() // the store's: unknown token, expired token
		}
		e := errToken.withReason(reason)
		return domain.Staff{}, &e
	}
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
