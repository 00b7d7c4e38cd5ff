package app_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/store"
)

// The tests of this file hold the facade to the SQLite file it was started
// on, whatever an operator does to it while it serves: with connections
// pooled for good (the default), a file that is replaced, deleted, made
// unreadable or corrupted must be noticed at the first request once the
// store's file check is due (store.FileCheckInterval), and a file put back
// at the next request.

// waitFileCheck waits until the store's next request checks its file: a
// check is due FileCheckInterval after the last, which came before what
// the caller did to the file.
func waitFileCheck() { time.Sleep(store.FileCheckInterval) }

// titlesQuery reads 小李's chat titles, which tell the fixture's files apart.
const titlesQuery = `{ me { chats { title } } }`

// fileOf names the file an answer came from: "old", "new", or the answer
// itself when it is neither.
func fileOf(t testing.TB, srv *apptest.Server) string {
	t.Helper()
	res, raw := srv.GraphQL(t, apptest.TokenLi, titlesQuery, nil)
	switch {
	case len(res.Errors) > 0:
		return string(raw)
	case strings.Contains(string(raw), "from the new file"):
		return "new"
	default:
		return "old"
	}
}

// TestSQLiteFileReplaced moves another database into the served file's
// place, as restoring a backup does, while many clients hold pooled
// connections to the old one: from the first request once the file check
// is due, every answer comes from the new file.
func TestSQLiteFileReplaced(t *testing.T) {
	path := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	next := apptest.NewSQLiteDB(t, append(apptest.FixtureScripts(), `UPDATE op_chat SET title = 'from the new file'`)...)
	srv := apptest.NewServer(t, apptest.Config(t, path, apptest.NoRateLimit)) // hundreds of requests of one token at once

	// Every pooled connection opens the old file.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if f := fileOf(t, srv); f != "old" {
					t.Errorf("before the move: %s", f)
				}
			}
		})
	}
	wg.Wait()
	if open := srv.Store.DB().Stats().OpenConnections; open < 2 {
		t.Fatalf("only %d pooled connections: the test needs several", open)
	}

	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	waitFileCheck()
	counts := map[string]int{}
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for range 50 {
				f := fileOf(t, srv)
				mu.Lock()
				counts[f]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if counts["new"] != 400 {
		t.Errorf("after the move, answers by file: %v; want all 400 from the new file", counts)
	}
	if !strings.Contains(srv.Logs.String(), "the database file was replaced") {
		t.Errorf("the log does not say the file was replaced:\n%s", srv.Logs.String())
	}
}

// TestSQLiteFileTakenAway deletes the served file, then makes it
// unreadable, then corrupts it, with connections pooled for good: each is
// an outage (SERVICE_UNAVAILABLE, legacy 503, /readyz 503) that ends,
// unrestarted, when the file is mended; no empty database is ever created
// in its place; and the log says so in a few lines, not one a request.
func TestSQLiteFileTakenAway(t *testing.T) {
	path := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, path, apptest.LegacyExample, apptest.NoRateLimit, // 60 failures in a row, as fast as they come
		func(c *app.Config) { c.Store.OutageSummary = time.Hour }))
	wantServing(t, srv, "at first")
	wantReady(t, srv, http.StatusOK, "at first")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	outage := func(when string, mend func()) {
		t.Helper()
		waitFileCheck()
		for range 20 {
			wantUnavailable(t, srv, when)
		}
		wantReady(t, srv, http.StatusServiceUnavailable, when)
		mend()
		wantServing(t, srv, when+", mended")
		wantReady(t, srv, http.StatusOK, when+", mended")
	}

	aside := path + ".aside"
	if err := os.Rename(path, aside); err != nil {
		t.Fatal(err)
	}
	outage("with the file gone", func() {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the server created a database in place of the missing one: %v", err)
		}
		if err := os.Rename(aside, path); err != nil {
			t.Fatal(err)
		}
	})

	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	outage("with the file unreadable", func() {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	// Random bytes over the start of the file, in place: the same file,
	// its header and first pages garbage.
	if err := overwrite(path, randomBytes(t, 160<<10)); err != nil {
		t.Fatal(err)
	}
	outage("with the file corrupt", func() {
		// A mended copy moved into place, as an operator restores one.
		if err := os.WriteFile(aside, good, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(aside, path); err != nil {
			t.Fatal(err)
		}
	})

	logs := srv.Logs.String()
	for _, want := range []string{"no such file or directory", "permission denied", "(database disk image is malformed|file is not a database)"} {
		if !regexp.MustCompile(want).MatchString(logs) {
			t.Errorf("the log lacks the cause %q:\n%s", want, logs)
		}
	}
	// Three outages of 20 requests on each front door and two readiness
	// probes: three lines when they start, three when they end, none per
	// request.
	if n := len(regexp.MustCompile(`level=ERROR`).FindAllString(logs, -1)); n != 3 {
		t.Errorf("%d ERROR lines for three outages; want 3:\n%s", n, logs)
	}
	if n := strings.Count(logs, "database available again"); n != 3 {
		t.Errorf("%d lines say the database is back after three outages; want 3:\n%s", n, logs)
	}
}

// TestOutageSummed checks the summary lines while an outage lasts: the
// failures they count add up to every failed statement but the first,
// which the opening line reports.
func TestOutageSummed(t *testing.T) {
	path := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, path, apptest.LegacyExample, func(c *app.Config) { c.Store.OutageSummary = 20 * time.Millisecond }))
	wantServing(t, srv, "at first")
	if err := os.Rename(path, path+".aside"); err != nil {
		t.Fatal(err)
	}
	waitFileCheck()
	// Each probe fails two statements (a token check on each front door).
	const probes = 10
	for range probes {
		wantUnavailable(t, srv, "with the file gone")
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.Rename(path+".aside", path); err != nil {
		t.Fatal(err)
	}
	wantServing(t, srv, "with the file back")

	logs := srv.Logs.String()
	summed := 0
	for _, m := range regexp.MustCompile(`database still unavailable.*failures=(\d+)`).FindAllStringSubmatch(logs, -1) {
		summed += atoi(t, m[1])
	}
	back := regexp.MustCompile(`database available again.*failures=(\d+)`).FindStringSubmatch(logs)
	if back == nil {
		t.Fatalf("no line says the database is back:\n%s", logs)
	}
	total := atoi(t, back[1])
	if total != 2*probes {
		t.Errorf("the closing line counts %d failures; want %d", total, 2*probes)
	}
	if summed == 0 || summed >= total {
		t.Errorf("the summaries count %d failures of %d: want some, and fewer than all (the first opens the outage)\n%s", summed, total, logs)
	}
}

func wantReady(t testing.TB, s *apptest.Server, status int, when string) {
	t.Helper()
	res, err := boundedClient(s).Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != status {
		t.Fatalf("%s: /readyz answered %d, want %d", when, res.StatusCode, status)
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// overwrite writes b over the start of the file at path, in place.
func overwrite(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// swappingStore moves another database into place in the middle of a
// request: after the token check, before the chats are read.
type swappingStore struct {
	*store.Store
	path, next string
	once       sync.Once
}

func (s *swappingStore) ChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) ([]domain.Chat, []domain.User, error) {
	s.once.Do(func() {
		if err := os.Rename(s.next, s.path); err != nil {
			panic(err)
		}
	})
	return s.Store.ChatsByStaff(ctx, staffID, f)
}

// TestSQLiteFileReplacedMidRequest replaces the file between two
// statements of one request: the request is answered from the old file
// alone, not from both, and the next one the file check sees from the
// new file.
func TestSQLiteFileReplacedMidRequest(t *testing.T) {
	path := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	next := apptest.NewSQLiteDB(t, append(apptest.FixtureScripts(), `UPDATE op_chat SET title = 'from the new file'`)...)
	srv := apptest.NewServerOver(t, apptest.Config(t, path), func(st *store.Store) app.Backend {
		return &swappingStore{Store: st, path: path, next: next}
	})
	res, raw := srv.GraphQL(t, apptest.TokenLi, titlesQuery, nil)
	if len(res.Errors) != 0 || strings.Contains(string(raw), "from the new file") || !strings.Contains(string(raw), `"title"`) {
		t.Fatalf("the request that saw the file replaced answered %s; want the old file's chats alone", raw)
	}
	waitFileCheck()
	if f := fileOf(t, srv); f != "new" {
		t.Errorf("the next request: %s, want the new file", f)
	}
}
