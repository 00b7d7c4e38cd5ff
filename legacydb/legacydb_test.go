package legacydb_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3"

	"opfacade/legacydb"
)

// The handles callers pass to Exec.
var (
	_ legacydb.Execer = (*sql.DB)(nil)
	_ legacydb.Execer = (*sql.Tx)(nil)
	_ legacydb.Execer = (*sqlx.DB)(nil)
)

// fixtureRows is what example-fixture.sql puts in each table.
var fixtureRows = map[string]int{
	"op_staff": 3, "app_user": 5, "op_chat": 7, "user_order": 4,
	"service_order": 3, "api_client": 2, "op_token": 4,
}

// openSQLite opens a new SQLite database file, with Schema loaded.
func openSQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(tb.TempDir(), "legacy.db")+"?_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	mustExec(tb, db, legacydb.Schema)
	return db
}

func mustExec(tb testing.TB, db legacydb.Execer, script string) {
	tb.Helper()
	if err := legacydb.Exec(context.Background(), db, script); err != nil {
		tb.Fatal(err)
	}
}

// count runs a query that returns one number.
func count(tb testing.TB, db *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestEmbeddedFilesMatchShared(t *testing.T) {
	for name, embedded := range map[string]string{"schema.sql": legacydb.Schema, "example-fixture.sql": legacydb.ExampleFixture} {
		shared, err := os.ReadFile(filepath.Join("..", "..", "shared", "legacy", name))
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("no shared/legacy/%s beside this checkout to compare with", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(shared) != embedded {
			t.Errorf("sql/%s differs from shared/legacy/%s", name, name)
		}
	}
}

// recorder is an Execer that keeps the statements it is given.
type recorder struct {
	stmts  []string
	failAt int // 1-based statement that fails; 0 for none
}

var errRecorder = errors.New("recorder failure")

func (r *recorder) ExecContext(_ context.Context, query string, _ ...any) (sql.Result, error) {
	r.stmts = append(r.stmts, query)
	if len(r.stmts) == r.failAt {
		return nil, errRecorder
	}
	return nil, nil
}

func TestExecSplitsStatements(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string
	}{
		{"plain", "CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n", []string{"CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"}},
		{"last without semicolon", "SELECT 1;\n  SELECT 2  \n", []string{"SELECT 1", "SELECT 2"}},
		{"semicolon in quotes", "INSERT INTO t VALUES ('a;b');SELECT 1", []string{"INSERT INTO t VALUES ('a;b')", "SELECT 1"}},
		{"doubled quote", "INSERT INTO t VALUES ('it''s; ok', 'x');", []string{"INSERT INTO t VALUES ('it''s; ok', 'x')"}},
		{"empty string then semicolon", "SELECT '';SELECT ''''", []string{"SELECT ''", "SELECT ''''"}},
		{"dashes in quotes", "SELECT '-- not a comment;'", []string{"SELECT '-- not a comment;'"}},
		{"comment with quote and semicolon", "-- the users' chats; all of them\nSELECT 1; -- done; 'x\n", []string{"SELECT 1"}},
		{"comment inside a statement", "INSERT INTO t VALUES\n  -- first row\n  (1),\n  (2);", []string{"INSERT INTO t VALUES\n  \n  (1),\n  (2)"}},
		{"comment at the end without newline", "SELECT 1 -- bye", []string{"SELECT 1"}},
		{"empty statements", ";;\n;  -- nothing\n;", nil},
		{"double-quoted and backquoted", "SELECT \"a;b\", `c;d`;", []string{"SELECT \"a;b\", `c;d`"}},
		{"multibyte", "INSERT INTO t VALUES ('小美🌸;');", []string{"INSERT INTO t VALUES ('小美🌸;')"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			if err := legacydb.Exec(context.Background(), &r, tt.script); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.stmts); diff != "" {
				t.Errorf("statements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecNamesFailingStatement(t *testing.T) {
	r := recorder{failAt: 2}
	err := legacydb.Exec(context.Background(), &r, "SELECT 1; SELECT 2; SELECT 3;")
	if !errors.Is(err, errRecorder) || !strings.Contains(err.Error(), "statement 2") {
		t.Errorf("err = %v, want the recorder's failure at statement 2", err)
	}
	if len(r.stmts) != 2 {
		t.Errorf("ran %d statements, want to stop after 2", len(r.stmts))
	}
}

func TestSchemaAndFixtureLoad(t *testing.T) {
	db := openSQLite(t)
	mustExec(t, db, legacydb.ExampleFixture)
	got := map[string]int{}
	for table := range fixtureRows {
		got[table] = count(t, db, "SELECT COUNT(*) FROM "+table)
	}
	if diff := cmp.Diff(fixtureRows, got); diff != "" {
		t.Errorf("rows per table (-want +got):\n%s", diff)
	}
	var nick string
	if err := db.QueryRow("SELECT nick_name FROM app_user WHERE user_id = 'u00013058217037704c358367f6e1fd1da545'").Scan(&nick); err != nil || nick != "阿洋" {
		t.Errorf("fixture user's nick_name = %q, %v; want 阿洋", nick, err)
	}
}
