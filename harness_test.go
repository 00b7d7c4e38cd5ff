package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"opfacade/app"
	"opfacade/legacydb"
	"opfacade/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Tokens of the fixtures' OPs.
const (
	tokenLi      = "o0001403351be22c648efa24c20e842fd7351" // 小李, OP, serves the example's four chats
	tokenWang    = "o0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50" // 小王, OP
	tokenAdmin   = "o0001c9d8e7f6a5b44c3d2e1f0a9b8c7d6e51" // 张主管, ADMIN, no chats
	tokenExpired = "o0001000000000000000000000000expired"
	tokenZhao    = "o0001ffff000000000000000000000000001" // 小赵, OP, no chats (extra fixture)
	tokenGhost   = "o0001ffff0000000000000000000000ghost" // names no OP (extra fixture)

	staffLi    = "u0001a5f0c3d2e1b04c7e9f8a6b5c4d3e2f10"
	staffWang  = "u0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50"
	staffAdmin = "u0001c9d8e7f6a5b44c3d2e1f0a9b8c7d6e51"
)

// engine is a database the suite runs on.
type engine struct {
	name string
	// newDB returns the DSN of a fresh database with the legacy schema and
	// the given scripts loaded; it is dropped when the test ends.
	newDB func(t testing.TB, scripts ...string) string
}

// eachEngine runs fn on SQLite, and on MariaDB/MySQL when MYSQL_TEST_DSN
// is set (e.g. root@tcp(127.0.0.1:3306)/test); without it the MySQL
// subtests skip and say so.
func eachEngine(t *testing.T, fn func(t *testing.T, e engine)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, engine{"sqlite", newSQLiteDB}) })
	t.Run("mysql", func(t *testing.T) {
		if os.Getenv("MYSQL_TEST_DSN") == "" {
			t.Skip("MYSQL_TEST_DSN is not set: skipping the MySQL run (set it to e.g. root@tcp(127.0.0.1:3306)/test)")
		}
		fn(t, engine{"mysql", newMySQLDB})
	})
}

// newSQLiteDB creates a SQLite file in a fresh temporary folder.
func newSQLiteDB(t testing.TB, scripts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacy.db")
	loadScripts(t, path, scripts)
	return path
}

// newMySQLDB creates a database of its own on the MYSQL_TEST_DSN server.
func newMySQLDB(t testing.TB, scripts ...string) string {
	t.Helper()
	dsn := newEmptyMySQLDB(t, "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
	loadScripts(t, dsn, scripts)
	return dsn
}

// newEmptyMySQLDB creates a database with no tables on the MYSQL_TEST_DSN
// server, with charset as its default character set and collation (e.g.
// "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); it is dropped when
// the test ends.
func newEmptyMySQLDB(t testing.TB, charset string) string {
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

// fixtureScripts are the example fixture plus the edge cases of testdata.
func fixtureScripts(t testing.TB) []string {
	t.Helper()
	extra, err := os.ReadFile("testdata/extra-fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	return []string{legacydb.ExampleFixture, string(extra)}
}

// testConfig is the server's default configuration for db, changed by opts.
func testConfig(t testing.TB, db string, opts ...func(*config)) config {
	t.Helper()
	cfg, err := parseConfig([]string{"-db", db}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

type testServer struct {
	*httptest.Server
	store *store.Store
	logs  *lockedBuffer
	db    string // the -db it serves
}

// lockedBuffer collects the server's log; handlers write it concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newServer serves the facade's real routes over db on a loopback port.
func newServer(t testing.TB, cfg config, sopt store.Options) *testServer {
	t.Helper()
	return newServerOver(t, cfg, sopt, func(st *store.Store) backend { return st })
}

// backend is what a test server reads: the store, or a store with faults
// put in.
type backend = app.Backend

// newServerOver is newServer with the store wrapped by wrap, to put
// faults between the handlers and the database; configure, if given,
// sets the HTTP server up (e.g. its timeouts) before it starts.
func newServerOver(t testing.TB, cfg config, sopt store.Options, wrap func(*store.Store) backend, configure ...func(*http.Server)) *testServer {
	t.Helper()
	if sopt.Zone == nil {
		sopt.Zone = cfg.Zone
	}
	if sopt.Now == nil {
		sopt.Now = cfg.Now
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	if sopt.Log == nil {
		sopt.Log = log
	}
	st, err := store.Open(context.Background(), cfg.DB, sopt)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log = log
	srv := httptest.NewUnstartedServer(app.Handler(wrap(st), cfg.Config))
	for _, c := range configure {
		c(srv.Config)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = st.Close()
	})
	return &testServer{Server: srv, store: st, logs: logs, db: cfg.DB}
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// graphql POSTs a query with token as bearer ("" sends none) and decodes the answer.
func (s *testServer) graphql(t testing.TB, token, query string, vars map[string]any) (gqlResponse, []byte) {
	t.Helper()
	if token == "" {
		return s.graphqlAuth(t, "", query, vars)
	}
	return s.graphqlAuth(t, "Bearer "+token, query, vars)
}

// graphqlAuth POSTs a query with the given Authorization header ("" sends none).
func (s *testServer) graphqlAuth(t testing.TB, authorization, query string, vars map[string]any) (gqlResponse, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	_, raw := s.send(t, req)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, raw)
	}
	return out, raw
}

// send does req and reads the answer, which must be HTTP 200.
func (s *testServer) send(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d, want 200: %s", res.StatusCode, raw)
	}
	return res, raw
}

// golden compares got, a JSON document, with testdata/name as JSON values,
// or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var v any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		var pretty bytes.Buffer
		enc := json.NewEncoder(&pretty)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sameJSONFile(t, path, got)
}

// sameJSONFile compares got with the JSON file at path, as JSON values.
func sameJSONFile(t *testing.T, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}
