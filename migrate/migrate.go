// Package migrate stands the facade in front of the old v2 service while
// the legacy consoles move over to it, and shows that the facade answers
// as the old service did.
//
// The consoles call many v2 endpoints on one host; the facade serves
// receives. With an upstream configured (the old service's URL), every
// other request under /op/v2/ is passed to it unchanged (Forward), and
// receives is answered by the facade or by the old service, as Serve
// says (Receives), so a team can start in pure pass-through and switch
// one endpoint at a time. A share of receives calls (Shadow) is also sent
// to the other side, off the request's path, and the two answers are
// compared as the contract defines them (CompareJSON); the results are
// counted in opfacade_legacy_shadow_total and each mismatch is logged
// once with the JSON paths that differ.
package migrate

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/httpguard"
	"opfacade/legacy"
)

// Who answers receives (Settings.Serve).
const (
	// ServeReceives: the facade answers, the old service is the shadow.
	ServeReceives = "receives"
	// ServeUpstream: the old service answers, the facade is the shadow.
	ServeUpstream = "upstream"
)

// Settings are the operator's choices.
type Settings struct {
	// Upstream is the old v2 service, scheme://host[:port] (see
	// ParseUpstream); nil: none, and the v2 path is the facade's alone.
	Upstream *url.URL
	// Serve says who answers receives: ServeReceives (the default when
	// empty) or ServeUpstream, which needs Upstream.
	Serve string
	// Shadow is the share of receives calls, 0 to 1, also sent to the
	// side that does not answer them, to compare; more than 0 needs
	// Upstream.
	Shadow float64
}

// ParseUpstream reads the old service's URL: http or https, a host, an
// optional port, and nothing else, so that every request keeps its path
// and query as sent.
func ParseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return nil, errors.New("want the old service's http:// or https:// URL, such as http://old-op.internal:8080")
	case u.User != nil:
		return nil, errors.New("want a URL without user or password")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("want scheme://host[:port] alone: requests keep their own path and query")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// ParseShadow reads a shadow share, 0 to 1.
func ParseShadow(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !validShare(f) {
		return 0, errors.New("want a share from 0 to 1, such as 0.01")
	}
	return f, nil
}

func validShare(f float64) bool { return f >= 0 && f <= 1 && !math.IsNaN(f) }

// Check refuses settings that cannot work together.
func (s Settings) Check() error {
	if s.Upstream != nil {
		if _, err := ParseUpstream(s.Upstream.String()); err != nil {
			return fmt.Errorf("legacy upstream %q: %w", s.Upstream.Redacted(), err)
		}
	}
	switch {
	case s.Serve != "" && s.Serve != ServeReceives && s.Serve != ServeUpstream:
		return fmt.Errorf("legacy serve %q: want %s (the facade answers receives) or %s (the old service does)", s.Serve, ServeReceives, ServeUpstream)
	case !validShare(s.Shadow):
		return fmt.Errorf("legacy shadow %v: want a share from 0 to 1, such as 0.01", s.Shadow)
	case s.Upstream == nil && s.Serve == ServeUpstream:
		return errors.New("receives served by the old service (-legacy-serve upstream), and no old service is given: name it with -legacy-upstream")
	case s.Upstream == nil && s.Shadow > 0:
		return errors.New("receives shadowed (-legacy-shadow), and no old service to compare with is given: name it with -legacy-upstream")
	}
	return nil
}

// Tuning holds what the operator does not choose: zero fields take the
// defaults below, which the README documents.
type Tuning struct {
	// DialTimeout bounds connecting to the old service, TLS handshake
	// included: 5s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the old service's answer
	// to start once the request is sent: 15s, which leaves the answer
	// time to stream within the server's 30s write timeout.
	ResponseHeaderTimeout time.Duration
	// ShadowQueue is how many comparisons may wait for a worker: 64. A
	// sampled call that finds the queue full is not compared (skipped).
	ShadowQueue int
	// ShadowWorkers is how many comparisons run at once: 2.
	ShadowWorkers int
	// ShadowTimeout bounds a comparison's request to the other side,
	// its answer read whole: 30s.
	ShadowTimeout time.Duration
	// MaxAnswer is the longest answer compared: 1 MiB (an OP with some
	// 1,500 chats in service). A longer one is not compared.
	MaxAnswer int
}

func (t Tuning) withDefaults() Tuning {
	if t.DialTimeout <= 0 {
		t.DialTimeout = 5 * time.Second
	}
	if t.ResponseHeaderTimeout <= 0 {
		t.ResponseHeaderTimeout = 15 * time.Second
	}
	if t.ShadowQueue <= 0 {
		t.ShadowQueue = 64
	}
	if t.ShadowWorkers <= 0 {
		t.ShadowWorkers = 2
	}
	if t.ShadowTimeout <= 0 {
		t.ShadowTimeout = 30 * time.Second
	}
	if t.MaxAnswer <= 0 {
		t.MaxAnswer = 1 << 20
	}
	return t
}

// Config is what a Migration is built from.
type Config struct {
	Settings
	Tuning Tuning
	// Receives is the facade's own receives handler (legacy.New).
	Receives http.Handler
	// Answers are the v2 envelopes for requests the proxy refuses (too
	// large) or cannot pass on (the old service down or slow).
	Answers legacy.Answers
	// MaxBody bounds request bodies, checked before anything is passed
	// on: legacy.DefaultMaxBody when 0.
	MaxBody int64
	// Metrics registers the shadow's counters; nil keeps them in a
	// registry of their own.
	Metrics prometheus.Registerer
	Log     *slog.Logger
}

// Migration is the facade standing in front of the old service.
type Migration struct {
	cfg     Config                 // Tuning with its defaults filled in
	proxy   *httputil.ReverseProxy // the callers' requests
	failing *failures
	shadow  *shadow // nil when nothing is shadowed
}

// New builds the migration cfg configures; nil, and no error, when it
// names no upstream: the v2 path is then the facade's alone.
func New(cfg Config) (*Migration, error) {
	if err := cfg.Settings.Check(); err != nil {
		return nil, err
	}
	if cfg.Upstream == nil {
		return nil, nil
	}
	if cfg.Serve == "" {
		cfg.Serve = ServeReceives
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = legacy.DefaultMaxBody
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	cfg.Tuning = cfg.Tuning.withDefaults()
	m := &Migration{cfg: cfg}
	met := newMetrics(cfg.Metrics, cfg.Log)
	m.failing = &failures{log: cfg.Log, counter: met.upstreamFailures}
	transport := newTransport(m.cfg.Tuning)
	m.proxy = m.newProxy(transport, -1, m.proxyFailed)
	if cfg.Shadow > 0 {
		m.shadow = m.newShadow(transport, met.shadow)
	}
	return m, nil
}

// Forward is every request under /op/v2/ that the facade does not serve:
// passed to the old service (see forward).
func (m *Migration) Forward() http.Handler {
	return httpguard.Recover(m.cfg.Log, m.cfg.Answers.Internal, http.HandlerFunc(m.forward))
}

// Receives is /op/v2/receives: answered by the facade or by the old
// service, as Serve says, a share of it shadowed to the other side.
func (m *Migration) Receives() http.Handler {
	switch {
	case m.shadow == nil && m.cfg.Serve == ServeReceives:
		return m.cfg.Receives
	case m.shadow == nil:
		return m.Forward()
	}
	return httpguard.Recover(m.cfg.Log, m.cfg.Answers.Internal, http.HandlerFunc(m.shadowed))
}
