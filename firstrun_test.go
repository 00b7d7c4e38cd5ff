package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/store"
)

// startRun starts the command as a user would, on a loopback port and a
// demo database, and returns the banner's lines and base URL once it
// serves (the banner's last line is the legacy curl); stop ends it and
// returns what run returned.
func startRun(t *testing.T, args ...string) (banner []string, base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-drain", "0"}, args...), func(string) string { return "" }, noVars, w, io.Discard)
		_ = w.CloseWithError(io.EOF)
		done <- err
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	urlRE := regexp.MustCompile(`\((http://127\.0\.0\.1:\d+)\)`)
	timeout := time.After(60 * time.Second)
	stop = func() error {
		cancel()
		go func() {
			for range lines {
			}
		}()
		return <-done
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("run ended before it served: %v", <-done)
			}
			banner = append(banner, l)
			if m := urlRE.FindStringSubmatch(l); m != nil {
				base = m[1]
			}
			if base != "" && strings.HasPrefix(l, "  curl -s "+base+"/op/v2/receives") {
				return banner, base, stop
			}
		case <-timeout:
			cancel()
			t.Fatalf("no banner within a minute; got %q", banner)
		}
	}
}

// noVars is an environment with no variables.
func noVars() []string { return nil }

// TestFirstRun is the README's first command, with -demo for a database
// file of the test's own (the command alone creates ./opfacade.db; see
// TestCommand): on a file that does not exist, the server creates demo
// data and prints a playground URL, a demo token and curls that work as
// printed. A second start reuses the file untouched.
func TestFirstRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	banner, base, stop := startRun(t, "-db", db, "-demo")
	text := strings.Join(banner, "\n")
	for _, want := range []string{"playground:   " + base + "/", "Demo data was created", "Demo token (OP 小李): " + apptest.TokenLi} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	page, err := http.Get(base + "/")
	if err != nil || page.StatusCode != http.StatusOK {
		t.Fatalf("playground page: %v %v", err, page)
	}
	page.Body.Close()

	// The printed legacy curl, as printed.
	legacyLine := banner[len(banner)-1]
	form := legacyLine[strings.Index(legacyLine, "-d '")+4 : len(legacyLine)-1]
	res, err := http.Post(base+"/op/v2/receives", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"code":200`) || !strings.Contains(string(body), "阿洋") {
		t.Fatalf("the printed legacy curl does not work: %s", body)
	}
	// The demo data has more than the fixture: other OPs with chats.
	q := url.Values{"query": {`{ me { name chats { id } } }`}}
	req, _ := http.NewRequest(http.MethodGet, base+"/query?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"name":"小李"`) {
		t.Fatalf("GET query with the demo token: %s", body)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v after a clean stop", err)
	}

	before := countRows(t, db)
	banner, _, stop = startRun(t, "-db", db, "-legacy-sign=false")
	if strings.Contains(strings.Join(banner, "\n"), "Demo data was created") {
		t.Errorf("the second start created demo data again:\n%s", strings.Join(banner, "\n"))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if after := countRows(t, db); after != before {
		t.Fatalf("the second start changed the database: %d rows before, %d after", before, after)
	}
}

// TestRunRefusesAMissingDatabaseWithoutDemo: a database file named by
// -db or FACADE_DB that does not exist is refused, as a usage error that
// says how to get one, and is not created.
func TestRunRefusesAMissingDatabaseWithoutDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "missing.db")
	for _, start := range []struct {
		args   []string
		getenv func(string) string
		vars   []string
	}{
		{[]string{"-db", db}, func(string) string { return "" }, nil},
		{[]string{"-db", db, "-demo=false"}, func(string) string { return "" }, nil},
		{nil, func(n string) string { return map[string]string{"FACADE_DB": db}[n] }, []string{"FACADE_DB=" + db}},
	} {
		err := run(context.Background(), append(start.args, "-addr", "127.0.0.1:0"), start.getenv, func() []string { return start.vars }, io.Discard, io.Discard)
		if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "-demo") || !strings.Contains(err.Error(), "opfacade init-db -db "+db) {
			t.Errorf("%q %q: run = %v, want a usage error saying how to get a database", start.args, start.vars, err)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Fatalf("%q %q: the refused start created %s", start.args, start.vars, db)
		}
	}
}

func countRows(t *testing.T, db string) int {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.DB().Get(&n, `SELECT (SELECT COUNT(*) FROM op_staff) + (SELECT COUNT(*) FROM op_chat) + (SELECT COUNT(*) FROM app_user) + (SELECT COUNT(*) FROM user_order)`); err != nil {
		t.Fatal(err)
	}
	return n
}
