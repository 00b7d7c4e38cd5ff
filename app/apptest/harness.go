// Package apptest is the test harness of the facade's packages, as
// net/http/httptest is of net/http: databases on each engine the facade
// runs on, the fixtures' rows, a server of the real routes (app.Handler)
// on a loopback port, and the requests and comparisons the tests of
// several packages share. It is imported by tests only; since it imports
// app, a package app builds on tests itself from an external test package
// (package legacy_test, package api_test).
package apptest

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"

	"opfacade/legacydb"
	"opfacade/store"
)

// Tokens and ids of the fixtures' OPs and API clients: the example
// fixture's (legacydb.ExampleFixture) and the extra fixture's.
const (
	TokenLi      = "o0001403351be22c648efa24c20e842fd7351" // 小李, OP, serves the example's four chats
	TokenWang    = "o0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50" // 小王, OP
	TokenAdmin   = "o0001c9d8e7f6a5b44c3d2e1f0a9b8c7d6e51" // 张主管, ADMIN, no chats
	TokenExpired = "o0001000000000000000000000000expired"
	TokenZhao    = "o0001ffff000000000000000000000000001" // 小赵, OP, no chats (extra fixture)
	TokenGhost   = "o0001ffff0000000000000000000000ghost" // names no OP (extra fixture)

	StaffLi    = "u0001a5f0c3d2e1b04c7e9f8a6b5c4d3e2f10"
	StaffWang  = "u0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50"
	StaffAdmin = "u0001c9d8e7f6a5b44c3d2e1f0a9b8c7d6e51"

	ClientID       = "b2736195b38346639463ee889d6b8ff4" // the legacy v2 client of the contract's example
	ClientSecret   = "5e8dd316726b0335fcdb27a4d3c2a9b7"
	ClientDisabled = "a0000000000000000000000000000dead"
)

// extraFixture holds the edge cases the example fixture does not cover.
// It is embedded, not read from a path, so that tests in any folder load
// the same rows.
//
//go:embed extra-fixture.sql
var extraFixture string

// FixtureScripts are the example fixture plus the edge cases of
// extra-fixture.sql; a fresh slice each call, so callers may append.
func FixtureScripts() []string {
	return []string{legacydb.ExampleFixture, extraFixture}
}

// Engine is a database the suite runs on.
type Engine struct {
	Name string // "sqlite" or "mysql"
	// NewDB returns the DSN of a fresh database with the legacy schema and
	// the given scripts loaded; it is dropped when the test ends.
	NewDB func(t testing.TB, scripts ...string) string
}

// EachEngine runs fn on SQLite, and on MariaDB/MySQL when MYSQL_TEST_DSN
// is set (e.g. root@tcp(127.0.0.1:3306)/test); without it the MySQL
// subtests skip and say so.
func EachEngine(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Engine{"sqlite", NewSQLiteDB}) })
	t.Run("mysql", func(t *testing.T) {
		if os.Getenv("MYSQL_TEST_DSN") == "" {
			t.Skip("MYSQL_TEST_DSN is not set: skipping the MySQL run (set it to e.g. root@tcp(127.0.0.1:3306)/test)")
		}
		fn(t, Engine{"mysql", NewMySQLDB})
	})
}

// NeedMySQL skips t when MYSQL_TEST_DSN is not set.
func NeedMySQL(t testing.TB) {
	t.Helper()
	if os.Getenv("MYSQL_TEST_DSN") == "" {
		t.Skip("MYSQL_TEST_DSN is not set: skipping this MariaDB/MySQL test (set it to e.g. root@tcp(127.0.0.1:3306)/test)")
	}
}

// NewSQLiteDB creates a SQLite file in a fresh temporary folder.
func NewSQLiteDB(t testing.TB, scripts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacy.db")
	loadScripts(t, path, scripts)
	return path
}

// NewMySQLDB creates a database of its own on the MYSQL_TEST_DSN server.
func NewMySQLDB(t testing.TB, scripts ...string) string {
	t.Helper()
	dsn := NewEmptyMySQLDB(t, "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
	loadScripts(t, dsn, scripts)
	return dsn
}

// NewEmptyMySQLDB creates a database with no tables on the MYSQL_TEST_DSN
// server, with charset as its default character set and collation (e.g.
// "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); it is dropped when
// the test ends. Its name holds the process id: the test binaries of
// several packages share the server at once.
func NewEmptyMySQLDB(t testing.TB, charset string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(os.Getenv("MYSQL_TEST_DSN"))
	if err != nil {
		t.Fatalf("MYSQL_TEST_DSN: %v", err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	cfg.DBName = fmt.Sprintf("facade_test_%d_%d", os.Getpid(), testDBSeq.Add(1))
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+cfg.DBName+" "+charset); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		drop, err := sql.Open("mysql", os.Getenv("MYSQL_TEST_DSN"))
		if err == nil {
			_, _ = drop.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+cfg.DBName)
			_ = drop.Close()
		}
	})
	return "mysql://" + cfg.FormatDSN()
}

var testDBSeq atomic.Int64

// loadScripts runs the legacy schema and scripts on the database at dsn.
func loadScripts(t testing.TB, dsn string, scripts []string) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, s := range append([]string{legacydb.Schema}, scripts...) {
		if err := legacydb.Exec(context.Background(), st.DB(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// GenerateDemo adds legacydb's demo rows to the database at dsn.
func GenerateDemo(t testing.TB, dsn string) legacydb.Generated {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen, err := legacydb.Generate(context.Background(), st.DB().DB, legacydb.DemoSizes(), 7)
	if err != nil {
		t.Fatal(err)
	}
	return gen
}

// OPWithChats is a script for one OP (token tok-many) serving n chats, each
// with its own user who has two orders: what the statement counts of both
// front doors are measured on.
func OPWithChats(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES ('s-many', '多多', 1, 'OP', '2016-01-01 00:00:00');
INSERT INTO op_token (token, staff_id, expire_time) VALUES ('tok-many', 's-many', '2099-01-01 00:00:00');
`)
	for i := range n {
		fmt.Fprintf(&b, "INSERT INTO app_user (user_id, nick_name, icon_url, create_time) VALUES ('u-%d', 'n%d', NULL, '2015-01-01 00:00:00');\n", i, i)
		fmt.Fprintf(&b, "INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES ('c-%05d', 'u-%d', 's-many', 'g', '', 'Service', '', '', '2016-01-01 %02d:%02d:00');\n", i, i, i/60%24, i%60)
		fmt.Fprintf(&b, "INSERT INTO user_order (order_id, user_id, amount_fen, status, create_time) VALUES ('o-%d-a', 'u-%d', 1, 'Paid', '2016-01-01 00:00:00'), ('o-%d-b', 'u-%d', 1, 'Paid', '2016-01-01 00:00:00');\n", i, i, i, i)
	}
	return b.String()
}
