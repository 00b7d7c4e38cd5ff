package app_test

import (
	"bufio"
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"opfacade/app"
	"opfacade/app/apptest"
)

// statusesQuery lists the caller's chats of the given statuses; each list
// length and order a client sends is a distinct request shape.
const statusesQuery = `query($s: [ChatStatus!]!) { me { chats(status: $s) { id } } }`

// statusShapes returns n status lists of every length from 1 to n, with
// duplicates and every order: what a hostile client sends to make each
// request a new SQL text.
func statusShapes(n int) [][]any {
	all := []string{"WAIT", "SERVICE", "CLOSED", "UNKNOWN"}
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]any, n)
	for i := range out {
		list := make([]any, i+1)
		for j := range list {
			list[j] = all[r.IntN(len(all))]
		}
		out[i] = list
	}
	return out
}

// TestStatementsStayBounded sends thousands of distinct status lists and
// checks that the database's prepared statements and the server's memory
// stay bounded: every statement the store prepares comes from a small set
// of texts, and none is left open. On MariaDB it reads the server's
// Prepared_stmt_count; on SQLite, where statements live in the process,
// the process's resident memory.
func TestStatementsStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends thousands of requests")
	}
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		// Thousands of requests of one token: far over its fair share.
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), apptest.NoRateLimit, func(c *app.Config) { c.Store.MaxOpenConns = 2 }))
		open := openStatements(t, e)
		send := func(lists [][]any) {
			t.Helper()
			for _, l := range lists {
				res, raw := srv.GraphQL(t, apptest.TokenLi, statusesQuery, map[string]any{"s": l})
				if len(res.Errors) > 0 {
					t.Fatalf("errors: %s", raw)
				}
			}
		}
		// Warm up: every shape once, so what is cached is cached.
		shapes := statusShapes(600)
		send(shapes)
		openBefore, rssBefore := open(), residentBytes(t)
		for range 6 {
			send(shapes)
		}
		openAfter, rssAfter := open(), residentBytes(t)
		t.Logf("prepared statements %d → %d; resident memory %d MB → %d MB", openBefore, openAfter, rssBefore>>20, rssAfter>>20)
		// Without the bound, each of the 3,600 requests leaves a statement
		// open: thousands, and on SQLite hundreds of megabytes. The count
		// is the whole server's, and other packages' tests run beside
		// this one, each store holding a few dozen: the margin allows for
		// them, far below what a leak shows.
		if openAfter-openBefore > 400 {
			t.Errorf("prepared statements grew from %d to %d over 3,600 requests", openBefore, openAfter)
		}
		if grew := rssAfter - rssBefore; grew > 32<<20 {
			t.Errorf("resident memory grew by %d MB over 3,600 requests", grew>>20)
		}
	})
}

// openStatements returns a function that counts the prepared statements
// the database holds: on MariaDB, the server's Prepared_stmt_count (every
// client's, so the test compares before and after); on SQLite, zero (the
// statements live in the process and show in its memory).
func openStatements(t *testing.T, e apptest.Engine) func() int {
	if e.Name != "mysql" {
		return func() int { return 0 }
	}
	cfg, err := mysql.ParseDSN(os.Getenv("MYSQL_TEST_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return func() int {
		var name string
		var n int
		if err := db.QueryRowContext(context.Background(), "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'").Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// residentBytes is the test process's resident memory after a GC, read
// from /proc (Linux); SQLite's statements are C memory the Go heap does
// not count.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	// What the collector freed goes back to the system first: resident
	// memory is then what is held (the statements SQLite keeps in C
	// among it), not what the scavenger has yet to return, which varies
	// with how busy the machine is.
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
