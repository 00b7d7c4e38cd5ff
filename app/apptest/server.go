package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"opfacade/api"
	"opfacade/app"
	"opfacade/live"
	"opfacade/migrate"
	"opfacade/store"
)

// Config is the server's default configuration for db, changed by opts:
// what the command builds from `-db db` and no other flag or variable (the
// command's tests hold the two equal), so that tests here run the facade
// as it is deployed.
func Config(t testing.TB, db string, opts ...func(*app.Config)) app.Config {
	t.Helper()
	zone, err := time.LoadLocation(app.PlatformZone)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	cfg := app.Config{
		DB:            db,
		Zone:          zone,
		DefaultIcon:   app.DefaultIcon,
		ServicePhone:  app.ServicePhone,
		HostName:      host,
		CheckSign:     true,
		Introspection: true,
		Compiled:      Compiled(),
		Limits:        api.DefaultLimits,
		RateLimit:     app.DefaultRateLimit,
		LegacyServe:   migrate.ServeReceives,
		Live:          live.Defaults,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// CompiledEnv switches the compiled plans off for every test server when
// it is false, as the server's own variable does: CI runs the suites
// both ways.
const CompiledEnv = "FACADE_COMPILED"

// Compiled is the configuration's Compiled: true unless CompiledEnv says
// otherwise.
func Compiled() bool {
	on, err := strconv.ParseBool(os.Getenv(CompiledEnv))
	return err != nil || on
}

// LegacyExample configures the server as for the legacy contract's
// example: the clock stopped at 2016-01-08 14:41:38 in Asia/Shanghai and
// the host DESKTOP-CG59P88, which the example's foot shows.
func LegacyExample(c *app.Config) {
	zone, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2016, 1, 8, 14, 41, 38, 0, zone)
	c.Now = func() time.Time { return at }
	c.HostName = "DESKTOP-CG59P88"
}

// NoRateLimit switches the fair share off, for tests that send far more
// requests with one token than a console would, on purpose (a load test,
// thousands of request shapes) and are about something else.
func NoRateLimit(c *app.Config) { c.RateLimit.PerSecond = app.RateLimitOff }

// RateLimit sets each token's share to perSecond and burst (legacy
// clients keep theirs), on a clock that only clock moves.
func RateLimit(perSecond float64, burst int, clock *Clock) func(*app.Config) {
	return func(c *app.Config) {
		c.RateLimit.PerSecond, c.RateLimit.Burst, c.RateLimit.Now = perSecond, burst, clock.Now
	}
}

// Clock is a clock that moves only when told: time-dependent behaviour
// tested without sleeps or timing thresholds.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at the contract example's time.
func NewClock() *Clock {
	return &Clock{t: time.Date(2016, 1, 8, 6, 41, 38, 0, time.UTC)}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Server serves the facade's real routes on a loopback port.
type Server struct {
	*httptest.Server
	// Store is the store under the handlers, to count statements or break
	// tables under a running server.
	Store *store.Store
	// Logs is everything the server logged.
	Logs *LockedBuffer
	// Live is the hub of the server's live subscriptions.
	Live *live.Hub
}

// LockedBuffer collects a log that handlers write concurrently.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Since returns what was logged after the first off bytes, and the log's
// length now: a long-lived server's log searched a piece at a time.
func (l *LockedBuffer) Since(off int) (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf.Bytes()[off:]), l.buf.Len()
}

// NewServer serves app.Handler over the database cfg names, opened as
// app.Open opens it (cfg.Store tunes the pool), on a loopback port; its
// log is captured in Logs. Both close when the test ends.
func NewServer(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	return NewServerOver(t, cfg, func(st *store.Store) app.Backend { return st })
}

// NewServerOver is NewServer with the store wrapped by wrap, to put
// faults between the handlers and the database; configure, if given,
// sets the HTTP server up (e.g. its timeouts) before it starts.
func NewServerOver(t testing.TB, cfg app.Config, wrap func(*store.Store) app.Backend, configure ...func(*http.Server)) *Server {
	t.Helper()
	return newServer(t, cfg, wrap, func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }, configure...)
}

// NewJSONLogServer is NewServer with its log captured as the command
// writes it under -log-format json -log-level debug: one JSON object a
// line (see JSONLines), debug lines included.
func NewJSONLogServer(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	return newServer(t, cfg, func(st *store.Store) app.Backend { return st }, func(w io.Writer) slog.Handler {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
	})
}

// JSONLines decodes a log of JSON lines (NewJSONLogServer's), each line
// an object; a line that is not one fails the test.
func JSONLines(t testing.TB, log string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for l := range strings.Lines(log) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a log line that is not a JSON object: %v\n%s", err, l)
		}
		lines = append(lines, m)
	}
	return lines
}

func newServer(t testing.TB, cfg app.Config, wrap func(*store.Store) app.Backend, handler func(io.Writer) slog.Handler, configure ...func(*http.Server)) *Server {
	t.Helper()
	logs := &LockedBuffer{}
	log := slog.New(handler(logs))
	cfg.Log = log
	st, err := store.Open(context.Background(), cfg.DB, cfg.StoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	h, hub := app.NewHandler(wrap(st), cfg)
	srv := httptest.NewUnstartedServer(h)
	for _, c := range configure {
		c(srv.Config)
	}
	srv.Start()
	t.Cleanup(func() {
		hub.Close() // ends the streams, which Close would wait for
		srv.Close()
		_ = st.Close()
	})
	return &Server{Server: srv, Store: st, Logs: logs, Live: hub}
}
