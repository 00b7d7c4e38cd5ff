package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"opfacade/api"
	"opfacade/app"
	"opfacade/live"
	"opfacade/logbuf"
	"opfacade/migrate"
	"opfacade/store"
)

// config is everything the server can be told at start: the facade's
// configuration, and how this process serves it. Every flag has an
// environment-variable twin (see envName); a flag given on the command
// line wins.
type config struct {
	app.Config
	Addr string
	// Demo creates a SQLite file with demo data when DB names one that
	// does not exist: asked for with -demo, and implied when no database
	// is configured at all (the README's first command).
	Demo bool
	// WaitForDB starts the server even when the database refuses it
	// (access denied, tables missing), for orchestrators that start the
	// facade before its database is set up.
	WaitForDB     bool
	ShutdownGrace time.Duration
	// Drain is how long the server keeps serving after SIGTERM with
	// /readyz answering 503, so load balancers stop sending before the
	// listeners close; 0 closes them at once.
	Drain time.Duration
	// AdminAddr is where the admin listener serves /metrics, /debug/pprof/,
	// /healthz and /readyz; none when empty.
	AdminAddr string
	// Version prints the version and exits, serving nothing.
	Version bool
	// LogFormat is how log lines are written: json or text; "" picks
	// text when stderr is a terminal, json otherwise (see logHandler).
	LogFormat string
	// LogLevel is the least level logged.
	LogLevel slog.Level
	// LogFlush is the longest a log line waits to be written with
	// others (see logbuf); 0 writes each line at once.
	LogFlush time.Duration
}

// usageError is a command line or environment refused before anything
// starts: main exits 2 on it, and 1 on any other error.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// envPrefix starts the name of every variable the command reads.
const envPrefix = "FACADE_"

// envName is the environment twin of a flag: -db-max-open is read from
// FACADE_DB_MAX_OPEN.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// commandLineOnly are the flags without an environment twin: actions, as
// -help is, not configuration, so that no variable left in an
// environment turns a server into a command that prints and exits.
var commandLineOnly = []string{"version"}

// hasEnvTwin reports whether the flag is read from the environment too.
func hasEnvTwin(flagName string) bool { return !slices.Contains(commandLineOnly, flagName) }

// parseConfig reads the configuration from the environment, then the
// command line, checking every value: a mistake is a usageError naming
// the flag or variable, the value and what would be accepted. environ
// lists the variables set, so that a mistyped name is refused rather
// than ignored. It returns flag.ErrHelp, having written the help to
// usage, for -help.
func parseConfig(args []string, getenv func(string) string, environ []string, usage io.Writer) (config, error) {
	c := config{}
	c.HostName, _ = os.Hostname()
	var zone string
	fs := serverFlags(&c, &zone)
	if err := checkEnviron(environ, knownVariables(fs)); err != nil {
		return c, usageError{err}
	}
	if err := setFromEnv(fs, getenv); err != nil {
		return c, usageError{err}
	}
	if err := parseArgs(fs, args, usage); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["demo"] {
		c.Demo = !set["db"] // no database configured: serve the demo one
	}
	if err := c.check(set); err != nil {
		return c, usageError{err}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return c, usageError{err} // -tz checked it already
	}
	c.Zone = loc
	return c, nil
}

// check refuses combinations of values that each are fine alone.
func (c config) check(set map[string]bool) error {
	if _, sqlite := store.SQLiteFile(c.DB); !sqlite && set["demo"] && c.Demo {
		return errors.New("-demo creates a SQLite file, and -db names a MySQL database: create the legacy tables there with opfacade init-db, or leave -demo out")
	}
	if c.AdminAddr != "" && sameAddr(c.Addr, c.AdminAddr) {
		return fmt.Errorf("-admin-addr %s is the address -addr serves the API on (%s): the admin listener needs a port of its own, such as 127.0.0.1:9090", c.AdminAddr, c.Addr)
	}
	return nil
}

// sameAddr reports whether listening on a and on b would take the same
// port: the same port number, not 0, on the same host or on all of them
// (an empty or unspecified host). Both are checked host:port values.
func sameAddr(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return false
	}
	na, errA := net.LookupPort("tcp", pa)
	nb, errB := net.LookupPort("tcp", pb)
	if errA != nil || errB != nil || na == 0 || na != nb {
		return false
	}
	anyHost := func(h string) bool { ip := net.ParseIP(h); return h == "" || ip != nil && ip.IsUnspecified() }
	return ha == hb || anyHost(ha) || anyHost(hb)
}

// checkServing refuses combinations that only serving needs to check:
// parsing takes each variable alone.
func (c config) checkServing() error {
	if c.TrustedOnly && c.TrustedDocuments == "" {
		return usageError{errors.New("-trusted-only runs only the operations of -trusted-documents, and none is given: name a manifest, e.g. -trusted-documents documents/manifest.json")}
	}
	if err := c.LegacySettings().Check(); err != nil {
		return usageError{err}
	}
	return nil
}

// checkLogFormat accepts the log's formats.
func checkLogFormat(v string) error {
	if v != "json" && v != "text" {
		return errors.New("want json or text")
	}
	return nil
}

// levelValue is a log level, by its lowercase name.
type levelValue struct{ p *slog.Level }

// levels are the levels -log-level accepts.
var levels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func (v levelValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.ToLower(v.p.String())
}

func (v levelValue) Set(s string) error {
	l, ok := levels[strings.ToLower(s)]
	if !ok {
		return errors.New("want debug, info, warn or error")
	}
	*v.p = l
	return nil
}

// checkServe accepts who may answer receives.
func checkServe(v string) error {
	if v != migrate.ServeReceives && v != migrate.ServeUpstream {
		return fmt.Errorf("want %s (the facade answers receives) or %s (the old service does)", migrate.ServeReceives, migrate.ServeUpstream)
	}
	return nil
}

// upstreamValue is the old v2 service's URL, read by migrate.ParseUpstream.
type upstreamValue struct{ p **url.URL }

func (v upstreamValue) String() string {
	if v.p == nil || *v.p == nil {
		return ""
	}
	return (*v.p).String()
}

func (v upstreamValue) Set(s string) error {
	u, err := migrate.ParseUpstream(s)
	if err != nil {
		return err
	}
	*v.p = u
	return nil
}

// shareValue is a share from 0 to 1, read by migrate.ParseShadow.
type shareValue struct{ p *float64 }

func (v shareValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

func (v shareValue) Set(s string) error {
	f, err := migrate.ParseShadow(s)
	if err != nil {
		return err
	}
	*v.p = f
	return nil
}

// serverFlags defines the command's flags over c, setting their
// defaults; -tz sets zone. c.HostName keeps the default it has.
func serverFlags(c *config, zone *string) *flag.FlagSet {
	fs := flag.NewFlagSet("opfacade", flag.ContinueOnError)
	lim := api.DefaultLimits
	*zone = app.PlatformZone
	c.Addr, c.DB, c.DefaultIcon, c.ServicePhone = ":8080", "opfacade.db", app.DefaultIcon, app.ServicePhone
	c.CheckSign, c.Introspection, c.Compiled, c.Limits, c.ShutdownGrace = true, true, true, lim, 15*time.Second
	c.LegacyServe, c.Drain, c.LogFlush = migrate.ServeReceives, 5*time.Second, logbuf.DefaultInterval
	c.RateLimit = app.DefaultRateLimit
	c.Live = live.Defaults
	def := func(v flag.Value, name, usage string) { fs.Var(v, name, usage+" (env "+envName(name)+")") }
	def(text(&c.Addr, checkAddr), "addr", "listen `address`, host:port")
	def(text(&c.AdminAddr, checkAdminAddr), "admin-addr", "listen `address`, host:port, of the admin listener: /metrics (Prometheus), /debug/pprof/, /healthz and /readyz; keep it private, such as 127.0.0.1:9090; none by default")
	def(text(&c.DB, checkDB), "db", "the `database`: a SQLite file path or file: URI, or "+store.MySQLForms)
	def(text(zone, checkZone), "tz", "the platform's time `zone`: stored DATETIMEs are wall-clock times in it")
	def(text(&c.DefaultIcon, checkURL), "default-icon", "icon `URL` of users who have none")
	def(text(&c.ServicePhone, checkPrintable), "service-phone", "service `phone` shown in the legacy footer")
	def(text(&c.HostName, checkPrintable), "host-name", "host `name` shown in the legacy footer")
	def(boolValue{&c.Demo}, "demo", "create a SQLite file with demo data when -db names one that does not exist (default: only when no database is configured)")
	def(boolValue{&c.WaitForDB}, "wait-for-db", "start even when the database refuses the facade (access denied, tables missing) and wait until it is mended; /readyz answers 503 meanwhile")
	def(boolValue{&c.CheckSign}, "legacy-sign", "check the signature of legacy v2 requests; switch off only for development")
	def(boolValue{&c.Introspection}, "introspection", "let clients read the GraphQL schema")
	def(boolValue{&c.Compiled}, "compiled", "answer GraphQL queries from plans compiled once per operation, at the cost of hand-written code (gqlgen's executor answers what they do not cover, and any field whose plan fails); false: gqlgen's executor answers every operation")
	def(number(&c.Store.MaxOpenConns, 0), "db-max-open", "most open database `connections`; 0 picks a default for the engine")
	def(number(&c.Store.MaxIdleConns, 0), "db-max-idle", "most idle database `connections`; 0 keeps as many as may be open")
	def(duration(&c.Store.ConnMaxLifetime, false), "db-conn-lifetime", "recycle database connections after this `duration`; 0 picks a default for the engine")
	def(duration(&c.ShutdownGrace, false), "shutdown-grace", "how long (a `duration`) in-flight requests may finish after SIGTERM")
	def(duration(&c.Drain, false), "drain", "after SIGTERM, serve this long (a `duration`) with /readyz answering 503 draining, so load balancers stop sending, before closing the listeners; 0 closes them at once; a second SIGTERM or SIGINT cuts it short")
	def(duration(&c.Limits.Timeout, true), "request-timeout", "answer SERVICE_UNAVAILABLE (legacy: 服务繁忙) when a request's work, database included, takes longer than this `duration`")
	def(number(&c.Limits.MaxComplexity, 1), "max-complexity", "refuse GraphQL operations that cost more than this `cost` (a chat list costs 50 times its selection)")
	def(number(&c.Limits.MaxDepth, 1), "max-depth", "refuse GraphQL operations that nest deeper than this many `levels`")
	def(number(&c.Limits.MaxFields, 1), "max-fields", "refuse GraphQL operations that select more `fields`, fragments expanded")
	def(number(&c.Limits.MaxTokens, 1), "max-tokens", "refuse GraphQL documents of more lexical `tokens`")
	def(number(&c.Limits.MaxBody, 1), "max-body", "refuse GraphQL request bodies of more `bytes`")
	def(rate(&c.RateLimit.PerSecond), "rate-limit", "each bearer token's fair share of a replica, in `requests` a second sustained, or off to switch every rate limit off (over it: GraphQL 429 RATE_LIMITED, legacy 服务繁忙)")
	def(number(&c.RateLimit.Burst, 1), "rate-burst", "how many `requests` a token may send at once")
	def(rate(&c.RateLimit.ClientPerSecond), "rate-client-limit", "each legacy API client's fair share (an app: all its consoles together), in `requests` a second sustained, or off")
	def(number(&c.RateLimit.ClientBurst, 1), "rate-client-burst", "how many `requests` a legacy client may send at once")
	def(originsValue{&c.CORSOrigins}, "cors-origins", "comma-separated `origins`, scheme://host[:port] such as http://localhost:3000, whose web apps may call the GraphQL endpoint from a browser (CORS); none by default")
	def(text(&c.TrustedDocuments, checkFile), "trusted-documents", "a persisted query manifest `file` (Apollo's apollo-persisted-query-manifest JSON, e.g. documents/manifest.json): its operations run by id (extensions.persistedQuery.sha256Hash or documentId)")
	def(boolValue{&c.TrustedOnly}, "trusted-only", "run only the operations of -trusted-documents: any other, introspection included, is refused with OPERATION_NOT_TRUSTED (HTTP 400)")
	def(upstreamValue{&c.LegacyUpstream}, "legacy-upstream", "the old v2 service's `URL`, http[s]://host[:port]: requests under /op/v2/ the facade does not serve pass through to it; none by default")
	def(text(&c.LegacyServe, checkServe), "legacy-serve", "who answers /op/v2/receives: receives (the facade) or upstream (the old service, -legacy-upstream)")
	def(text(&c.LogFormat, checkLogFormat), "log-format", "how log lines are written, the `format`: json or text (default: text when stderr is a terminal, json otherwise)")
	def(duration(&c.LogFlush, false), "log-flush", "the longest (a `duration`) a log line waits to be written together with others, as a buffered access log does: a write per line costs each request a system call; 0 writes each line at once")
	def(levelValue{&c.LogLevel}, "log-level", "the least `level` logged: debug, info, warn or error")
	def(duration(&c.Live.Interval, true), "live-interval", "how often (a `duration`) each replica looks for changes its live subscriptions show: one statement per tick for all subscribed OPs")
	def(number(&c.Live.MaxPerToken, 1), "live-max-per-token", "most live `subscriptions` of one bearer token on a replica (over it: TOO_MANY_SUBSCRIPTIONS_FOR_TOKEN)")
	def(number(&c.Live.MaxPerConnection, 1), "live-max-per-connection", "most live `subscriptions` on one WebSocket (over it: TOO_MANY_SUBSCRIPTIONS_ON_CONNECTION)")
	def(number(&c.Live.MaxPerReplica, 1), "live-max", "most live `subscriptions` on a replica (over it: TOO_MANY_SUBSCRIPTIONS_ON_REPLICA)")
	def(duration(&c.Live.IdleTimeout, true), "live-idle-timeout", "close a WebSocket without subscriptions, or without connection_init, after this `duration`")
	def(duration(&c.Live.KeepAlive, true), "live-keepalive", "ping each WebSocket (closed when two pings go unanswered) and comment on each event stream this often, a `duration`")
	def(duration(&c.Live.SendTimeout, true), "live-send-timeout", "drop a subscriber whose connection has not taken an update within this `duration`")
	def(shareValue{&c.LegacyShadow}, "legacy-shadow", "the `share` of receives calls, 0 to 1, also sent to the side that does not answer them and compared (opfacade_legacy_shadow_total); needs -legacy-upstream")
	fs.Var(boolValue{&c.Version}, "version", "print the version and exit (command line only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "opfacade: a GraphQL API, and the legacy v2 REST path, over the OP platform's database.\n\nUsage: opfacade [flags]\n       opfacade init-db -db <database> [-data demo|fixture|none]   (see opfacade init-db -help)\n       opfacade schema > schema.graphql   (print the GraphQL schema)\n       opfacade -version   (print the version)\n\n")
		fs.PrintDefaults()
	}
	return fs
}

// knownVariables are the environment twins of fs's flags.
func knownVariables(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if hasEnvTwin(f.Name) {
			names = append(names, envName(f.Name))
		}
	})
	return names
}

// setFromEnv sets each flag whose variable is set and not empty.
func setFromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := getenv(name)
		if v == "" || !hasEnvTwin(f.Name) {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q (-%s): %w", name, shown(f.Name, v), f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// parseArgs parses the command line into fs. The flag package's own
// report is silenced so that each error is told once, by main; -help
// writes the help to usage.
func parseArgs(fs *flag.FlagSet, args []string, usage io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(usage)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return usageError{undefinedFlag(fs, err)}
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	return nil
}

// undefinedFlag adds the nearest flag's name to the flag package's
// "flag provided but not defined", and hides a -db password the flag
// package would quote.
func undefinedFlag(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if near := nearest(name, names); near != "" {
			return fmt.Errorf("%s (did you mean -%s?)", msg, near)
		}
		return err
	}
	return errors.New(redactQuoted(msg))
}

// checkEnviron refuses FACADE_ variables no flag reads (a mistyped name
// would otherwise be ignored), suggesting the nearest known one. The
// prefix is compared without case: facade_db is as much a mistake.
func checkEnviron(environ, known []string) error {
	var errs []error
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(strings.ToUpper(name), envPrefix) || slices.Contains(known, name) {
			continue
		}
		hint := "opfacade -help lists the variables"
		if near := nearest(name, known); near != "" {
			hint = "did you mean " + near + "?"
		}
		errs = append(errs, fmt.Errorf("unknown environment variable %s (%s)", name, hint))
	}
	return errors.Join(errs...)
}

// nearest returns the candidate closest to s by edit distance, ignoring
// case, when it is close enough to be a likely typo; "" otherwise.
func nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(strings.ToUpper(s), strings.ToUpper(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes
// (names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Checks of the text flags: each says what it would accept.

func checkAddr(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err == nil && port != "" && !strings.ContainsAny(host, " /") {
		if _, err = net.LookupPort("tcp", port); err == nil {
			return nil
		}
	}
	return errors.New("want host:port or :port, such as :8080 or 127.0.0.1:8080")
}

// checkAdminAddr accepts a listen address, or nothing: no admin listener.
func checkAdminAddr(v string) error {
	if v == "" {
		return nil
	}
	return checkAddr(v)
}

func checkDB(v string) error { return store.CheckDSN(v) }

func checkZone(v string) error {
	if _, err := time.LoadLocation(v); v == "" || err != nil {
		return errors.New("want an IANA time zone name, such as Asia/Shanghai or UTC")
	}
	return nil
}

func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http:// or https:// URL")
	}
	return nil
}

func checkPrintable(v string) error {
	if strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return errors.New("want printable text, without control characters")
	}
	return nil
}

// checkFile accepts the path of a file that exists (or nothing).
func checkFile(v string) error {
	if v == "" {
		return nil
	}
	if st, err := os.Stat(v); err != nil || st.IsDir() {
		return errors.New("want the path of a file that exists")
	}
	return nil
}

// originsValue is a list of origins, read by api.ParseOrigins.
type originsValue struct{ p *[]string }

func (v originsValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v originsValue) Set(s string) error {
	o, err := api.ParseOrigins(s)
	if err != nil {
		return err
	}
	*v.p = o
	return nil
}

// shown is a value as an error may quote it: a -db value without its
// password.
func shown(flagName, v string) string {
	if flagName == "db" {
		return store.Redact(v)
	}
	return v
}

// redactQuoted hides the password of a mysql:// DSN that the flag
// package quotes in its "invalid value … for flag -db" error.
func redactQuoted(msg string) string {
	const quote = `invalid value "`
	rest, ok := strings.CutPrefix(msg, quote)
	if !ok {
		return msg
	}
	v, tail, ok := strings.Cut(rest, `" for flag -db:`)
	if !ok {
		return msg
	}
	return quote + store.Redact(v) + `" for flag -db:` + tail
}

// Flag values. Each Set says what it accepts when it refuses a value;
// the flag package prefixes the flag's name and the value.

// textValue is a string checked by check.
type textValue struct {
	p     *string
	check func(string) error
}

func text(p *string, check func(string) error) textValue { return textValue{p, check} }

func (v textValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v textValue) Set(s string) error {
	if err := v.check(s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

type boolValue struct{ p *bool }

func (v boolValue) IsBoolFlag() bool { return true }

func (v boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*v.p = b
	return nil
}

// numberValue is a whole number of at least least.
type numberValue[T int | int64] struct {
	p     *T
	least T
}

func number[T int | int64](p *T, least T) numberValue[T] { return numberValue[T]{p, least} }

func (v numberValue[T]) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}

func (v numberValue[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || int64(T(n)) != n || T(n) < v.least {
		return fmt.Errorf("want a whole number, %d or more", v.least)
	}
	*v.p = T(n)
	return nil
}

// rateValue is a rate in requests a second, more than 0, or off
// (app.RateLimitOff).
type rateValue struct{ p *float64 }

func rate(p *float64) rateValue { return rateValue{p} }

func (v rateValue) String() string {
	switch {
	case v.p == nil:
		return "0"
	case *v.p < 0:
		return "off"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

func (v rateValue) Set(s string) error {
	if s == "off" {
		*v.p = app.RateLimitOff
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return errors.New("want requests a second, more than 0 (such as 20 or 0.5), or off")
	}
	*v.p = f
	return nil
}

// durationValue is a duration, more than 0 when positive is set, 0 or
// more otherwise.
type durationValue struct {
	p        *time.Duration
	positive bool
}

func duration(p *time.Duration, positive bool) durationValue { return durationValue{p, positive} }

func (v durationValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil || d < 0:
		return errors.New("want a duration such as 5s, 1500ms or 2m")
	case d == 0 && v.positive:
		return errors.New("want a duration longer than 0, such as 5s")
	}
	*v.p = d
	return nil
}
