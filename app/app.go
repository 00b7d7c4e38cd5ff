// Package app builds the facade from a configuration: the store, the
// resolvers over it, both front doors (GraphQL and the legacy v2 path),
// the playground and the health endpoints, mounted on one handler. The
// server, the tests and the benchmarks all build it here, so there is one
// copy of the wiring and of its defaults.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"opfacade/api"
	"opfacade/documents"
	"opfacade/legacy"
	"opfacade/live"
	"opfacade/loader"
	"opfacade/migrate"
	"opfacade/resolvers"
	"opfacade/store"
)

// Config is everything the facade is built from. The zero values of the
// optional fields take the defaults below.
type Config struct {
	// DB names the database: a SQLite file path or file: URI, or a
	// mysql:// DSN (see store.Open).
	DB string
	// Store tunes the connection pool; its Zone, Now and Log are those
	// below.
	Store store.Options
	// Zone is the platform's time zone; UTC when nil.
	Zone *time.Location
	// DefaultIcon is the icon URL of users who have none.
	DefaultIcon string
	// ServicePhone and HostName fill the legacy envelope's foot.
	ServicePhone string
	HostName     string
	// CheckSign checks legacy request signatures; off only for development.
	CheckSign bool
	// Introspection lets clients (and the playground) read the schema.
	Introspection bool
	// Compiled answers GraphQL queries from plans compiled once per
	// operation (see plan); gqlgen's executor answers what they do not
	// cover. Off, the executor answers every operation.
	Compiled bool
	// Limits bound each request; Timeout bounds legacy ones too.
	Limits api.Limits
	// RateLimit is each caller's fair share of this replica; zero fields
	// take DefaultRateLimit's values (see RateLimit).
	RateLimit RateLimit
	// PlaygroundHeaders prefill the playground's headers editor (the demo
	// token, on demo data).
	PlaygroundHeaders string
	// PlaygroundQuery is the query the playground opens on in a browser
	// that has none saved; DefaultPlaygroundQuery when empty.
	PlaygroundQuery string
	// CORSOrigins may call the GraphQL endpoint from a browser: exact
	// origins, scheme://host[:port], as api.ParseOrigins reads them; none
	// when empty.
	CORSOrigins []string
	// TrustedDocuments is the path of a persisted query manifest
	// (documents.Manifest, Apollo's format): its operations are served by
	// id. None when empty.
	TrustedDocuments string
	// TrustedOnly runs only the operations of TrustedDocuments, which it
	// needs: any other is refused with OPERATION_NOT_TRUSTED.
	TrustedOnly bool
	// Now is the clock for token expiry and the legacy foot; time.Now
	// when nil.
	Now func() time.Time
	// Log receives what the server logs; nil discards it.
	Log *slog.Logger
	// Metrics registers the facade's Prometheus metrics (see metrics);
	// nil keeps them off.
	Metrics prometheus.Registerer
	// LegacyUpstream is the old v2 service the facade stands in front of
	// while the consoles migrate (scheme://host[:port], see
	// migrate.ParseUpstream): every request under /op/v2/ the facade does
	// not serve is passed to it. Nil: none, and those paths are 404.
	LegacyUpstream *url.URL
	// LegacyServe says who answers /op/v2/receives: migrate.ServeReceives
	// (the facade; the default when empty) or migrate.ServeUpstream (the
	// old service).
	LegacyServe string
	// LegacyShadow is the share of receives calls, 0 to 1, also sent to
	// the side that does not answer them, and compared.
	LegacyShadow float64
	// LegacyMigration tunes the pass-through and the shadow (timeouts,
	// queue); zero fields take migrate's defaults.
	LegacyMigration migrate.Tuning
	// Live tunes live subscriptions: the poller's interval, the limits,
	// the streams' timeouts; zero fields take live.Defaults'. Its Now, Log
	// and Timeout are those of this Config.
	Live live.Config
	// ReadyCache is how long a readiness answer is reused (see
	// readiness); DefaultReadyCache when 0.
	ReadyCache time.Duration
	// Draining is closed when the server starts stopping: /readyz then
	// answers 503 "draining", so load balancers stop sending, while
	// requests are still served. Nil: never.
	Draining <-chan struct{}
	// Tracing makes the spans of each request: HTTP, GraphQL operation,
	// resolvers, SQL statements, legacy work (see tracing). Nil: off,
	// and nothing is traced.
	Tracing trace.TracerProvider
}

// DefaultIcon is the old deployment's icon for users who have none.
const DefaultIcon = "http://7xkq6j.com1.z0.glb.clouddn.com/defaultUserIcon.png?attname=&imageView2/1/w/200/h/200&e=1609915298&token=1pd5YXbBmYR7QQqodYuItP927L99-O4qNLAynsmp:DE3Q5PUuDcWv89Nt_2nL_8Q0Njk="

// ServicePhone is the old deployment's service phone, shown in the
// legacy foot.
const ServicePhone = "400800400"

// DefaultPlaygroundQuery is the consoles' main query, which the
// playground opens on: the caller and their chats, with every field of
// the chats, their users and the users' grades.
var DefaultPlaygroundQuery = documents.MyChats

// PlatformZone is the platform's time zone: its DATETIMEs are wall-clock
// times in it.
const PlatformZone = "Asia/Shanghai"

// Backend is what the facade reads: the store, or in tests and
// benchmarks a store with faults put in, or rows held in memory.
type Backend interface {
	resolvers.Store
	loader.Store
	legacy.Store
	api.TokenChecker
	live.Source
	// Ready reports whether the database can serve (see store.Ready).
	Ready(ctx context.Context) error
}

var _ Backend = (*store.Store)(nil)

// App is the facade over an open store.
type App struct {
	Store   *store.Store
	Handler http.Handler
	// Live is the hub of the live subscriptions: Close ends them, as the
	// server shuts down.
	Live *live.Hub
}

// Open opens the database cfg names and builds the facade over it.
func Open(ctx context.Context, cfg Config) (*App, error) {
	cfg = cfg.withDefaults()
	if _, err := cfg.trustedDocuments(); err != nil {
		return nil, err
	}
	if err := cfg.LegacySettings().Check(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DB, cfg.StoreOptions())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	h, hub := NewHandler(st, cfg)
	return &App{Store: st, Handler: h, Live: hub}, nil
}

// Close closes the database.
func (a *App) Close() error { return a.Store.Close() }

// withDefaults fills in what c leaves at zero.
func (c Config) withDefaults() Config {
	if c.Zone == nil {
		c.Zone = time.UTC
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.DefaultIcon == "" {
		c.DefaultIcon = DefaultIcon
	}
	if c.ServicePhone == "" {
		c.ServicePhone = ServicePhone
	}
	if c.PlaygroundQuery == "" {
		c.PlaygroundQuery = DefaultPlaygroundQuery
	}
	c.Limits = c.Limits.WithDefaults()
	return c
}
