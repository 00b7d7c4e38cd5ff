package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"opfacade/app"
	"opfacade/app/apptest"
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
	type envCase struct {
		env, flag         string
		fromEnv, fromFlag string // values, neither the default
		malformed         string // "" when any text is a value
		set               setter // sets the field to a value as written
	}
	tests := []envCase{
		{"FACADE_ADDR", "addr", "127.0.0.1:9000", ":9100", "", func(c *config, v string) { c.Addr = v }},
		{"FACADE_DB", "db", "/data/env.db", "/data/flag.db", "", func(c *config, v string) { c.DB = v }},
		{"FACADE_TZ", "tz", "Europe/Paris", "America/New_York", "Mars/Olympus_Mons", func(c *config, v string) {
			loc, err := time.LoadLocation(v)
			if err != nil {
				t.Fatal(err)
			}
			c.Zone = loc
		}},
		{"FACADE_DEFAULT_ICON", "default-icon", "http://env.example/i.png", "http://flag.example/i.png", "", func(c *config, v string) { c.DefaultIcon = v }},
		{"FACADE_SERVICE_PHONE", "service-phone", "95000", "96000", "", func(c *config, v string) { c.ServicePhone = v }},
		{"FACADE_HOST_NAME", "host-name", "env-host", "flag-host", "", func(c *config, v string) { c.HostName = v }},
		{"FACADE_DEMO", "demo", "false", "true", "maybe", func(c *config, v string) { c.Demo = v == "true" }},
		{"FACADE_LEGACY_SIGN", "legacy-sign", "false", "true", "nope", func(c *config, v string) { c.CheckSign = v == "true" }},
		{"FACADE_INTROSPECTION", "introspection", "false", "true", "2", func(c *config, v string) { c.Introspection = v == "true" }},
		{"FACADE_DB_MAX_OPEN", "db-max-open", "7", "9", "seven", func(c *config, v string) { c.Store.MaxOpenConns = atoi(v) }},
		{"FACADE_DB_MAX_IDLE", "db-max-idle", "3", "4", "1.5", func(c *config, v string) { c.Store.MaxIdleConns = atoi(v) }},
		{"FACADE_DB_CONN_LIFETIME", "db-conn-lifetime", "90s", "2m", "90", func(c *config, v string) { c.Store.ConnMaxLifetime = duration(v) }},
		{"FACADE_SHUTDOWN_GRACE", "shutdown-grace", "3s", "4s", "soon", func(c *config, v string) { c.ShutdownGrace = duration(v) }},
		{"FACADE_REQUEST_TIMEOUT", "request-timeout", "1500ms", "7s", "5 s", func(c *config, v string) { c.Limits.Timeout = duration(v) }},
		{"FACADE_MAX_COMPLEXITY", "max-complexity", "1234", "2345", "1e3", func(c *config, v string) { c.Limits.MaxComplexity = atoi(v) }},
		{"FACADE_MAX_DEPTH", "max-depth", "7", "8", "deep", func(c *config, v string) { c.Limits.MaxDepth = atoi(v) }},
		{"FACADE_MAX_FIELDS", "max-fields", "123", "234", "many", func(c *config, v string) { c.Limits.MaxFields = atoi(v) }},
		{"FACADE_MAX_TOKENS", "max-tokens", "345", "456", "-", func(c *config, v string) { c.Limits.MaxTokens = atoi(v) }},
		{"FACADE_MAX_BODY", "max-body", "1024", "2048", "64KiB", func(c *config, v string) { c.Limits.MaxBody = int64(atoi(v)) }},
	}

	// Every variable the flags' help names is in the table.
	var usage strings.Builder
	if _, err := parseConfig([]string{"-help"}, func(string) string { return "" }, &usage); !errors.Is(err, flag.ErrHelp) {
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
	defaults, err := parseConfig(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	same := cmp.Options{
		cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
		cmp.Comparer(func(a, b func() time.Time) bool { return a == nil && b == nil }),
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			env := func(v string) func(string) string {
				return func(name string) string {
					if name == tt.env {
						return v
					}
					return ""
				}
			}
			want := defaults
			tt.set(&want, tt.fromEnv)
			if cmp.Equal(want, defaults, same) {
				t.Fatalf("%s=%s is the default: the test would not see it", tt.env, tt.fromEnv)
			}
			got, err := parseConfig(nil, env(tt.fromEnv), io.Discard)
			if err != nil {
				t.Fatalf("%s=%s: %v", tt.env, tt.fromEnv, err)
			}
			if d := cmp.Diff(want, got, same); d != "" {
				t.Errorf("%s=%s (-want +got):\n%s", tt.env, tt.fromEnv, d)
			}

			// The flag beats the variable.
			want = defaults
			tt.set(&want, tt.fromFlag)
			got, err = parseConfig([]string{"-" + tt.flag + "=" + tt.fromFlag}, env(tt.fromEnv), io.Discard)
			if err != nil {
				t.Fatalf("-%s=%s with %s=%s: %v", tt.flag, tt.fromFlag, tt.env, tt.fromEnv, err)
			}
			if d := cmp.Diff(want, got, same); d != "" {
				t.Errorf("-%s=%s with %s=%s: the flag must win (-want +got):\n%s", tt.flag, tt.fromFlag, tt.env, tt.fromEnv, d)
			}

			if tt.malformed == "" {
				return
			}
			// A malformed value is refused, naming the flag, from either source.
			_, err = parseConfig(nil, env(tt.malformed), io.Discard)
			if err == nil || !strings.Contains(err.Error(), "-"+tt.flag) {
				t.Errorf("%s=%q: error %v, want one naming -%s", tt.env, tt.malformed, err, tt.flag)
			}
			_, err = parseConfig([]string{"-" + tt.flag + "=" + tt.malformed}, noEnv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "-"+tt.flag) {
				t.Errorf("-%s=%q: error %v, want one naming -%s", tt.flag, tt.malformed, err, tt.flag)
			}
		})
	}
}

// TestHarnessConfigIsTheDefault holds apptest.Config, which the tests of
// the other packages build their servers from, to what the command builds
// from -db alone: those tests run the facade as it is deployed.
func TestHarnessConfigIsTheDefault(t *testing.T) {
	const db = "/data/facade.db"
	cfg, err := parseConfig([]string{"-db", db}, func(string) string { return "" }, io.Discard)
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
		cfg, err := parseConfig([]string{"-db", e.NewDB(t), "-db-max-open", "7", "-db-max-idle", "3", "-db-conn-lifetime", "90s"}, func(string) string { return "" }, io.Discard)
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
