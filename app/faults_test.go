package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the locking connection of the fault tests

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/store"
)

// boundedClient is a client whose requests fail the test instead of
// hanging: the bound is generous, it only catches a request that waits
// for the database instead of for its deadline.
func boundedClient(s *apptest.Server) *http.Client {
	c := *s.Client()
	c.Timeout = 30 * time.Second
	return &c
}

// probe asks both front doors for 小李's chats and reports what they
// answered: the GraphQL error code ("" on success) and the legacy code.
func probe(t testing.TB, s *apptest.Server) (gqlCode string, legacyCode int) {
	t.Helper()
	c := boundedClient(s)
	body := `{"query":"{ me { chats { id } } }"}`
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GraphQL request did not finish: %v", err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var g apptest.GraphQLResponse
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("GraphQL: HTTP %d, not JSON: %s", res.StatusCode, raw)
	}
	switch {
	case len(g.Errors) > 0:
		gqlCode, _ = g.Errors[0].Extensions["code"].(string)
		if res.StatusCode != 200 && res.StatusCode != 503 {
			t.Errorf("GraphQL: HTTP %d: %s", res.StatusCode, raw)
		}
	case !bytes.Contains(raw, []byte("u0001d68d5da979194a4b831097de49db3dd2")):
		t.Fatalf("GraphQL: wrong data: %s", raw)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/op/v2/receives", strings.NewReader(apptest.Signed(apptest.TokenLi).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = c.Do(req)
	if err != nil {
		t.Fatalf("legacy request did not finish: %v", err)
	}
	raw, _ = io.ReadAll(res.Body)
	res.Body.Close()
	var l apptest.LegacyResponse
	if err := json.Unmarshal(raw, &l); err != nil || res.StatusCode != 200 {
		t.Fatalf("legacy: HTTP %d: %s", res.StatusCode, raw)
	}
	if l.Code == 503 && l.Message != "服务繁忙" || l.Code == 200 && !bytes.Contains(raw, []byte("u0001d68d5da979194a4b831097de49db3dd2")) {
		t.Fatalf("legacy: %s", raw)
	}
	return gqlCode, l.Code
}

// wantServing and wantUnavailable check both front doors at once.
func wantServing(t testing.TB, s *apptest.Server, when string) {
	t.Helper()
	if g, l := probe(t, s); g != "" || l != 200 {
		t.Fatalf("%s: GraphQL %q, legacy %d; want both served", when, g, l)
	}
}

func wantUnavailable(t testing.TB, s *apptest.Server, when string) {
	t.Helper()
	if g, l := probe(t, s); g != "SERVICE_UNAVAILABLE" || l != 503 {
		t.Fatalf("%s: GraphQL %q, legacy %d; want SERVICE_UNAVAILABLE and 503", when, g, l)
	}
}

// TestDatabaseLocked holds an exclusive lock on the database from another
// connection, as a writer of the platform would. The busy timeout is set
// to ten minutes, so only the request deadline can end the wait: both
// front doors must answer "unavailable" within the client's bound, and
// serve again once the lock is gone.
func TestDatabaseLocked(t *testing.T) {
	path := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	// A rollback journal: an exclusive lock there keeps readers out (in
	// WAL mode a writer never blocks readers).
	dsn := "file:" + path + "?_journal_mode=DELETE&_busy_timeout=600000"
	srv := apptest.NewServer(t, apptest.Config(t, dsn, apptest.LegacyExample, func(c *app.Config) { c.Limits.Timeout = time.Second }))
	wantServing(t, srv, "before the lock")

	locker, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=DELETE")
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 3 { // more requests than one: later ones queue for connections
		wantUnavailable(t, srv, "while locked")
	}
	t.Logf("three rounds of requests answered unavailable in %v", time.Since(start))

	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	wantServing(t, srv, "after the lock")
	// The lock is one outage: a line when it starts and one when it ends,
	// none per request the deadline answered.
	logs := srv.Logs.String()
	if strings.Count(logs, "level=ERROR") != 1 || !strings.Contains(logs, "database unavailable") || !strings.Contains(logs, "database available again") {
		t.Errorf("the log does not tell the outage in two lines:\n%s", logs)
	}
}

// slowStore waits for its caller's deadline before reading chats, then
// reads with the expired context, as a query the deadline cancels would.
type slowStore struct {
	*store.Store
	sawDeadline atomic.Bool
}

func (s *slowStore) ChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) ([]domain.Chat, []domain.User, error) {
	_, ok := ctx.Deadline()
	s.sawDeadline.Store(ok)
	<-ctx.Done()
	return s.Store.ChatsByStaff(ctx, staffID, f)
}

// TestRequestDeadlineReachesTheDatabase checks that the database calls of
// both front doors carry the request's deadline, and that a query cut by
// it is SERVICE_UNAVAILABLE / 服务繁忙.
func TestRequestDeadlineReachesTheDatabase(t *testing.T) {
	var slow *slowStore
	srv := apptest.NewServerOver(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LegacyExample, func(c *app.Config) { c.Limits.Timeout = 200 * time.Millisecond }),
		func(st *store.Store) app.Backend { slow = &slowStore{Store: st}; return slow })
	wantUnavailable(t, srv, "with a query slower than the deadline")
	if !slow.sawDeadline.Load() {
		t.Fatal("the store's context has no deadline")
	}
	// The store itself calls a query cut by the deadline unavailable.
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, _, err := srv.Store.ChatsByStaff(ctx, apptest.StaffLi, domain.ChatFilter{Statuses: []string{domain.ChatService}})
	if domain.Code(err) != domain.EUNAVAILABLE {
		t.Fatalf("a query past its deadline: %v, want unavailable", err)
	}
}

// panicStore panics in the method named by where, once: the calls after
// the first reach the database, so the server can be seen to serve again.
type panicStore struct {
	*store.Store
	where    string
	panicked atomic.Bool
}

func (p *panicStore) check(method string) {
	if p.where == method && p.panicked.CompareAndSwap(false, true) {
		panic("injected fault in " + method)
	}
}

func (p *panicStore) StaffByToken(ctx context.Context, token string) (domain.Staff, error) {
	p.check("StaffByToken")
	return p.Store.StaffByToken(ctx, token)
}

func (p *panicStore) ClientByID(ctx context.Context, id string) (domain.Client, error) {
	p.check("ClientByID")
	return p.Store.ClientByID(ctx, id)
}

func (p *panicStore) ChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) ([]domain.Chat, []domain.User, error) {
	p.check("ChatsByStaff")
	return p.Store.ChatsByStaff(ctx, staffID, f)
}

func (p *panicStore) Ready(ctx context.Context) error {
	p.check("Ping")
	return p.Store.Ready(ctx)
}

// TestPanicsAnswered panics at each place a request reaches the store,
// through the real middleware chain: every answer is clean, says nothing
// of the panic, and the stack reaches the log.
func TestPanicsAnswered(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	// gqlgen's handler answers a panic around the operation itself, with
	// the same error as the HTTP-level guard (api's tests check that one).
	const internal = `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`
	tests := []struct {
		where      string
		path       string
		wantStatus int
		wantBody   string // exact, or "" to check legacyCode/gqlPartial
		legacyCode int
	}{
		// The token check runs before execution: the whole request fails.
		{"StaffByToken", "/query", 500, internal, 0},
		{"Ping", "/readyz", 500, "internal error\n", 0},
		{"ClientByID", "/op/v2/receives", 200, "", 500},
		{"StaffByToken", "/op/v2/receives", 200, "", 500},
		{"ChatsByStaff", "/op/v2/receives", 200, "", 500},
		// A resolver's panic is that field's error; the response stands.
		{"ChatsByStaff", "/query", 200, `{"errors":[{"message":"internal error","path":["me","chats"],"extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.where+" "+tt.path, func(t *testing.T) {
			var ps *panicStore
			srv := apptest.NewServerOver(t, apptest.Config(t, db, apptest.LegacyExample), func(st *store.Store) app.Backend { ps = &panicStore{Store: st, where: tt.where}; return ps })
			var req *http.Request
			switch tt.path {
			case "/query":
				req, _ = http.NewRequest(http.MethodPost, srv.URL+tt.path, strings.NewReader(`{"query":"{ me { chats { id } } }"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
			case "/op/v2/receives":
				req, _ = http.NewRequest(http.MethodPost, srv.URL+tt.path, strings.NewReader(apptest.Signed(apptest.TokenLi).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			default:
				req, _ = http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			}
			res, err := boundedClient(srv).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("HTTP %d, want %d: %s", res.StatusCode, tt.wantStatus, raw)
			}
			if tt.wantBody != "" && string(raw) != tt.wantBody {
				t.Fatalf("body %s\nwant %s", raw, tt.wantBody)
			}
			if tt.legacyCode != 0 {
				var l apptest.LegacyResponse
				if err := json.Unmarshal(raw, &l); err != nil || l.Code != tt.legacyCode || l.Message != "系统错误" || string(l.Data) != "null" {
					t.Fatalf("legacy answer %s", raw)
				}
			}
			if bytes.Contains(raw, []byte("injected")) || bytes.Contains(raw, []byte("goroutine")) {
				t.Fatalf("the answer shows the panic: %s", raw)
			}
			logs := srv.Logs.String()
			if !strings.Contains(logs, "injected fault in "+tt.where) || !strings.Contains(logs, "goroutine") {
				t.Fatalf("the panic and its stack must reach the log:\n%s", logs)
			}
			if !ps.panicked.Load() {
				t.Fatalf("no panic in %s", tt.where)
			}
			// The server goes on serving: both front doors read 小李's
			// chats from the database, and it is ready.
			wantServing(t, srv, "after a panic in "+tt.where)
			res, err = boundedClient(srv).Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("after a panic in %s: /readyz HTTP %d", tt.where, res.StatusCode)
			}
		})
	}
}
