package app_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/store"
)

// countingStore counts the readiness checks that reach the store, and
// how many ran at once at most. With a gate, each check waits for it to
// open.
type countingStore struct {
	*store.Store
	gate                  chan struct{} // nil: checks do not wait
	entered               chan struct{} // a value as each check starts
	checks, running, most atomic.Int32
}

func (c *countingStore) Ready(ctx context.Context) error {
	c.checks.Add(1)
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	if c.gate != nil {
		c.entered <- struct{}{}
		<-c.gate
	}
	return c.Store.Ready(ctx)
}

// waitUntil polls cond until it holds; the bound detects a hang, it
// judges no timing.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// readyz returns /readyz's status and body.
func readyz(t testing.TB, s *apptest.Server) (int, string) {
	t.Helper()
	res, err := boundedClient(s).Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// probeAtOnce sends n probes at once and checks each answers 200 ok.
func probeAtOnce(t *testing.T, s *apptest.Server, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if code, body := readyz(t, s); code != http.StatusOK || body != "ok\n" {
				t.Errorf("/readyz: %d %q, want 200 ok", code, body)
			}
		})
	}
	wg.Wait()
}

// TestReadinessShared sends probes at once: one check runs at a time,
// the probes that come meanwhile get its answer, and while that answer
// stands every probe gets it without asking the database again.
func TestReadinessShared(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	serve := func(cache time.Duration, cs *countingStore, arrived *atomic.Int32) *apptest.Server {
		return apptest.NewServerOver(t, apptest.Config(t, db, func(c *app.Config) { c.ReadyCache = cache }),
			func(st *store.Store) app.Backend { cs.Store = st; return cs },
			func(s *http.Server) {
				h := s.Handler
				s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { arrived.Add(1); h.ServeHTTP(w, r) })
			})
	}

	t.Run("probes during a check share it", func(t *testing.T) {
		cs := &countingStore{gate: make(chan struct{}), entered: make(chan struct{}, 64)}
		var arrived atomic.Int32
		srv := serve(time.Nanosecond, cs, &arrived) // every answer out of date at once: only sharing saves a check
		var wg sync.WaitGroup
		wg.Go(func() { probeAtOnce(t, srv, 1) })
		<-cs.entered // the check runs, held at the gate
		wg.Go(func() { probeAtOnce(t, srv, 31) })
		waitUntil(t, "the probes to arrive", func() bool { return arrived.Load() == 32 })
		// Time for a probe that would check again to reach the store: a
		// wrong implementation shows in it; a right one never does.
		time.Sleep(50 * time.Millisecond)
		close(cs.gate)
		wg.Wait()
		if n := cs.checks.Load(); n != 1 {
			t.Errorf("%d checks for 32 probes during one, want 1", n)
		}
		// Probes one after another each check: the answer is out of date.
		for range 3 {
			probeAtOnce(t, srv, 1)
		}
		if n, most := cs.checks.Load(), cs.most.Load(); n != 4 || most != 1 {
			t.Errorf("%d checks (at most %d at once) after 3 probes in turn, want 4 (1)", n, most)
		}
	})
	t.Run("an answer that stands is shared", func(t *testing.T) {
		cs := &countingStore{}
		srv := serve(time.Hour, cs, new(atomic.Int32))
		probeAtOnce(t, srv, 32)
		probeAtOnce(t, srv, 32)
		if n := cs.checks.Load(); n != 1 {
			t.Errorf("%d checks for 64 probes, want 1", n)
		}
	})
}

// TestReadinessFollowsTheDatabase caches answers for an hour, and takes
// the SQLite file away and back: a probe alone answers from the cache,
// but once a request has found the database gone, or back, the next
// probe checks again and says so.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	path := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, path, func(c *app.Config) { c.ReadyCache = time.Hour }))
	want := func(status int, body, when string) {
		t.Helper()
		if code, got := readyz(t, srv); code != status || !strings.Contains(got, body) {
			t.Fatalf("%s: /readyz %d %q, want %d %q", when, code, got, status, body)
		}
	}
	want(http.StatusOK, "ok", "at first")
	if err := os.Rename(path, path+".aside"); err != nil {
		t.Fatal(err)
	}
	want(http.StatusOK, "ok", "the file gone, no request since") // the answer stands
	waitFileCheck()
	wantUnavailable(t, srv, "the file gone")
	want(http.StatusServiceUnavailable, "database unreachable: the database file is missing", "the file gone, a request failed")
	want(http.StatusServiceUnavailable, "database unreachable", "the file gone, asked again")
	if err := os.Rename(path+".aside", path); err != nil {
		t.Fatal(err)
	}
	wantServing(t, srv, "the file back")
	want(http.StatusOK, "ok", "the file back, a request served")
}

// TestMySQLReadinessExplainsAccessDenied serves MariaDB/MySQL as users
// the test creates and drops: one whose password is wrong, one without
// SELECT on the tables, one without any grant on the database. /readyz
// says each is access denied, with what to mend, and not that the
// database does not answer; asked again, from the cache, it says the
// same; and GraphQL answers SERVICE_UNAVAILABLE meanwhile.
func TestMySQLReadinessExplainsAccessDenied(t *testing.T) {
	apptest.NeedMySQL(t)
	cfg, err := store.MySQLConfig(apptest.NewMySQLDB(t, apptest.FixtureScripts()...))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", os.Getenv("MYSQL_TEST_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() }) // after the users are dropped
	all := strings.Fields("op_staff op_token op_chat app_user user_order service_order api_client")
	tests := []struct {
		name     string
		password string // the DSN's; the user's is "right"
		tables   []string
		want     string
	}{
		{"a wrong password", "wrong", all, "database access denied: check the user and password in -db"},
		{"no SELECT on the tables", "right", all[:1], "database access denied: grant SELECT on the legacy tables to the facade's user (see the README's Grants)"},
		{"no grant on the database", "right", nil, "database access denied: the user may not use the database -db names: grant SELECT on its legacy tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := createMySQLUser(t, admin, "right", cfg.DBName, tt.tables...)
			dsn := *cfg
			dsn.User, dsn.Passwd, dsn.Timeout = user, tt.password, 2*time.Second
			srv := apptest.NewServer(t, apptest.Config(t, "mysql://"+dsn.FormatDSN()))
			for _, when := range []string{"checked", "from the cache"} {
				if code, body := readyz(t, srv); code != http.StatusServiceUnavailable || body != tt.want+"\n" {
					t.Errorf("%s: /readyz %d %q, want 503 %q", when, code, body, tt.want)
				}
			}
			if g, _ := probe(t, srv); g != "SERVICE_UNAVAILABLE" {
				t.Errorf("GraphQL answered %q, want SERVICE_UNAVAILABLE", g)
			}
			if logs := srv.Logs.String(); strings.Contains(logs, "database unavailable") || !strings.Contains(logs, `cause="access denied"`) {
				t.Errorf("the log must tell access denied, not an outage:\n%s", logs)
			}
		})
	}
}

// createMySQLUser creates a user of a unique name with password, granted
// SELECT on the tables of database given (none: no grant at all), on
// every host it may connect from ('%', and 'localhost', which an
// anonymous user would otherwise shadow), and drops it when the test
// ends. It returns the user's name.
func createMySQLUser(t *testing.T, admin *sql.DB, password, database string, tables ...string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("opf_%d_%s", os.Getpid(), hex.EncodeToString(b))
	exec := func(stmt string) {
		t.Helper()
		for _, host := range []string{"%", "localhost"} {
			if _, err := admin.Exec(strings.ReplaceAll(stmt, "{u}", "'"+name+"'@'"+host+"'")); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	t.Cleanup(func() {
		for _, host := range []string{"%", "localhost"} {
			_, _ = admin.Exec("DROP USER IF EXISTS '" + name + "'@'" + host + "'")
		}
	})
	exec("CREATE USER {u} IDENTIFIED BY '" + password + "'")
	for _, table := range tables {
		exec("GRANT SELECT ON " + database + "." + table + " TO {u}")
	}
	return name
}
