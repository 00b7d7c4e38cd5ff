// Command opfacade serves a GraphQL API, and the legacy v2 REST path, over
// the OP customer-service platform's database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // the platform zone must load on machines without a zoneinfo database

	"opfacade/app"
	"opfacade/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "opfacade:", err)
		os.Exit(1)
	}
}

// run starts the server and serves until ctx ends, then shuts down
// gracefully. It is main without the process: tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "init-db" {
		return initDB(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Log = log

	demo, err := prepareDemo(ctx, cfg)
	if err != nil {
		return err
	}
	if demo == nil {
		demo = detectDemo(ctx, cfg)
	}
	cfg.PlaygroundHeaders = demo.headers()
	a, err := app.Open(ctx, cfg.Config)
	if err != nil {
		return err
	}
	defer a.Close()
	warnUnreachable(ctx, a.Store, log)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      max(30*time.Second, cfg.Limits.Timeout+20*time.Second), // the body's read, then the work
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	printBanner(stdout, ln.Addr().(*net.TCPAddr), cfg, demo)
	return serve(ctx, srv, ln, cfg.ShutdownGrace, log)
}

// warnUnreachable logs a warning when the database does not answer at
// start. The server starts anyway: /readyz answers 503 until the database
// answers, and requests succeed from then on.
func warnUnreachable(ctx context.Context, st *store.Store, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := st.Ping(ctx); err != nil {
		log.Warn("the database does not answer; serving anyway, /readyz answers 503 until it does", "db", st.Engine(), "err", err)
	}
}

// serve runs srv until ctx ends, then stops accepting and lets in-flight
// requests finish within grace.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
