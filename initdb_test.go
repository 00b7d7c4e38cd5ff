package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"opfacade/app/apptest"
	"opfacade/store"
)

// emptyDB names a database with no tables: a SQLite file that does not
// exist yet, or a fresh MySQL database.
func emptyDB(t *testing.T, e apptest.Engine) string {
	t.Helper()
	if e.Name == "mysql" {
		return apptest.NewEmptyMySQLDB(t, "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
	}
	return filepath.Join(t.TempDir(), "new.db")
}

// initDBCmd runs `opfacade init-db args...` and returns its output.
func initDBCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"init-db"}, args...), func(string) string { return "" }, noVars, &out, &out)
	return out.String(), err
}

// rowCounts counts the rows of every legacy table of db.
func rowCounts(t *testing.T, db string) map[string]int64 {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts := map[string]int64{}
	for _, table := range legacyTables {
		n, err := st.CountRows(context.Background(), table)
		if err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

func TestInitDB(t *testing.T) {
	if got := strings.Join(legacyTables, " "); got != "op_staff app_user op_chat user_order service_order api_client op_token" {
		t.Fatalf("legacy tables read from the schema: %s", got)
	}
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		t.Run("fixture, then refuses a second time", func(t *testing.T) {
			db := emptyDB(t, e)
			out, err := initDBCmd(t, "-db", db, "-data", "fixture")
			if err != nil {
				t.Fatalf("init-db: %v\n%s", err, out)
			}
			for _, want := range []string{
				"created tables: op_staff, app_user, op_chat, user_order, service_order, api_client, op_token\n",
				"loaded the example fixture\n",
				"rows: op_staff 3, app_user 5, op_chat 7, user_order 4, service_order 3, api_client 2, op_token 4\n",
				"token of OP 小李:  " + apptest.TokenLi,
				"legacy v2 client: " + apptest.ClientID,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			srv := apptest.NewServer(t, apptest.Config(t, db))
			res, raw := srv.GraphQL(t, apptest.TokenLi, `{ me { name chats { id } } }`, nil)
			apptest.AssertJSON(t, `{"me":{"name":"小李","chats":[{"id":"u0001d68d5da979194a4b831097de49db3dd2"},{"id":"u00010b2345fc76de44d5813389f2345647e8"},{"id":"u00014cd5a734bb77459bbac5362728848107"},{"id":"u00011e67202dd8fa4b0eb03d99d9b2513070"}]}}`, res.Data)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %s", raw)
			}

			before := rowCounts(t, db)
			out, err = initDBCmd(t, "-db", db, "-data", "demo")
			if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "op_chat") {
				t.Errorf("a second init-db: want a refusal naming the tables, got %v", err)
			}
			if strings.Contains(out, "created") || strings.Contains(out, "loaded") {
				t.Errorf("a refused init-db says it did something:\n%s", out)
			}
			if after := rowCounts(t, db); !equalCounts(before, after) {
				t.Errorf("a refused init-db changed rows: before %v, after %v", before, after)
			}
		})
		t.Run("one legacy table is enough to refuse", func(t *testing.T) {
			db := emptyDB(t, e)
			st, err := store.Open(context.Background(), db, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.DB().Exec(`CREATE TABLE op_token (token VARCHAR(40) NOT NULL PRIMARY KEY)`)
			_ = st.Close()
			if err != nil {
				t.Fatal(err)
			}
			_, err = initDBCmd(t, "-db", db, "-data", "none")
			if err == nil || !strings.Contains(err.Error(), "(op_token)") {
				t.Errorf("want a refusal naming op_token, got %v", err)
			}
		})
		t.Run("no data", func(t *testing.T) {
			db := emptyDB(t, e)
			out, err := initDBCmd(t, "-db", db, "-data", "none")
			if err != nil {
				t.Fatalf("init-db: %v\n%s", err, out)
			}
			for table, n := range rowCounts(t, db) {
				if n != 0 {
					t.Errorf("%s has %d rows, want none", table, n)
				}
			}
		})
		t.Run("demo", func(t *testing.T) {
			db := emptyDB(t, e)
			out, err := initDBCmd(t, "-db", db)
			if err != nil {
				t.Fatalf("init-db: %v\n%s", err, out)
			}
			if !strings.Contains(out, "generated demo data\n") || !strings.Contains(out, "legacy v2 client: "+apptest.ClientID) {
				t.Errorf("output:\n%s", out)
			}
			srv := apptest.NewServer(t, apptest.Config(t, db))
			if res, raw := srv.GraphQL(t, demoToken, `{ me { name } }`, nil); len(res.Errors) > 0 {
				t.Errorf("the demo token: %s", raw)
			}
		})
		t.Run("bad data set", func(t *testing.T) {
			db := emptyDB(t, e)
			if _, err := initDBCmd(t, "-db", db, "-data", "prod"); err == nil || !strings.Contains(err.Error(), "demo, fixture or none") {
				t.Errorf("want an error listing the data sets, got %v", err)
			}
			if e.Name == "sqlite" {
				if _, err := os.Stat(db); !os.IsNotExist(err) {
					t.Errorf("a refused init-db created %s", db)
				}
			}
		})
	})
}

// TestInitDBNeedsUTF8MB4 refuses a MySQL database whose tables would not
// hold the legacy text, before creating any table.
func TestInitDBNeedsUTF8MB4(t *testing.T) {
	apptest.NeedMySQL(t)
	db := apptest.NewEmptyMySQLDB(t, "CHARACTER SET latin1")
	_, err := initDBCmd(t, "-db", db)
	if err == nil || !strings.Contains(err.Error(), "utf8mb4") {
		t.Fatalf("want a refusal asking for utf8mb4, got %v", err)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tables, err := st.Tables(context.Background()); err != nil || len(tables) > 0 {
		t.Errorf("tables after a refusal: %v, %v", tables, err)
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestInitDBChecksItsFlags: init-db refuses what the server refuses, as
// usage errors, and reads a MySQL DSN in the URL form too.
func TestInitDBChecksItsFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-db", "mysql://root:s3cret@tcp(db:3306/legacy"},
		{"-db", "postgres://db/legacy"},
		{"-data", "prod"},
		{"-dat", "demo"},
	} {
		_, err := initDBCmd(t, args...)
		if !errors.As(err, new(usageError)) || !strings.HasPrefix(err.Error(), "init-db: ") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	_, _, err := parseInitDB(nil, func(n string) string { return map[string]string{"FACADE_DB": "sqlite:///x.db"}[n] }, []string{"FACADE_DB=sqlite:///x.db"}, io.Discard)
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "FACADE_DB") {
		t.Errorf("FACADE_DB=sqlite:///x.db: %v", err)
	}

	apptest.NeedMySQL(t)
	cfg, err := store.MySQLConfig(emptyDB(t, apptest.Engine{Name: "mysql"}))
	if err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "mysql", User: url.UserPassword(cfg.User, cfg.Passwd), Host: cfg.Addr, Path: "/" + cfg.DBName}
	if cfg.Passwd == "" {
		u.User = url.User(cfg.User)
	}
	if out, err := initDBCmd(t, "-db", u.String(), "-data", "fixture"); err != nil {
		t.Fatalf("init-db -db %s: %v\n%s", store.Redact(u.String()), err, out)
	}
}
