package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/store"
)

// TestCommand builds the command once and runs it as an operator does,
// in a directory of its own with no FACADE_ variable but those a case
// sets: each misconfiguration is refused with exit status 2 (the
// invocation) or 1 (the database), and a message on stderr that says
// what to do; demo data is made only when asked for.
func TestCommand(t *testing.T) {
	bin := buildCommand(t)

	t.Run("a mistyped variable is refused, naming the one meant; no demo data", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		res := runCommand(t, bin, dir, []string{"FACADE_DSN=mysql://root@127.0.0.1:3306/test"})
		res.want(t, 2, "opfacade: unknown environment variable FACADE_DSN (did you mean FACADE_DB?)")
		noFile(t, filepath.Join(dir, "opfacade.db"))
	})
	t.Run("a bad flag value is refused, naming the flag, the value and what it takes", func(t *testing.T) {
		t.Parallel()
		res := runCommand(t, bin, t.TempDir(), nil, "-max-depth", "deep")
		res.want(t, 2, `opfacade: invalid value "deep" for flag -max-depth: want a whole number, 1 or more`)
		res = runCommand(t, bin, t.TempDir(), []string{"FACADE_REQUEST_TIMEOUT=5"})
		res.want(t, 2, `opfacade: FACADE_REQUEST_TIMEOUT="5" (-request-timeout): want a duration such as 5s, 1500ms or 2m`)
	})
	t.Run("-trusted-only needs a manifest; a manifest that is not a file is refused", func(t *testing.T) {
		t.Parallel()
		res := runCommand(t, bin, t.TempDir(), nil, "-trusted-only")
		res.want(t, 2, "-trusted-only runs only the operations of -trusted-documents, and none is given")
		res = runCommand(t, bin, t.TempDir(), nil, "-trusted-documents", "nosuch.json")
		res.want(t, 2, `invalid value "nosuch.json" for flag -trusted-documents: want the path of a file that exists`)
	})
	t.Run("the migration's settings are checked", func(t *testing.T) {
		t.Parallel()
		res := runCommand(t, bin, t.TempDir(), nil, "-legacy-shadow", "0.1")
		res.want(t, 2, "receives shadowed (-legacy-shadow), and no old service to compare with is given")
		res = runCommand(t, bin, t.TempDir(), nil, "-legacy-serve", "upstream")
		res.want(t, 2, "no old service is given: name it with -legacy-upstream")
		res = runCommand(t, bin, t.TempDir(), []string{"FACADE_LEGACY_UPSTREAM=old-op:8080/v2"})
		res.want(t, 2, "FACADE_LEGACY_UPSTREAM", "want the old service's http:// or https:// URL")
	})
	t.Run("a DSN that does not read is refused, showing the accepted forms", func(t *testing.T) {
		t.Parallel()
		res := runCommand(t, bin, t.TempDir(), nil, "-db", "mysql://root:s3cret@tcp(127.0.0.1:3306/test")
		res.want(t, 2, "missing closing brace", "mysql://user:pass@tcp(host:port)/db?params", "mysql://user:pass@host:port/db?params")
		if strings.Contains(res.stderr, "s3cret") {
			t.Errorf("stderr shows the password:\n%s", res.stderr)
		}
	})
	t.Run("a URL-form DSN is read", func(t *testing.T) {
		t.Parallel()
		dead := deadAddr(t)
		s := startCommand(t, bin, t.TempDir(), nil, "-db", "mysql://facade:s3cret@"+dead+"/legacy?timeout=2s")
		s.wantBanner(t, "opfacade serving mysql://facade:xxxxx@tcp("+dead+")/legacy")
		s.wantReady(t, http.StatusServiceUnavailable, "database unreachable: check the host and port in -db")
		s.stop(t, 0)
		if strings.Contains(s.stderr.String(), "s3cret") {
			t.Errorf("the log shows the password:\n%s", s.stderr)
		}
	})
	t.Run("a SQLite file that does not exist is refused without -demo, and not created", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for _, how := range [][]string{{"-db", "legacy.db"}, {"-db", "legacy.db", "-demo=false"}} {
			res := runCommand(t, bin, dir, nil, how...)
			res.want(t, 2, "the database file legacy.db does not exist: start with -demo", "opfacade init-db -db legacy.db")
		}
		res := runCommand(t, bin, dir, []string{"FACADE_DB=legacy.db"})
		res.want(t, 2, "the database file legacy.db does not exist")
		noFile(t, filepath.Join(dir, "legacy.db"))
		noFile(t, filepath.Join(dir, "opfacade.db"))
	})
	t.Run("no database configured: demo data, as the README's first command", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s := startCommand(t, bin, dir, nil)
		s.wantBanner(t, "Demo data was created in opfacade.db")
		s.wantReady(t, http.StatusOK, "ok")
		s.stop(t, 0)
		if _, err := os.Stat(filepath.Join(dir, "opfacade.db")); err != nil {
			t.Error(err)
		}
	})
	t.Run("-db with -demo creates it; risky settings warn in the log (text, as asked)", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s := startCommand(t, bin, dir, nil, "-db", "own.db", "-demo", "-legacy-sign=false", "-max-depth", "20", "-log-format", "text")
		s.wantBanner(t, "Demo data was created in own.db")
		s.wantReady(t, http.StatusOK, "ok")
		s.stop(t, 0)
		for _, want := range []string{
			`level=WARN msg="legacy request signatures are not checked (-legacy-sign=false)`,
			`level=WARN msg="a request limit is raised above its default`,
		} {
			if !strings.Contains(s.stderr.String(), want) {
				t.Errorf("the log lacks %s:\n%s", want, s.stderr)
			}
		}
		noFile(t, filepath.Join(dir, "opfacade.db"))
	})
	t.Run("a database without the legacy tables stops the start; -wait-for-db serves, not ready", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "empty.db"), nil, 0o644); err != nil { // an empty SQLite database
			t.Fatal(err)
		}
		res := runCommand(t, bin, dir, nil, "-db", "empty.db")
		res.want(t, 1, "opfacade: database schema wrong: the legacy tables are missing or differ", "no such table", "-wait-for-db")
		s := startCommand(t, bin, dir, nil, "-db", "empty.db", "-wait-for-db")
		s.wantReady(t, http.StatusServiceUnavailable, "database schema wrong: the legacy tables are missing or differ")
		s.stop(t, 0)
	})
	t.Run("-version prints the version and exits 0, serving nothing", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		res := runCommand(t, bin, dir, nil, "-version")
		res.want(t, 0)
		if !regexp.MustCompile(`^opfacade \S+ go\S+\n$`).MatchString(res.stdout) {
			t.Errorf("-version printed %q, want opfacade <version> <go version>", res.stdout)
		}
		noFile(t, filepath.Join(dir, "opfacade.db"))
		res = runCommand(t, bin, dir, []string{"FACADE_VERSION=true"})
		res.want(t, 2, "unknown environment variable FACADE_VERSION")
	})
	t.Run("the admin listener: metrics, profiles and health, none but health on the public port", func(t *testing.T) {
		t.Parallel()
		version := strings.Fields(runCommand(t, bin, t.TempDir(), nil, "-version").stdout)
		if len(version) != 3 {
			t.Fatalf("-version printed %q", version)
		}
		s := startCommand(t, bin, t.TempDir(), nil, "-admin-addr", "127.0.0.1:0")
		admin := s.adminBase(t)
		// stderr is no terminal: the log is JSON lines.
		if !strings.Contains(s.stderr.String(), `"level":"INFO","msg":"opfacade starting","version":"`+version[1]+`","go":"`+version[2]+`"}`) {
			t.Errorf("the log does not start with the version %s as JSON:\n%s", version[1], s.stderr)
		}

		s.wantReady(t, http.StatusOK, "ok") // the pool has a connection
		status, scrape := httpGet(t, admin+"/metrics")
		if status != http.StatusOK {
			t.Fatalf("admin /metrics: %d\n%s", status, scrape)
		}
		for _, want := range []string{
			`opfacade_build_info{goversion="` + version[2] + `",version="` + version[1] + `"} 1`,
			`opfacade_db_connections{state="in_use"} `,
			`opfacade_db_connections{state="idle"} `,
			"opfacade_db_connections_max ",
			"opfacade_db_wait_total ",
			"opfacade_db_wait_seconds_total ",
			`opfacade_db_connections_closed_total{reason="max_lifetime"} `,
			"go_goroutines ",
			"go_memstats_heap_alloc_bytes ",
			"process_cpu_seconds_total ",
		} {
			if !strings.Contains(scrape, want) {
				t.Errorf("admin /metrics lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("admin /metrics:\n%s", scrape)
		}
		if promtool, err := exec.LookPath("promtool"); err == nil {
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(scrape)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		}

		for path, want := range map[string]string{
			"/debug/pprof/":                  "goroutine",
			"/debug/pprof/goroutine?debug=1": "goroutine profile: total",
			"/debug/pprof/cmdline":           "opfacade",
			"/healthz":                       "",
			"/readyz":                        "ok",
		} {
			if status, body := httpGet(t, admin+path); status != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("admin %s: %d, want 200 with %q", path, status, want)
			}
		}
		for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
			if status, _ := httpGet(t, s.base+path); status != http.StatusNotFound {
				t.Errorf("public %s: %d, want 404", path, status)
			}
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			if status, _ := httpGet(t, s.base+path); status != http.StatusOK {
				t.Errorf("public %s: %d, want 200", path, status)
			}
		}

		s.stop(t, 0)
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(admin, "http://"), 5*time.Second); err == nil {
			c.Close()
			t.Error("the admin listener still accepts after the shutdown")
		}
	})
	t.Run("the admin listener may not take the API's port; a port taken stops the start", func(t *testing.T) {
		t.Parallel()
		res := runCommand(t, bin, t.TempDir(), []string{"FACADE_ADMIN_ADDR=:8080"}, "-addr", ":8080")
		res.want(t, 2, "-admin-addr :8080 is the address -addr serves the API on")
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		res = runCommand(t, bin, t.TempDir(), nil, "-admin-addr", taken.Addr().String())
		res.want(t, 1, "opfacade: admin listener (-admin-addr): listen tcp "+taken.Addr().String(), "address already in use")
	})
	t.Run("mysql", func(t *testing.T) {
		apptest.NeedMySQL(t)
		commandOnMySQL(t, bin)
	})
}

// commandOnMySQL starts the command as users the test creates: one with
// a wrong password, one without a grant. Each stops the start with exit
// status 1 and the cause; with -wait-for-db the server serves, /readyz
// says why it is not ready, and it becomes ready once the user is mended.
func commandOnMySQL(t *testing.T, bin string) {
	db := apptest.NewMySQLDB(t, apptest.FixtureScripts()...)
	cfg, err := store.MySQLConfig(db)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", os.Getenv("MYSQL_TEST_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	all := strings.Fields("op_staff op_token op_chat app_user user_order service_order api_client")
	// The URL form of the DSN, as an operator would write it.
	dsn := func(user, pass string) string {
		return (&url.URL{Scheme: "mysql", User: url.UserPassword(user, pass), Host: cfg.Addr, Path: "/" + cfg.DBName, RawQuery: "timeout=2s"}).String()
	}

	t.Run("a wrong password", func(t *testing.T) {
		u := newMySQLUser(t, admin, "right-s3cret", cfg.DBName, all...)
		res := runCommand(t, bin, t.TempDir(), nil, "-db", dsn(u.name, "wrong-s3cret"))
		res.want(t, 1, "opfacade: database access denied: check the user and password in -db", "Error 1045", "start with -wait-for-db")
		if strings.Contains(res.stderr, "s3cret") {
			t.Errorf("stderr shows a password:\n%s", res.stderr)
		}

		s := startCommand(t, bin, t.TempDir(), nil, "-db", dsn(u.name, "wrong-s3cret"), "-wait-for-db")
		s.wantReady(t, http.StatusServiceUnavailable, "database access denied: check the user and password in -db")
		s.wantGraphQLCode(t, "SERVICE_UNAVAILABLE")
		u.exec(t, "ALTER USER %s IDENTIFIED BY 'wrong-s3cret'") // the operator mends it
		s.eventuallyReady(t)
		s.stop(t, 0)
		log := s.stderr.String()
		for _, want := range []string{`"msg":"database misconfigured`, `"cause":"access denied"`, `"msg":"database configuration mended"`} {
			if !strings.Contains(log, want) {
				t.Errorf("the log lacks %s:\n%s", want, log)
			}
		}
		if strings.Contains(log, "s3cret") {
			t.Errorf("the log shows a password:\n%s", log)
		}
	})
	t.Run("a missing SELECT grant", func(t *testing.T) {
		u := newMySQLUser(t, admin, "s3cret", cfg.DBName, "op_staff")
		res := runCommand(t, bin, t.TempDir(), nil, "-db", dsn(u.name, "s3cret"))
		res.want(t, 1, "opfacade: database access denied: grant SELECT on the legacy tables", "Error 1142", "start with -wait-for-db")

		s := startCommand(t, bin, t.TempDir(), nil, "-db", dsn(u.name, "s3cret"), "-wait-for-db")
		s.wantReady(t, http.StatusServiceUnavailable, "database access denied: grant SELECT on the legacy tables to the facade's user")
		s.wantGraphQLCode(t, "SERVICE_UNAVAILABLE")
		for _, table := range all[1:] {
			u.exec(t, "GRANT SELECT ON "+cfg.DBName+"."+table+" TO %s")
		}
		s.eventuallyReady(t)
		s.stop(t, 0)
	})
	t.Run("no grant on the database", func(t *testing.T) {
		u := newMySQLUser(t, admin, "s3cret", cfg.DBName)
		res := runCommand(t, bin, t.TempDir(), nil, "-db", dsn(u.name, "s3cret"))
		res.want(t, 1, "opfacade: database access denied: the user may not use the database -db names", "Error 1044")
	})
}

// mysqlUser is a user the test created on every host it may connect
// from ('%', and 'localhost', which an anonymous user would otherwise
// shadow).
type mysqlUser struct {
	name  string
	admin *sql.DB
}

// newMySQLUser creates a user of a unique name with password, granted
// SELECT on the tables of database given, and drops it when the test ends.
func newMySQLUser(t *testing.T, admin *sql.DB, password, database string, tables ...string) mysqlUser {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	u := mysqlUser{name: fmt.Sprintf("opf_%d_%s", os.Getpid(), hex.EncodeToString(b)), admin: admin}
	t.Cleanup(func() {
		for _, host := range []string{"%", "localhost"} {
			_, _ = admin.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%s'", u.name, host))
		}
	})
	u.exec(t, "CREATE USER %s IDENTIFIED BY '"+password+"'")
	for _, table := range tables {
		u.exec(t, "GRANT SELECT ON "+database+"."+table+" TO %s")
	}
	return u
}

// exec runs stmt, its %s the user, for each of the user's hosts.
func (u mysqlUser) exec(t *testing.T, stmt string) {
	t.Helper()
	for _, host := range []string{"%", "localhost"} {
		if _, err := u.admin.Exec(fmt.Sprintf(stmt, "'"+u.name+"'@'"+host+"'")); err != nil {
			t.Fatalf("%s: %v", fmt.Sprintf(stmt, u.name), err)
		}
	}
}

// buildCommand builds the command into the test's temporary folder.
func buildCommand(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "opfacade")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// commandEnv is the test's environment without its FACADE_ variables,
// plus extra.
func commandEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(strings.ToUpper(kv), envPrefix) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// result is how a run of the command ended.
type result struct {
	code           int
	stdout, stderr string
}

// want checks the exit status and that stderr says each of says.
func (r result) want(t *testing.T, code int, says ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, code, r.stderr)
	}
	for _, s := range says {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

// runCommand runs the command to its end in dir, on a loopback port.
func runCommand(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir, cmd.Env = dir, commandEnv(env)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", bin, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// served is the command serving.
type served struct {
	cmd            *exec.Cmd
	base           string // http://127.0.0.1:port
	stdout, stderr *apptest.LockedBuffer
	done           chan struct{} // closed once the command has exited
}

// startCommand starts the command in dir on a loopback port, and returns
// once its banner names the address it serves. It is killed when the
// test ends, if still running.
func startCommand(t *testing.T, bin, dir string, env []string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-drain", "0"}, args...)...) // a test asking for a drain says so
	cmd.Dir, cmd.Env = dir, commandEnv(env)
	s := &served{cmd: cmd, stdout: &apptest.LockedBuffer{}, stderr: &apptest.LockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	address := regexp.MustCompile(`\((http://127\.0\.0\.1:\d+)\)`)
	eventually(t, "the banner", func() bool {
		select {
		case <-s.done:
			t.Fatalf("the command did not serve (exit status %d); stderr:\n%s", cmd.ProcessState.ExitCode(), s.stderr)
		default:
		}
		m := address.FindStringSubmatch(s.stdout.String())
		if m != nil {
			s.base = m[1]
		}
		return m != nil
	})
	return s
}

// adminBase waits for the banner to name the admin listener, and returns
// its http://127.0.0.1:port.
func (s *served) adminBase(t *testing.T) string {
	t.Helper()
	address := regexp.MustCompile(`(?m)^Admin listener.*: (http://127\.0\.0\.1:\d+)$`)
	var base string
	eventually(t, "the banner to name the admin listener", func() bool {
		if m := address.FindStringSubmatch(s.stdout.String()); m != nil {
			base = m[1]
		}
		return base != ""
	})
	return base
}

// httpGet returns the status and body of a GET of url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// wantBanner waits for the banner to say says.
func (s *served) wantBanner(t *testing.T, says string) {
	t.Helper()
	eventually(t, "the banner to say "+says, func() bool { return strings.Contains(s.stdout.String(), says) })
}

// stop sends SIGTERM and checks the exit status.
func (s *served) stop(t *testing.T, code int) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatal("the command did not stop after SIGTERM")
	}
	if got := s.cmd.ProcessState.ExitCode(); got != code {
		t.Errorf("exit status %d after SIGTERM, want %d; stderr:\n%s", got, code, s.stderr)
	}
}

// readyz returns /readyz's status and body.
func (s *served) readyz(t *testing.T) (int, string) {
	t.Helper()
	res, err := http.Get(s.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func (s *served) wantReady(t *testing.T, status int, body string) {
	t.Helper()
	if code, got := s.readyz(t); code != status || !strings.Contains(got, body) {
		t.Errorf("/readyz: %d %q, want %d %q", code, got, status, body)
	}
}

// eventuallyReady waits for /readyz to answer 200, as it must without a
// restart once the database is mended.
func (s *served) eventuallyReady(t *testing.T) {
	t.Helper()
	eventually(t, "/readyz to answer 200", func() bool {
		code, _ := s.readyz(t)
		return code == http.StatusOK
	})
}

// wantGraphQLCode checks the code the main query answers with.
func (s *served) wantGraphQLCode(t *testing.T, code string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/query", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(raw), `"code":"`+code+`"`) {
		t.Errorf("GraphQL answered %s, want %s", raw, code)
	}
}

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists: a refused start created it", path)
	}
}
