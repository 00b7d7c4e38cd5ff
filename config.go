package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"opfacade/api"
	"opfacade/app"
)

// config is everything the server can be told at start: the facade's
// configuration, and how this process serves it. Every flag has an
// environment-variable twin; a flag given on the command line wins.
type config struct {
	app.Config
	Addr          string
	Demo          bool
	ShutdownGrace time.Duration
}

func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("opfacade", flag.ContinueOnError)
	fs.SetOutput(usage)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	host, _ := os.Hostname()
	var zone string
	var d envDefaults
	fs.StringVar(&c.Addr, "addr", env("FACADE_ADDR", ":8080"), "listen `address` (env FACADE_ADDR)")
	fs.StringVar(&c.DB, "db", env("FACADE_DB", "opfacade.db"), "the database: a SQLite file `path` or file: URI, or mysql://user:pass@tcp(host:3306)/db (env FACADE_DB)")
	fs.StringVar(&zone, "tz", env("FACADE_TZ", app.PlatformZone), "the platform's time `zone`: stored DATETIMEs are wall-clock times in it (env FACADE_TZ)")
	fs.StringVar(&c.DefaultIcon, "default-icon", env("FACADE_DEFAULT_ICON", app.DefaultIcon), "icon `URL` of users who have none (env FACADE_DEFAULT_ICON)")
	fs.StringVar(&c.ServicePhone, "service-phone", env("FACADE_SERVICE_PHONE", app.ServicePhone), "service `phone` shown in the legacy footer (env FACADE_SERVICE_PHONE)")
	fs.StringVar(&c.HostName, "host-name", env("FACADE_HOST_NAME", host), "host `name` shown in the legacy footer (env FACADE_HOST_NAME)")
	d.boolVar(fs, &c.Demo, "demo", env("FACADE_DEMO", "true"), "create a SQLite file with demo data when -db names one that does not exist (env FACADE_DEMO)")
	d.boolVar(fs, &c.CheckSign, "legacy-sign", env("FACADE_LEGACY_SIGN", "true"), "check the signature of legacy v2 requests; switch off only for development (env FACADE_LEGACY_SIGN)")
	d.boolVar(fs, &c.Introspection, "introspection", env("FACADE_INTROSPECTION", "true"), "let clients read the GraphQL schema (env FACADE_INTROSPECTION)")
	d.intVar(fs, &c.Store.MaxOpenConns, "db-max-open", env("FACADE_DB_MAX_OPEN", "0"), "most open database connections; 0 picks a default for the engine (env FACADE_DB_MAX_OPEN)")
	d.intVar(fs, &c.Store.MaxIdleConns, "db-max-idle", env("FACADE_DB_MAX_IDLE", "0"), "most idle database connections; 0 keeps as many as may be open (env FACADE_DB_MAX_IDLE)")
	d.durationVar(fs, &c.Store.ConnMaxLifetime, "db-conn-lifetime", env("FACADE_DB_CONN_LIFETIME", "0"), "recycle database connections after this `duration`; 0 picks a default for the engine (env FACADE_DB_CONN_LIFETIME)")
	lim := api.DefaultLimits
	d.durationVar(fs, &c.Limits.Timeout, "request-timeout", env("FACADE_REQUEST_TIMEOUT", lim.Timeout.String()), "answer SERVICE_UNAVAILABLE (legacy: 服务繁忙) when a request's work, database included, takes longer than this `duration` (env FACADE_REQUEST_TIMEOUT)")
	d.intVar(fs, &c.Limits.MaxComplexity, "max-complexity", env("FACADE_MAX_COMPLEXITY", strconv.Itoa(lim.MaxComplexity)), "refuse GraphQL operations that cost more (a chat list costs 50 times its selection) (env FACADE_MAX_COMPLEXITY)")
	d.intVar(fs, &c.Limits.MaxDepth, "max-depth", env("FACADE_MAX_DEPTH", strconv.Itoa(lim.MaxDepth)), "refuse GraphQL operations that nest deeper (env FACADE_MAX_DEPTH)")
	d.intVar(fs, &c.Limits.MaxFields, "max-fields", env("FACADE_MAX_FIELDS", strconv.Itoa(lim.MaxFields)), "refuse GraphQL operations that select more fields, fragments expanded (env FACADE_MAX_FIELDS)")
	d.intVar(fs, &c.Limits.MaxTokens, "max-tokens", env("FACADE_MAX_TOKENS", strconv.Itoa(lim.MaxTokens)), "refuse GraphQL documents of more lexical tokens (env FACADE_MAX_TOKENS)")
	d.int64Var(fs, &c.Limits.MaxBody, "max-body", env("FACADE_MAX_BODY", strconv.FormatInt(lim.MaxBody, 10)), "refuse GraphQL request bodies of more `bytes` (env FACADE_MAX_BODY)")
	d.durationVar(fs, &c.ShutdownGrace, "shutdown-grace", env("FACADE_SHUTDOWN_GRACE", "15s"), "how long in-flight requests may finish after SIGTERM (env FACADE_SHUTDOWN_GRACE)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "opfacade: a GraphQL API, and the legacy v2 REST path, over the OP platform's database.\n\nUsage: opfacade [flags]\n       opfacade init-db -db <database> [-data demo|fixture|none]   (see opfacade init-db -help)\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := errors.Join(d.errs...); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if l := c.Limits; l.Timeout <= 0 || l.MaxComplexity <= 0 || l.MaxDepth <= 0 || l.MaxFields <= 0 || l.MaxTokens <= 0 || l.MaxBody <= 0 {
		return c, errors.New("-request-timeout, -max-complexity, -max-depth, -max-fields, -max-tokens and -max-body must be positive")
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return c, fmt.Errorf("-tz: %w", err)
	}
	c.Zone = loc
	return c, nil
}

// envDefaults turns environment values into typed flag defaults and
// remembers which ones are malformed, so the server refuses to start on
// them instead of silently using zero.
type envDefaults struct{ errs []error }

func (e *envDefaults) boolVar(fs *flag.FlagSet, p *bool, name, def, usage string) {
	v, err := strconv.ParseBool(def)
	e.note(name, def, err)
	fs.BoolVar(p, name, v, usage)
}

func (e *envDefaults) intVar(fs *flag.FlagSet, p *int, name, def, usage string) {
	v, err := strconv.Atoi(def)
	e.note(name, def, err)
	fs.IntVar(p, name, v, usage)
}

func (e *envDefaults) int64Var(fs *flag.FlagSet, p *int64, name, def, usage string) {
	v, err := strconv.ParseInt(def, 10, 64)
	e.note(name, def, err)
	fs.Int64Var(p, name, v, usage)
}

func (e *envDefaults) durationVar(fs *flag.FlagSet, p *time.Duration, name, def, usage string) {
	v, err := time.ParseDuration(def)
	e.note(name, def, err)
	fs.DurationVar(p, name, v, usage)
}

func (e *envDefaults) note(name, value string, err error) {
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("-%s: malformed value %q from the environment", name, value))
	}
}
