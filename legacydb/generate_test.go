package legacydb_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"opfacade/legacydb"
)

// primaryKeys names each table's primary key, to dump tables in order.
var primaryKeys = map[string]string{
	"op_staff": "staff_id", "app_user": "user_id", "op_chat": "chat_id", "user_order": "order_id",
	"service_order": "service_id", "api_client": "client_id", "op_token": "token",
}

func generate(tb testing.TB, db *sql.DB, sizes legacydb.Sizes, seed int64) legacydb.Generated {
	tb.Helper()
	gen, err := legacydb.Generate(context.Background(), db, sizes, seed)
	if err != nil {
		tb.Fatal(err)
	}
	return gen
}

// checksum hashes every row of table, in primary key order.
func checksum(tb testing.TB, db *sql.DB, table string) string {
	tb.Helper()
	rows, err := db.Query("SELECT * FROM " + table + " ORDER BY " + primaryKeys[table])
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	h := sha256.New()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintln(h, vals)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b, c := openSQLite(t), openSQLite(t), openSQLite(t)
	genA, genB := generate(t, a, legacydb.DemoSizes(), 7), generate(t, b, legacydb.DemoSizes(), 7)
	generate(t, c, legacydb.DemoSizes(), 8)
	if diff := cmp.Diff(genA, genB); diff != "" {
		t.Errorf("Generated differs for one seed (-first +second):\n%s", diff)
	}
	for table := range primaryKeys {
		if checksum(t, a, table) != checksum(t, b, table) {
			t.Errorf("%s differs between two runs with one seed", table)
		}
	}
	if checksum(t, a, "op_chat") == checksum(t, c, "op_chat") {
		t.Error("op_chat is the same for seeds 7 and 8")
	}
}

func TestGenerateBesideFixture(t *testing.T) {
	db := openSQLite(t)
	mustExec(t, db, legacydb.ExampleFixture)
	gen := generate(t, db, legacydb.DemoSizes(), 1)
	checkGenerated(t, db, legacydb.DemoSizes(), gen)
}

// checkGenerated checks what Generate wrote with sizes on top of the
// example fixture.
func checkGenerated(t *testing.T, db *sql.DB, sizes legacydb.Sizes, gen legacydb.Generated) {
	t.Helper()
	for table := range primaryKeys {
		if got, want := count(t, db, "SELECT COUNT(*) FROM "+table), fixtureRows[table]+gen.Rows[table]; got != want {
			t.Errorf("%s has %d rows, want %d (fixture) + %d (Generated.Rows)", table, got, fixtureRows[table], gen.Rows[table])
		}
	}
	for table, want := range map[string]int{"op_staff": sizes.Staff, "op_token": sizes.Staff + 1, "app_user": sizes.Users,
		"user_order": sizes.Orders, "service_order": sizes.ServiceOrders, "api_client": 2} {
		if gen.Rows[table] != want {
			t.Errorf("Generated.Rows[%s] = %d, want %d", table, gen.Rows[table], want)
		}
	}

	// Generated rows only: their IDs do not start like the fixture's.
	mustHave := map[string]string{
		"chats in service":                   "SELECT COUNT(*) FROM op_chat WHERE status = 'Service' AND chat_id NOT LIKE 'u0001%'",
		"closed chats":                       "SELECT COUNT(*) FROM op_chat WHERE status = 'Closed' AND chat_id NOT LIKE 'u0001%'",
		"online OPs":                         "SELECT COUNT(*) FROM op_staff WHERE online = 1 AND staff_id NOT LIKE 'u0001%'",
		"offline OPs":                        "SELECT COUNT(*) FROM op_staff WHERE online = 0 AND staff_id NOT LIKE 'u0001%'",
		"users without nick_name":            "SELECT COUNT(*) FROM app_user WHERE nick_name IS NULL AND user_id NOT LIKE 'u0001%'",
		"users with NULL icon_url":           "SELECT COUNT(*) FROM app_user WHERE icon_url IS NULL AND user_id NOT LIKE 'u0001%'",
		"users with empty icon_url":          "SELECT COUNT(*) FROM app_user WHERE icon_url = '' AND user_id NOT LIKE 'u0001%'",
		"icon URLs with a query":             "SELECT COUNT(*) FROM app_user WHERE icon_url LIKE 'http://img.example.com/u/%.png?w=200&h=200'",
		"chats in service of unknown users":  "SELECT COUNT(*) FROM op_chat c LEFT JOIN app_user u ON u.user_id = c.user_id WHERE u.user_id IS NULL AND c.status = 'Service'",
		"one OP's chats with one time":       "SELECT COUNT(*) FROM (SELECT staff_id FROM op_chat WHERE status = 'Service' GROUP BY staff_id, create_time HAVING COUNT(*) > 1) t",
		"service orders from no chat":        "SELECT COUNT(*) FROM service_order WHERE chat_id IS NULL AND service_id NOT LIKE 's2%'",
		"service orders from a chat":         "SELECT COUNT(*) FROM service_order s JOIN op_chat c ON c.chat_id = s.chat_id AND c.user_id = s.user_id WHERE service_id NOT LIKE 's2%'",
		"the demo client, enabled":           "SELECT COUNT(*) FROM api_client WHERE client_id = '" + gen.ClientID + "' AND client_secret = '" + gen.ClientSecret + "' AND enabled = 1",
		"the disabled client":                "SELECT COUNT(*) FROM api_client WHERE client_id = '" + gen.DisabledClientID + "' AND enabled = 0",
		"the expired token":                  "SELECT COUNT(*) FROM op_token WHERE token = '" + gen.ExpiredToken + "' AND expire_time < '2016-01-01'",
		"chats of a status the API skips":    "SELECT COUNT(*) FROM op_chat WHERE status = 'Transfer' AND staff_id IS NOT NULL",
		"chats created in 2015":              "SELECT COUNT(*) FROM op_chat WHERE create_time < '2016-01-01' AND chat_id NOT LIKE 'u0001%'",
		"chats created in 2016":              "SELECT COUNT(*) FROM op_chat WHERE create_time >= '2016-01-01' AND chat_id NOT LIKE 'u0001%'",
		"users with more than one grade row": "SELECT COUNT(*) FROM (SELECT user_id FROM user_order GROUP BY user_id HAVING COUNT(*) > 1) t",
	}
	for what, query := range mustHave {
		if count(t, db, query) == 0 {
			t.Errorf("no %s", what)
		}
	}
	mustNotHave := map[string]string{
		"waiting chats with an OP":    "SELECT COUNT(*) FROM op_chat WHERE status = 'Wait' AND staff_id IS NOT NULL",
		"other chats without an OP":   "SELECT COUNT(*) FROM op_chat WHERE status <> 'Wait' AND staff_id IS NULL",
		"IDs that are not 37 long":    "SELECT COUNT(*) FROM op_chat WHERE chat_id NOT LIKE 'u0001%' AND (LENGTH(chat_id) <> 37 OR LENGTH(user_id) <> 37)",
		"tokens that are not 37 long": "SELECT COUNT(*) FROM op_token WHERE token NOT LIKE 'o0001%' AND LENGTH(token) <> 37",
		"admins with chats":           "SELECT COUNT(*) FROM op_chat c JOIN op_staff s ON s.staff_id = c.staff_id WHERE s.role = 'ADMIN'",
		"badly formed times":          "SELECT COUNT(*) FROM op_chat WHERE create_time NOT LIKE '201_-__-__ __:__:__'",
	}
	for what, query := range mustNotHave {
		if n := count(t, db, query); n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
	if n := count(t, db, "SELECT COUNT(*) FROM op_chat WHERE status = 'Wait' AND chat_id NOT LIKE 'u0001%'"); n != sizes.WaitChats {
		t.Errorf("%d waiting chats, want %d", n, sizes.WaitChats)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM op_chat WHERE status = 'Transfer'"); n < 1 || n > sizes.Staff/100+1 {
		t.Errorf("%d chats of an unknown status, want very few", n)
	}

	admins, lo, hi := 0, sizes.ServiceChatsPerStaff*3/4, sizes.ServiceChatsPerStaff*5/4
	for _, s := range gen.Staff {
		if s.Role == "ADMIN" {
			admins++
			continue
		}
		n := count(t, db, "SELECT COUNT(*) FROM op_chat WHERE staff_id = ? AND status = 'Service'", s.StaffID)
		if n != s.ServiceChats || n < lo || n > hi {
			t.Errorf("OP %s serves %d chats; Generated says %d; want %d to %d", s.StaffID, n, s.ServiceChats, lo, hi)
		}
		if count(t, db, "SELECT COUNT(*) FROM op_token WHERE token = ? AND staff_id = ? AND expire_time > '2099-01-01'", s.Token, s.StaffID) != 1 {
			t.Errorf("no live token %s for %s", s.Token, s.StaffID)
		}
	}
	if admins != sizes.Admins {
		t.Errorf("Generated lists %d admins, want %d", admins, sizes.Admins)
	}
	checkFourByteNickNames(t, db)
}

// checkFourByteNickNames checks that some nick names need 4-byte UTF-8
// (emoji) and come back intact, which MySQL's 3-byte utf8 would not do.
func checkFourByteNickNames(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query("SELECT nick_name FROM app_user WHERE nick_name IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var nick string
		if err := rows.Scan(&nick); err != nil {
			t.Fatal(err)
		}
		for _, r := range nick {
			if utf8.RuneLen(r) == 4 {
				return
			}
		}
	}
	t.Errorf("no nick name with a 4-byte character (err %v)", rows.Err())
}

func TestGenerateStaffWithChats(t *testing.T) {
	db := openSQLite(t)
	mustExec(t, db, legacydb.ExampleFixture)
	generate(t, db, legacydb.DemoSizes(), 1)
	ctx := context.Background()
	for i, n := range []int{0, 1, 10, 100} {
		staffID, token := fmt.Sprintf("u0009bench%027d", n), fmt.Sprintf("o0009bench%027d", n)
		if err := legacydb.GenerateStaffWithChats(ctx, db, staffID, token, n, int64(i)); err != nil {
			t.Fatalf("%d chats: %v", n, err)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM op_chat WHERE staff_id = ? AND status = 'Service'", staffID); got != n {
			t.Errorf("OP with %d chats serves %d", n, got)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM op_token WHERE token = ? AND staff_id = ?", token, staffID); got != 1 {
			t.Errorf("token %s: %d rows, want 1", token, got)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM op_chat c JOIN app_user u ON u.user_id = c.user_id WHERE c.staff_id = ?", staffID); got != n {
			t.Errorf("OP with %d chats: %d of their users exist", n, got)
		}
	}
	if count(t, db, "SELECT COUNT(*) FROM user_order WHERE order_id LIKE 'o0003%'") == 0 {
		t.Error("no orders for the added OPs' users")
	}
}

// TestGenerateOnMySQL loads and generates on MySQL or MariaDB, in a
// database of its own that it drops at the end.
func TestGenerateOnMySQL(t *testing.T) {
	dsn := os.Getenv("MYSQL_TEST_DSN")
	if dsn == "" {
		t.Skip("MYSQL_TEST_DSN is not set (e.g. root@tcp(127.0.0.1:3306)/test)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = ""
	server, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	name := fmt.Sprintf("legacydb_test_%x", rand.Uint32())
	if _, err := server.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := server.Exec("DROP DATABASE " + name); err != nil {
			t.Error(err)
		}
	}()

	cfg.DBName, cfg.ParseTime, cfg.Loc, cfg.MultiStatements = name, true, time.UTC, false
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, legacydb.Schema)
	mustExec(t, db, legacydb.ExampleFixture)
	gen := generate(t, db, legacydb.DemoSizes(), 1)
	checkGenerated(t, db, legacydb.DemoSizes(), gen)
	if err := legacydb.GenerateStaffWithChats(context.Background(), db, "u0009benchmysql", "o0009benchmysql", 10, 1); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkGenerateBenchSizes times BenchSizes on SQLite: run it with
// -bench GenerateBenchSizes -benchtime 1x.
func BenchmarkGenerateBenchSizes(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		db := openSQLite(b)
		b.StartTimer()
		generate(b, db, legacydb.BenchSizes(), 1)
	}
}
