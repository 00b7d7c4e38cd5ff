// Command opfacade serves a GraphQL API, and the legacy v2 REST path, over
// the OP customer-service platform's database.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the platform zone must load on machines without a zoneinfo database

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/api"
	"opfacade/app"
	"opfacade/logbuf"
	"opfacade/metrics"
	"opfacade/store"
	"opfacade/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Environ, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err and returns the process's exit status: 2 when the
// command line or environment was refused before anything started (mend
// the invocation), 1 when starting or serving failed.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "opfacade:", line)
	}
	if errors.As(err, new(usageError)) {
		fmt.Fprintln(stderr, "opfacade: run opfacade -help for the flags and their variables")
		return 2
	}
	return 1
}

// run starts the server and serves until ctx ends, then shuts down
// gracefully. It is main without the process: tests call it directly.
// environ lists the environment's variables, getenv reads one.
func run(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "init-db" {
		return initDB(ctx, args[1:], getenv, environ, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "schema" {
		return schemaCommand(args[1:], stdout, stderr)
	}
	cfg, err := parseConfig(args, getenv, environ(), stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.Version {
		fmt.Fprintf(stdout, "opfacade %s %s\n", metrics.Version(), runtime.Version())
		return nil
	}
	if err := cfg.checkServing(); err != nil {
		return err
	}
	traces, err := tracing.FromEnv(getenv)
	if err != nil {
		return usageError{err}
	}
	lines := logbuf.New(stderr, cfg.LogFlush)
	defer lines.Close() // last: whatever else stops may still log
	log := slog.New(logHandler(lines, isTerminal(stderr), cfg.LogFormat, cfg.LogLevel))
	cfg.Log = log
	log.Info("opfacade starting", "version", metrics.Version(), "go", runtime.Version())
	reg := metrics.NewRegistry()
	cfg.Metrics = reg
	tr, err := tracing.New(ctx, traces, metrics.Version(), log)
	if err != nil {
		return err
	}
	defer tr.Close() // once the servers have stopped: their last spans are sent too
	cfg.Tracing = tr.Provider

	demo, err := prepareDemo(ctx, cfg)
	if err != nil {
		return err
	}
	if demo == nil {
		demo = detectDemo(ctx, cfg)
	}
	cfg.PlaygroundHeaders = demo.headers()
	warnRisks(log, cfg)
	draining := make(chan struct{})
	cfg.Draining = draining
	a, err := app.Open(ctx, cfg.Config)
	if err != nil {
		return err
	}
	defer a.Close()
	reg.MustRegister(metrics.NewDBPoolCollector(func() *sql.DB { return a.Store.DB().DB }))
	if err := checkDatabase(ctx, a.Store, cfg.WaitForDB, log); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	public := newHTTPServer(a.Handler, cfg.Limits.Timeout, log)
	servers := []listening{{"", public, ln}}
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("admin listener (-admin-addr): %w", err)
		}
		servers = append(servers, listening{"admin", newAdminServer(adminHandler(reg, a.Handler, log), log), aln})
	}
	lines.Flush() // what starting logged comes before the banner
	printBanner(stdout, ln.Addr().(*net.TCPAddr), cfg, demo)
	if len(servers) > 1 {
		printAdmin(stdout, servers[1].ln.Addr().(*net.TCPAddr))
	}
	return serve(ctx, servers, stopping{drain: cfg.Drain, grace: cfg.ShutdownGrace, draining: draining, live: a.Live.Shutdown}, log)
}

// logHandler writes log lines to w, in format (json or text; "" picks
// text when they end on a terminal, json otherwise: a person reads a
// terminal, a log collector the rest), from level up.
func logHandler(w io.Writer, terminal bool, format string, level slog.Level) slog.Handler {
	if format == "" {
		format = "json"
		if terminal {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// adminHandler is the admin listener's: the registry at /metrics, the
// runtime's profiles at /debug/pprof/ (on this mux, not
// http.DefaultServeMux), and the public handler's /healthz and /readyz,
// so that a probe may use either port. None of it but the health
// endpoints is on the public port.
func adminHandler(reg *prometheus.Registry, public http.Handler, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg, log))
	mux.HandleFunc("/debug/pprof/", pprof.Index) // the index, and each profile by name: heap, goroutine, …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("GET /healthz", public)
	mux.Handle("GET /readyz", public)
	return mux
}

// newAdminServer serves the admin handler h. It has no write timeout: a
// CPU profile or a trace takes as long as its ?seconds= asks.
func newAdminServer(h http.Handler, log *slog.Logger) *http.Server {
	srv := newHTTPServer(h, 0, log)
	srv.WriteTimeout = 0
	return srv
}

// printAdmin adds the admin listener's address to the banner.
func printAdmin(w io.Writer, addr *net.TCPAddr) {
	base := baseURL(addr)
	fmt.Fprintf(w, "\nAdmin listener, not for the public: %s\n", base)
	fmt.Fprintf(w, "  metrics:      %s/metrics\n", base)
	fmt.Fprintf(w, "  profiles:     %s/debug/pprof/\n", base)
	fmt.Fprintf(w, "  health:       %s/healthz, %s/readyz\n", base, base)
}

// baseURL is the http:// URL a listener on addr is reached at: on
// localhost when it listens on every address.
func baseURL(addr *net.TCPAddr) string {
	host := "localhost"
	if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// newHTTPServer serves h with the timeouts the README documents.
func newHTTPServer(h http.Handler, requestTimeout time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      max(30*time.Second, requestTimeout+20*time.Second), // the body's read, then the work
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// checkDatabase tries the database once at start. A database that
// refuses the facade (access denied, a missing grant, no legacy tables)
// stops the start: that does not mend itself, and a server answering
// errors would look like an outage. -wait-for-db (wait) serves anyway,
// for orchestrators that start the facade before setting up its
// database. A database that does not answer never stops the start: it
// may be starting too, and /readyz answers 503 until it answers.
func checkDatabase(ctx context.Context, st *store.Store, wait bool, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := st.Ready(ctx)
	switch {
	case err == nil:
		return nil
	case store.FaultOf(err).Configuration() && !wait:
		return fmt.Errorf("%s (%v)\nstart with -wait-for-db to serve anyway, /readyz answering 503, until it is mended", store.Explain(err), driverError(err))
	case store.FaultOf(err).Configuration():
		log.Error("the database refuses the facade; serving anyway (-wait-for-db), /readyz answers 503 until it is mended", "db", st.Engine(), "why", store.Explain(err))
	default:
		log.Warn("the database does not answer; serving anyway, /readyz answers 503 until it does", "db", st.Engine(), "err", err)
	}
	return nil
}

// driverError is what the database said, without the store's wrapping.
func driverError(err error) error {
	var fe *store.FaultError
	if errors.As(err, &fe) {
		return fe.Err
	}
	return err
}

// warnRisks logs, where operators look, a start that weakens the
// defaults: signatures or introspection off, request limits raised.
func warnRisks(log *slog.Logger, c config) {
	if !c.CheckSign {
		log.Warn("legacy request signatures are not checked (-legacy-sign=false): any caller with a token is served; for development only")
	}
	if !c.Introspection {
		log.Warn("GraphQL introspection is off (-introspection=false): the playground cannot read the schema, and validation errors suggest no field names")
	}
	for _, r := range raisedLimits(c.Limits) {
		log.Warn("a request limit is raised above its default: each request may cost the database and the replica more", "flag", "-"+r.flag, "value", r.value, "default", r.def)
	}
	if c.LegacyUpstream != nil {
		log.Info("standing in front of the old v2 service: what the facade does not serve passes through", "upstream", c.LegacyUpstream.String(), "receives_served_by", c.LegacyServe, "shadow", c.LegacyShadow)
	}
}

// raised is a request limit set above its default.
type raised struct{ flag, value, def string }

// raisedLimits lists the limits of l above api.DefaultLimits.
func raisedLimits(l api.Limits) []raised {
	d := api.DefaultLimits
	var r []raised
	add := func(flag string, v, def int64) {
		if v > def {
			r = append(r, raised{flag, strconv.FormatInt(v, 10), strconv.FormatInt(def, 10)})
		}
	}
	add("max-complexity", int64(l.MaxComplexity), int64(d.MaxComplexity))
	add("max-depth", int64(l.MaxDepth), int64(d.MaxDepth))
	add("max-fields", int64(l.MaxFields), int64(d.MaxFields))
	add("max-tokens", int64(l.MaxTokens), int64(d.MaxTokens))
	add("max-body", l.MaxBody, d.MaxBody)
	if l.Timeout > d.Timeout {
		r = append(r, raised{"request-timeout", l.Timeout.String(), d.Timeout.String()})
	}
	return r
}

// listening is a server and the listener it serves; name is "" for the
// public one.
type listening struct {
	name string
	srv  *http.Server
	ln   net.Listener
}

// stopping is how the server stops once told to: draining is closed
// (/readyz answers 503) and the servers go on serving for drain, so that
// load balancers see it and stop sending; then the listeners close,
// in-flight requests get grace to finish, and live ends the live
// streams, closing the WebSockets the servers no longer see, within the
// same grace.
type stopping struct {
	drain, grace time.Duration
	draining     chan<- struct{}
	live         func(context.Context) error
}

// serve runs each server until ctx ends, drains (see stopping), then
// stops accepting on all of them and lets in-flight requests finish
// within the grace. When one fails to serve, the others are shut down
// the same way, without draining, and its error returned.
func serve(ctx context.Context, servers []listening, stop stopping, log *slog.Logger) error {
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			if err := s.srv.Serve(s.ln); s.name != "" {
				errc <- fmt.Errorf("%s listener: %w", s.name, err)
			} else {
				errc <- err
			}
		}()
	}
	var failed error
	select {
	case failed = <-errc:
	case <-ctx.Done():
		failed = drain(stop, errc, log)
	}
	log.Info("shutting down: the listeners are closed, requests in flight may finish", "grace", stop.grace.String())
	err := errors.Join(failed, shutdown(servers, stop))
	log.Info("shut down")
	return err
}

// drain marks the server draining and serves on for stop.drain, or
// until a second SIGTERM or SIGINT, or a server fails (its error is
// returned). Connections stay as they are meanwhile: closing the idle
// ones now would race a load balancer that is sending on one, before it
// has seen /readyz; the shutdown closes them, once it has.
func drain(stop stopping, errc <-chan error, log *slog.Logger) error {
	close(stop.draining)
	if stop.drain <= 0 {
		return nil
	}
	again, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	log.Info("draining: /readyz answers 503 so load balancers stop sending; requests are served meanwhile; stop again to cut it short", "drain", stop.drain.String())
	timer := time.NewTimer(stop.drain)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-again.Done():
		log.Info("drain cut short: stopped again")
		return nil
	case err := <-errc:
		return err
	}
}

// shutdown closes the servers' listeners and idle connections, and
// waits within the grace for their requests in flight, and for the live
// streams to end; past it, it closes what remains.
func shutdown(servers []listening, stop stopping) error {
	sctx, cancel := context.WithTimeout(context.Background(), stop.grace)
	defer cancel()
	errs := make([]error, len(servers)+1)
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			if err := s.srv.Shutdown(sctx); err != nil {
				_ = s.srv.Close()
				errs[i] = fmt.Errorf("shutdown%s: %w", strings.TrimSuffix(" "+s.name, " "), err)
			}
		})
	}
	if stop.live != nil {
		wg.Go(func() { errs[len(servers)] = stop.live(sctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
