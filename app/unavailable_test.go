package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/store"
)

// failingStore fails one method with a MySQL server error, as the store
// returns it: classified unavailable, the driver's error kept as the cause
// for the log (store's TestMySQLServerErrorsAreUnavailable checks that the
// store classifies each of these numbers so).
type failingStore struct {
	*store.Store
	where  string
	number uint16
}

func (f *failingStore) fail(method string) error {
	if f.where != method {
		return nil
	}
	cause := &mysql.MySQLError{Number: f.number, Message: fmt.Sprintf("injected server error %d", f.number)}
	return domain.Wrap(domain.EUNAVAILABLE, fmt.Errorf("%s: %w", method, cause), "the database is unavailable")
}

func (f *failingStore) StaffByToken(ctx context.Context, token string) (domain.Staff, error) {
	if err := f.fail("StaffByToken"); err != nil {
		return domain.Staff{}, err
	}
	return f.Store.StaffByToken(ctx, token)
}

func (f *failingStore) ClientByID(ctx context.Context, id string) (domain.Client, error) {
	if err := f.fail("ClientByID"); err != nil {
		return domain.Client{}, err
	}
	return f.Store.ClientByID(ctx, id)
}

func (f *failingStore) StaffByIDs(ctx context.Context, ids []string) (map[string]domain.Staff, error) {
	if err := f.fail("StaffByIDs"); err != nil {
		return nil, err
	}
	return f.Store.StaffByIDs(ctx, ids)
}

func (f *failingStore) ChatsByStaff(ctx context.Context, staffID string, fl domain.ChatFilter) ([]domain.Chat, []domain.User, error) {
	if err := f.fail("ChatsByStaff"); err != nil {
		return nil, nil, err
	}
	return f.Store.ChatsByStaff(ctx, staffID, fl)
}

func (f *failingStore) GradesByUserIDs(ctx context.Context, ids []string) (map[string]domain.Grade, error) {
	if err := f.fail("GradesByUserIDs"); err != nil {
		return nil, err
	}
	return f.Store.GradesByUserIDs(ctx, ids)
}

// TestMySQLServerErrorsAnswerUnavailable fails each store method a request
// reaches with each MySQL server error that means "not now": GraphQL
// answers SERVICE_UNAVAILABLE (HTTP 200: the request deadline did not
// pass, see the README's error table) and the legacy path 503 服务繁忙,
// and neither shows the database's words.
func TestMySQLServerErrorsAnswerUnavailable(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	// An ADMIN asks for 小李's chats with their users' grades: the token,
	// the OP by id, the chats and the grades are read, in that order; the
	// legacy request reads its API client first.
	query := fmt.Sprintf(`{ staff(id: %q) { id chats { id user { grade { chatCount } } } } }`, apptest.StaffLi)
	legacyParams := apptest.Signed(apptest.TokenAdmin, "staffId", apptest.StaffLi)
	for _, number := range []uint16{1040, 1205, 1213, 1317, 1969, 3024, 2013} {
		for _, method := range []string{"StaffByToken", "ClientByID", "StaffByIDs", "ChatsByStaff", "GradesByUserIDs"} {
			t.Run(fmt.Sprintf("%d in %s", number, method), func(t *testing.T) {
				fs := &failingStore{where: method, number: number}
				srv := apptest.NewServerOver(t, apptest.Config(t, db, apptest.LegacyExample), func(st *store.Store) app.Backend { fs.Store = st; return fs })
				if method != "ClientByID" { // GraphQL never reads API clients
					status, raw := srv.RawDo(t, "POST", "/query", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + apptest.TokenAdmin},
						bytes.NewReader(fmt.Appendf(nil, `{"query":%q}`, query)))
					var res apptest.GraphQLResponse
					if err := json.Unmarshal(raw, &res); err != nil {
						t.Fatalf("GraphQL: HTTP %d, %v: %s", status, err, raw)
					}
					if status != 200 || len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" ||
						res.Errors[0].Message != "the database is unavailable" {
						t.Errorf("GraphQL: HTTP %d %s; want 200 and SERVICE_UNAVAILABLE", status, raw)
					}
					if d := string(res.Data); d != "" && d != "null" && d != `{"staff":null}` {
						t.Errorf("GraphQL: data %s beside the error, want none", d)
					}
					if bytes.Contains(raw, []byte("injected")) || bytes.Contains(raw, []byte("Error ")) {
						t.Errorf("GraphQL shows the database's error: %s", raw)
					}
				}
				res, raw := srv.LegacyForm(t, legacyParams)
				if res.Code != 503 || res.Message != "服务繁忙" || string(res.Data) != "null" {
					t.Errorf("legacy: %s; want 503 服务繁忙", raw)
				}
				if bytes.Contains(raw, []byte("injected")) {
					t.Errorf("legacy shows the database's error: %s", raw)
				}
			})
		}
	}
	// The same requests succeed when nothing fails: the failures above
	// were the injected ones.
	srv := apptest.NewServerOver(t, apptest.Config(t, db, apptest.LegacyExample), func(st *store.Store) app.Backend { return &failingStore{Store: st} })
	res, raw := srv.GraphQL(t, apptest.TokenAdmin, query, nil)
	if len(res.Errors) > 0 || !bytes.Contains(raw, []byte(`"chatCount":3`)) {
		t.Fatalf("GraphQL without a fault: %s", raw)
	}
	if l, raw := srv.LegacyForm(t, legacyParams); l.Code != 200 {
		t.Fatalf("legacy without a fault: %s", raw)
	}
}

// TestMariaDBInterruptedStatementsAnswerUnavailable makes MariaDB itself
// end the facade's statements, without changing them: another session
// holds a write lock on op_chat, so the chats statement waits for it, and
// then either the session's max_statement_time (a DSN parameter) ends it
// with Error 1969, or an operator's KILL QUERY ends it with Error 1317.
// Both front doors answer "unavailable" at once, well before the request
// deadline, and serve again when the lock is gone.
func TestMariaDBInterruptedStatementsAnswerUnavailable(t *testing.T) {
	apptest.NeedMySQL(t)
	db := apptest.NewMySQLDB(t, apptest.FixtureScripts()...)
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(db, "mysql://"))
	if err != nil {
		t.Fatal(err)
	}
	locker, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	ctx := context.Background()
	lock, err := locker.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()

	const deadline = 20 * time.Second // far beyond what each case waits
	type outcome struct {
		gqlStatus int
		gqlRaw    []byte
		legacy    apptest.LegacyResponse
		legacyRaw []byte
	}
	// ask sends both front doors' requests for 小李's chats at once and,
	// while they wait, runs interrupt; it returns what they answered.
	ask := func(t *testing.T, srv *apptest.Server, interrupt func(t *testing.T)) outcome {
		t.Helper()
		var out outcome
		var wg sync.WaitGroup
		wg.Go(func() {
			out.gqlStatus, out.gqlRaw = srv.RawDo(t, "POST", "/query", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + apptest.TokenLi},
				strings.NewReader(`{"query":"{ me { chats { id } } }"}`))
		})
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(apptest.Signed(apptest.TokenLi).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			out.legacy, out.legacyRaw = srv.LegacyDo(t, req)
		})
		interrupt(t)
		wg.Wait()
		return out
	}
	// waiting returns the ids of the server's sessions that wait for the lock.
	waiting := func(t *testing.T, n int) []int64 {
		t.Helper()
		for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
			var ids []int64
			rows, err := locker.QueryContext(ctx, `SELECT id FROM information_schema.processlist
				WHERE db = ? AND id <> CONNECTION_ID() AND state LIKE 'Waiting for table%'`, cfg.DBName)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			rows.Close()
			if len(ids) >= n {
				return ids
			}
		}
		t.Fatalf("the server's statements never waited for the lock")
		return nil
	}

	tests := []struct {
		name      string
		params    string // DSN parameters of the server
		interrupt func(t *testing.T)
		want      string // the MariaDB error number the log shows
	}{
		{"max_statement_time (Error 1969)", "max_statement_time=0.5", func(*testing.T) {}, "1969"},
		{"KILL QUERY (Error 1317)", "", func(t *testing.T) {
			for _, id := range waiting(t, 2) {
				if _, err := locker.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", id)); err != nil {
					t.Fatal(err)
				}
			}
		}, "1317"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := db
			if tt.params != "" {
				dsn = withParams(db, tt.params)
			}
			srv := apptest.NewServer(t, apptest.Config(t, dsn, apptest.LegacyExample, func(c *app.Config) { c.Limits.Timeout = deadline }))
			wantServing(t, srv, "before the lock")
			if _, err := lock.ExecContext(ctx, "LOCK TABLES op_chat WRITE"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out := ask(t, srv, tt.interrupt)
			took := time.Since(start)
			if _, err := lock.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
				t.Fatal(err)
			}
			var g apptest.GraphQLResponse
			if err := json.Unmarshal(out.gqlRaw, &g); err != nil || out.gqlStatus != 200 || len(g.Errors) == 0 || g.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" {
				t.Errorf("GraphQL: HTTP %d %s; want 200 and SERVICE_UNAVAILABLE", out.gqlStatus, out.gqlRaw)
			}
			if out.legacy.Code != 503 || out.legacy.Message != "服务繁忙" {
				t.Errorf("legacy: %s; want 503 服务繁忙", out.legacyRaw)
			}
			if took > deadline/2 {
				t.Errorf("the answers took %v: the request deadline answered, not the database's error", took)
			}
			if !strings.Contains(srv.Logs.String(), tt.want) {
				t.Errorf("the log does not show Error %s:\n%s", tt.want, srv.Logs.String())
			}
			wantServing(t, srv, "after the lock")
		})
	}
}
