package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/migrate"
	"opfacade/store"
)

// TestConfigFromEnvironment sets each FACADE_* variable alone and checks
// that it reaches its config field and no other; that its flag, given too,
// wins; and that a malformed value, from the environment or on the
// command line, is refused with an error naming the flag.
func TestConfigFromEnvironment(t *testing.T) {
	type setter func(c *config, v string)
	duration := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	float := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	type envCase struct {
		env, flag         string
		fromEnv, fromFlag string // values, neither the default
		malformed         string // "" when any text is a value
		set               setter // sets the field to a value as written
	}
	tests := []envCase{
		{"FACADE_ADDR", "addr", "127.0.0.1:9000", ":9100", "9000", func(c *config, v string) { c.Addr = v }},
		{"FACADE_ADMIN_ADDR", "admin-addr", "127.0.0.1:9090", ":9091", "9090", func(c *config, v string) { c.AdminAddr = v }},
		{"FACADE_DB", "db", "/data/env.db", "/data/flag.db", "postgres://db/x", func(c *config, v string) { c.DB, c.Demo = v, false }},
		{"FACADE_TZ", "tz", "Europe/Paris", "America/New_York", "Mars/Olympus_Mons", func(c *config, v string) {
			loc, err := time.LoadLocation(v)
			if err != nil {
				t.Fatal(err)
			}
			c.Zone = loc
		}},
		{"FACADE_DEFAULT_ICON", "default-icon", "http://env.example/i.png", "http://flag.example/i.png", "icon.png", func(c *config, v string) { c.DefaultIcon = v }},
		{"FACADE_SERVICE_PHONE", "service-phone", "95000", "96000", "", func(c *config, v string) { c.ServicePhone = v }},
		{"FACADE_HOST_NAME", "host-name", "env-host", "flag-host", "", func(c *config, v string) { c.HostName = v }},
		{"FACADE_DEMO", "demo", "false", "true", "maybe", func(c *config, v string) { c.Demo = v == "true" }},
		{"FACADE_WAIT_FOR_DB", "wait-for-db", "true", "false", "sometimes", func(c *config, v string) { c.WaitForDB = v == "true" }},
		{"FACADE_LEGACY_SIGN", "legacy-sign", "false", "true", "nope", func(c *config, v string) { c.CheckSign = v == "true" }},
		{"FACADE_INTROSPECTION", "introspection", "false", "true", "2", func(c *config, v string) { c.Introspection = v == "true" }},
		{"FACADE_COMPILED", "compiled", "false", "true", "sometimes", func(c *config, v string) { c.Compiled = v == "true" }},
		{"FACADE_DB_MAX_OPEN", "db-max-open", "7", "9", "-1", func(c *config, v string) { c.Store.MaxOpenConns = atoi(v) }},
		{"FACADE_DB_MAX_IDLE", "db-max-idle", "3", "4", "1.5", func(c *config, v string) { c.Store.MaxIdleConns = atoi(v) }},
		{"FACADE_DB_CONN_LIFETIME", "db-conn-lifetime", "90s", "2m", "90", func(c *config, v string) { c.Store.ConnMaxLifetime = duration(v) }},
		{"FACADE_SHUTDOWN_GRACE", "shutdown-grace", "3s", "4s", "-1s", func(c *config, v string) { c.ShutdownGrace = duration(v) }},
		{"FACADE_DRAIN", "drain", "0s", "2s", "5", func(c *config, v string) { c.Drain = duration(v) }},
		{"FACADE_REQUEST_TIMEOUT", "request-timeout", "1500ms", "7s", "5 s", func(c *config, v string) { c.Limits.Timeout = duration(v) }},
		{"FACADE_MAX_COMPLEXITY", "max-complexity", "1234", "2345", "1e3", func(c *config, v string) { c.Limits.MaxComplexity = atoi(v) }},
		{"FACADE_MAX_DEPTH", "max-depth", "7", "8", "0", func(c *config, v string) { c.Limits.MaxDepth = atoi(v) }},
		{"FACADE_MAX_FIELDS", "max-fields", "123", "234", "many", func(c *config, v string) { c.Limits.MaxFields = atoi(v) }},
		{"FACADE_MAX_TOKENS", "max-tokens", "345", "456", "-", func(c *config, v string) { c.Limits.MaxTokens = atoi(v) }},
		{"FACADE_MAX_BODY", "max-body", "1024", "2048", "64KiB", func(c *config, v string) { c.Limits.MaxBody = int64(atoi(v)) }},
		{"FACADE_RATE_LIMIT", "rate-limit", "5", "7.5", "fast", func(c *config, v string) { c.RateLimit.PerSecond = float(v) }},
		{"FACADE_RATE_BURST", "rate-burst", "10", "12", "0", func(c *config, v string) { c.RateLimit.Burst = atoi(v) }},
		{"FACADE_RATE_CLIENT_LIMIT", "rate-client-limit", "100", "off", "-3", func(c *config, v string) {
			c.RateLimit.ClientPerSecond = app.RateLimitOff
			if v != "off" {
				c.RateLimit.ClientPerSecond = float(v)
			}
		}},
		{"FACADE_RATE_CLIENT_BURST", "rate-client-burst", "200", "300", "lots", func(c *config, v string) { c.RateLimit.ClientBurst = atoi(v) }},
		{"FACADE_CORS_ORIGINS", "cors-origins", "http://localhost:3000", "https://console.example.com,http://localhost:3000", "http://localhost:3000/", func(c *config, v string) { c.CORSOrigins = strings.Split(v, ",") }},
		{"FACADE_TRUSTED_DOCUMENTS", "trusted-documents", "documents/manifest.json", "documents/MyChats.graphql", "documents/none.json", func(c *config, v string) { c.TrustedDocuments = v }},
		{"FACADE_TRUSTED_ONLY", "trusted-only", "true", "false", "only", func(c *config, v string) { c.TrustedOnly = v == "true" }},
		{"FACADE_LEGACY_UPSTREAM", "legacy-upstream", "http://old-op.internal:8080", "https://old-op.example", "old-op.internal:8080", func(c *config, v string) {
			u, err := migrate.ParseUpstream(v)
			if err != nil {
				t.Fatal(err)
			}
			c.LegacyUpstream = u
		}},
		{"FACADE_LEGACY_SERVE", "legacy-serve", "upstream", "receives", "both", func(c *config, v string) { c.LegacyServe = v }},
		{"FACADE_LEGACY_SHADOW", "legacy-shadow", "0.01", "1", "2", func(c *config, v string) { c.LegacyShadow = float(v) }},
		{"FACADE_LIVE_INTERVAL", "live-interval", "250ms", "2s", "0s", func(c *config, v string) { c.Live.Interval = duration(v) }},
		{"FACADE_LIVE_MAX_PER_TOKEN", "live-max-per-token", "5", "6", "0", func(c *config, v string) { c.Live.MaxPerToken = atoi(v) }},
		{"FACADE_LIVE_MAX_PER_CONNECTION", "live-max-per-connection", "7", "8", "-2", func(c *config, v string) { c.Live.MaxPerConnection = atoi(v) }},
		{"FACADE_LIVE_MAX", "live-max", "500", "600", "lots", func(c *config, v string) { c.Live.MaxPerReplica = atoi(v) }},
		{"FACADE_LIVE_IDLE_TIMEOUT", "live-idle-timeout", "30s", "2m", "30", func(c *config, v string) { c.Live.IdleTimeout = duration(v) }},
		{"FACADE_LIVE_KEEPALIVE", "live-keepalive", "5s", "20s", "often", func(c *config, v string) { c.Live.KeepAlive = duration(v) }},
		{"FACADE_LIVE_SEND_TIMEOUT", "live-send-timeout", "3s", "4s", "-1s", func(c *config, v string) { c.Live.SendTimeout = duration(v) }},
		{"FACADE_LOG_FORMAT", "log-format", "text", "json", "yaml", func(c *config, v string) { c.LogFormat = v }},
		{"FACADE_LOG_LEVEL", "log-level", "debug", "warn", "verbose", func(c *config, v string) { c.LogLevel = levels[v] }},
		{"FACADE_LOG_FLUSH", "log-flush", "1s", "0s", "soon", func(c *config, v string) { c.LogFlush = duration(v) }},
	}

	// Every variable the flags' help names is in the table.
	var usage strings.Builder
	if _, err := parseConfig([]string{"-help"}, func(string) string { return "" }, nil, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-help: %v", err)
	}
	var named []string
	for _, m := range regexp.MustCompile(`\(env (FACADE_\w+)\)`).FindAllStringSubmatch(usage.String(), -1) {
		named = append(named, m[1])
	}
	for _, v := range named {
		if !slices.ContainsFunc(tests, func(tt envCase) bool { return tt.env == v }) {
			t.Errorf("%s is in the flags' help but not in this test", v)
		}
	}
	if len(named) != len(tests) {
		t.Errorf("the help names %d variables %q; the test has %d", len(named), named, len(tests))
	}

	noEnv := func(string) string { return "" }
	defaults, err := parseConfig(nil, noEnv, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	same := cmp.Options{
		cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
		cmp.Comparer(func(a, b func() time.Time) bool { return a == nil && b == nil }),
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			env := func(v string) (func(string) string, []string) {
				return envOf(tt.env + "=" + v)
			}
			want := defaults
			tt.set(&want, tt.fromEnv)
			if cmp.Equal(want, defaults, same) {
				t.Fatalf("%s=%s is the default: the test would not see it", tt.env, tt.fromEnv)
			}
			getenv, environ := env(tt.fromEnv)
			got, err := parseConfig(nil, getenv, environ, io.Discard)
			if err != nil {
				t.Fatalf("%s=%s: %v", tt.env, tt.fromEnv, err)
			}
			if d := cmp.Diff(want, got, same); d != "" {
				t.Errorf("%s=%s (-want +got):\n%s", tt.env, tt.fromEnv, d)
			}

			// The flag beats the variable.
			want = defaults
			tt.set(&want, tt.fromFlag)
			got, err = parseConfig([]string{"-" + tt.flag + "=" + tt.fromFlag}, getenv, environ, io.Discard)
			if err != nil {
				t.Fatalf("-%s=%s with %s=%s: %v", tt.flag, tt.fromFlag, tt.env, tt.fromEnv, err)
			}
			if d := cmp.Diff(want, got, same); d != "" {
				t.Errorf("-%s=%s with %s=%s: the flag must win (-want +got):\n%s", tt.flag, tt.fromFlag, tt.env, tt.fromEnv, d)
			}

			if tt.malformed == "" {
				return
			}
			// A malformed value is refused, from either source, naming the
			// flag (and the variable) and the value, as a usage error.
			getenv, environ = env(tt.malformed)
			_, err = parseConfig(nil, getenv, environ, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "-"+tt.flag) || !strings.Contains(err.Error(), tt.env) || !strings.Contains(err.Error(), tt.malformed) || !errors.As(err, new(usageError)) {
				t.Errorf("%s=%q: error %v, want a usage error naming -%s and the value", tt.env, tt.malformed, err, tt.flag)
			}
			_, err = parseConfig([]string{"-" + tt.flag + "=" + tt.malformed}, noEnv, nil, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "-"+tt.flag) || !strings.Contains(err.Error(), tt.malformed) || !errors.As(err, new(usageError)) {
				t.Errorf("-%s=%q: error %v, want a usage error naming -%s and the value", tt.flag, tt.malformed, err, tt.flag)
			}
		})
	}
}

// TestHarnessConfigIsTheDefault holds apptest.Config, which the tests of
// the other packages build their servers from, to what the command builds
// from -db alone: those tests run the facade as it is deployed. Both read
// apptest.CompiledEnv, with which CI runs the suites a second time.
func TestHarnessConfigIsTheDefault(t *testing.T) {
	const db = "/data/facade.db"
	getenv := func(k string) string {
		if k == apptest.CompiledEnv {
			return os.Getenv(k)
		}
		return ""
	}
	cfg, err := parseConfig([]string{"-db", db}, getenv, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	same := cmp.Options{
		cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
		cmp.Comparer(func(a, b func() time.Time) bool { return a == nil && b == nil }),
	}
	if d := cmp.Diff(cfg.Config, apptest.Config(t, db), same); d != "" {
		t.Errorf("apptest.Config differs from the command's defaults (-command +apptest):\n%s", d)
	}
}

// TestStorePoolFlags opens the facade as run does, from the pool flags:
// they reach the store's pool. (app's TestStorePoolSettings holds the pool
// to its settings, and to its defaults.)
func TestStorePoolFlags(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		cfg, err := parseConfig([]string{"-db", e.NewDB(t), "-db-max-open", "7", "-db-max-idle", "3", "-db-conn-lifetime", "90s"}, func(string) string { return "" }, nil, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.Open(context.Background(), cfg.Config)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if got, want := a.Store.Pool(), (store.Pool{MaxOpen: 7, MaxIdle: 3, ConnMaxLifetime: 90 * time.Second}); got != want {
			t.Errorf("pool = %+v, want %+v", got, want)
		}
		if got := a.Store.DB().Stats().MaxOpenConnections; got != 7 {
			t.Errorf("MaxOpenConnections = %d, want 7", got)
		}
	})
}

// envOf is an environment holding the given NAME=value pairs, as run
// reads it: getenv and the list of variables.
func envOf(kv ...string) (func(string) string, []string) {
	return func(name string) string {
		for _, p := range kv {
			if n, v, _ := strings.Cut(p, "="); n == name {
				return v
			}
		}
		return ""
	}, kv
}

// TestUnknownVariables refuses FACADE_ variables no flag reads, naming
// each and the nearest known one, before anything else is read.
func TestUnknownVariables(t *testing.T) {
	tests := []struct {
		env  []string
		want []string
	}{
		{[]string{"FACADE_DSN=mysql://root@tcp(db:3306)/legacy"}, []string{"unknown environment variable FACADE_DSN (did you mean FACADE_DB?)"}},
		{[]string{"facade_db=/data/x.db"}, []string{"unknown environment variable facade_db (did you mean FACADE_DB?)"}},
		{[]string{"FACADE_MAX_DEPT=5", "FACADE_REQUEST_TIMOUT=3s"}, []string{"FACADE_MAX_DEPT (did you mean FACADE_MAX_DEPTH?)", "FACADE_REQUEST_TIMOUT (did you mean FACADE_REQUEST_TIMEOUT?)"}},
		{[]string{"FACADE_COLOUR_SCHEME=dark"}, []string{"unknown environment variable FACADE_COLOUR_SCHEME (opfacade -help lists the variables)"}},
	}
	for _, tt := range tests {
		getenv, environ := envOf(append([]string{"PATH=/bin", "FACADE_ADDR=:9000"}, tt.env...)...)
		_, err := parseConfig(nil, getenv, environ, io.Discard)
		if !errors.As(err, new(usageError)) {
			t.Errorf("%q: %v, want a usage error", tt.env, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q, want it to say %q", tt.env, err, w)
			}
		}
		// init-db reads the same environment, and refuses it as well.
		_, _, err = parseInitDB(nil, getenv, environ, io.Discard)
		if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tt.want[0]) {
			t.Errorf("init-db with %q: %v", tt.env, err)
		}
	}
}

// TestFlagValuesChecked refuses values that would fail later, or be
// silently misread, with a usage error naming the flag, the value and
// what would be accepted, never a password.
func TestFlagValuesChecked(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-addr", "8080"}, []string{`"8080"`, "-addr", "host:port"}},
		{[]string{"-admin-addr", "9090"}, []string{`"9090"`, "-admin-addr", "host:port"}},
		{[]string{"-admin-addr", ":8080"}, []string{"-admin-addr :8080 is the address -addr serves the API on (:8080)", "a port of its own"}},
		{[]string{"-addr", "127.0.0.1:9090", "-admin-addr", ":9090"}, []string{"-admin-addr :9090 is the address -addr serves"}},
		{[]string{"-tz", "Shanghai"}, []string{`"Shanghai"`, "-tz", "IANA time zone"}},
		{[]string{"-default-icon", "/img/x.png"}, []string{"-default-icon", "http:// or https:// URL"}},
		{[]string{"-max-body", "64KiB"}, []string{`"64KiB"`, "-max-body", "whole number, 1 or more"}},
		{[]string{"-request-timeout", "0"}, []string{"-request-timeout", "longer than 0"}},
		{[]string{"-shutdown-grace", "15"}, []string{"-shutdown-grace", "duration such as 5s"}},
		{[]string{"-legacy-sign=nope"}, []string{`"nope"`, "-legacy-sign", "true or false"}},
		{[]string{"-db", "postgres://u@db/legacy"}, []string{"-db", "postgres://", "mysql://user:pass@host:port/db?params"}},
		{[]string{"-db", "mysql://root:s3cret@tcp(db:3306/legacy"}, []string{"-db", "mysql://root:xxxxx@", "mysql://user:pass@tcp(host:port)/db?params", "mysql://user:pass@host:port/db?params"}},
		{[]string{"-db", "mysql://root:s3cret@db:3306/legacy", "-demo"}, []string{"-demo creates a SQLite file", "init-db"}},
		{[]string{"-dbb", "x.db"}, []string{"-dbb", "did you mean -db?"}},
		{[]string{"serve"}, []string{"unexpected arguments: serve"}},
		{[]string{"-log-format", "logfmt"}, []string{`"logfmt"`, "-log-format", "want json or text"}},
		{[]string{"-log-level", "trace"}, []string{`"trace"`, "-log-level", "want debug, info, warn or error"}},
	}
	for _, tt := range tests {
		_, err := parseConfig(tt.args, func(string) string { return "" }, nil, io.Discard)
		if !errors.As(err, new(usageError)) {
			t.Errorf("%q: %v, want a usage error", tt.args, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q, want it to say %q", tt.args, err, w)
			}
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error shows the password: %v", tt.args, err)
		}
	}
	// The same DSN from the environment.
	getenv, environ := envOf("FACADE_DB=mysql://root:s3cret@tcp(db:3306/legacy")
	_, err := parseConfig(nil, getenv, environ, io.Discard)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "FACADE_DB") {
		t.Errorf("FACADE_DB: %v", err)
	}
}

// TestSameAddr: the admin listener may not take the API's port, on the
// same host or on all of them; port 0 picks a free one each time.
func TestSameAddr(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{":8080", ":8080", true},
		{":8080", "127.0.0.1:8080", true},
		{"0.0.0.0:8080", "10.0.0.7:8080", true},
		{"[::]:8080", "127.0.0.1:8080", true},
		{"127.0.0.1:80", "127.0.0.1:http", true},
		{"127.0.0.1:8080", "10.0.0.7:8080", false},
		{":8080", ":9090", false},
		{"127.0.0.1:0", "127.0.0.1:0", false},
	}
	for _, tt := range tests {
		if got := sameAddr(tt.a, tt.b); got != tt.same {
			t.Errorf("sameAddr(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
		if got := sameAddr(tt.b, tt.a); got != tt.same {
			t.Errorf("sameAddr(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.same)
		}
	}
}

// TestVersionFlag: -version is read from the command line only, among
// the other flags; FACADE_VERSION is no variable, so a server's
// environment cannot turn it into a command that prints and exits.
func TestVersionFlag(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := parseConfig([]string{"-db", "x.db", "-version"}, noEnv, nil, io.Discard)
	if err != nil || !c.Version {
		t.Errorf("-version: version %v, err %v", c.Version, err)
	}
	if c, _ := parseConfig(nil, noEnv, nil, io.Discard); c.Version {
		t.Error("the version is printed by default")
	}
	getenv, environ := envOf("FACADE_VERSION=true")
	c, err = parseConfig(nil, getenv, environ, io.Discard)
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "unknown environment variable FACADE_VERSION") || c.Version {
		t.Errorf("FACADE_VERSION=true: version %v, err %v; want it refused as unknown", c.Version, err)
	}
	var usage strings.Builder
	if _, err := parseConfig([]string{"-help"}, noEnv, nil, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	if !strings.Contains(usage.String(), "-version") || strings.Contains(usage.String(), "FACADE_VERSION") {
		t.Errorf("-help should list -version, without a variable:\n%s", usage.String())
	}
}

// TestDemoOnlyWhenAsked: demo data is created only for the README's
// first command (no database configured) or when -demo asks for it; a
// database named by flag or variable is never filled otherwise.
func TestDemoOnlyWhenAsked(t *testing.T) {
	tests := []struct {
		args []string
		env  []string
		demo bool
	}{
		{nil, nil, true},
		{[]string{"-db", "/data/x.db"}, nil, false},
		{nil, []string{"FACADE_DB=/data/x.db"}, false},
		{[]string{"-db", "opfacade.db"}, nil, false},
		{[]string{"-db", "/data/x.db", "-demo"}, nil, true},
		{nil, []string{"FACADE_DB=/data/x.db", "FACADE_DEMO=true"}, true},
		{[]string{"-demo=false"}, nil, false},
	}
	for _, tt := range tests {
		getenv, environ := envOf(tt.env...)
		c, err := parseConfig(tt.args, getenv, environ, io.Discard)
		if err != nil {
			t.Fatalf("%q %q: %v", tt.args, tt.env, err)
		}
		if c.Demo != tt.demo {
			t.Errorf("%q %q: demo %v, want %v", tt.args, tt.env, c.Demo, tt.demo)
		}
	}
}

// TestRisksWarned: a start that weakens a default says so in the log,
// one WARN line each; the defaults say nothing.
func TestRisksWarned(t *testing.T) {
	warnings := func(args ...string) []string {
		c, err := parseConfig(args, func(string) string { return "" }, nil, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		warnRisks(slog.New(slog.NewTextHandler(&buf, nil)), c)
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		return lines
	}
	if w := warnings(); len(w) != 0 {
		t.Errorf("the defaults warn: %q", w)
	}
	if w := warnings("-max-depth", "10", "-max-body", "1024"); len(w) != 0 {
		t.Errorf("limits at or below their defaults warn: %q", w)
	}
	w := warnings("-legacy-sign=false", "-introspection=false", "-max-complexity", "9000", "-request-timeout", "30s")
	for i, want := range []string{"-legacy-sign=false", "-introspection=false", "flag=-max-complexity value=9000 default=2500", "flag=-request-timeout value=30s default=5s"} {
		if i >= len(w) || !strings.Contains(w[i], "level=WARN") || !strings.Contains(w[i], want) {
			t.Errorf("warning %d: want a WARN line with %q; got %q", i, want, w)
		}
	}
}

// TestLogHandler: -log-format picks the log's format, JSON by default
// when stderr is not a terminal (a file, a pipe, a buffer); -log-level
// the least level written.
func TestLogHandler(t *testing.T) {
	for _, tt := range []struct {
		format string
		level  slog.Level
		want   string
	}{
		{"", slog.LevelInfo, `"level":"WARN","msg":"w"`},
		{"json", slog.LevelInfo, `"level":"INFO","msg":"i"`},
		{"text", slog.LevelInfo, `level=INFO msg=i`},
		{"text", slog.LevelDebug, `level=DEBUG msg=d`},
	} {
		var buf strings.Builder
		log := slog.New(logHandler(&buf, false, tt.format, tt.level))
		log.Debug("d")
		log.Info("i")
		log.Warn("w")
		if !strings.Contains(buf.String(), tt.want) {
			t.Errorf("-log-format %q -log-level %v: want %s in\n%s", tt.format, tt.level, tt.want, buf.String())
		}
		if got := buf.String(); tt.level > slog.LevelDebug && (strings.Contains(got, "msg=d\n") || strings.Contains(got, `"msg":"d"`)) {
			t.Errorf("-log-level %v logs debug lines:\n%s", tt.level, buf.String())
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	slog.New(logHandler(f, isTerminal(f), "", slog.LevelInfo)).Info("to a file")
	if b, _ := os.ReadFile(f.Name()); !strings.HasPrefix(string(b), `{"time":`) {
		t.Errorf("a file, no terminal, gets %q; want JSON", b)
	}
}
