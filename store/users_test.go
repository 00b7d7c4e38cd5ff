package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"

	"opfacade/domain"
	"opfacade/legacydb"
)

// eachStoreEngine runs fn on a store over a fresh SQLite file with the
// legacy tables, and over a fresh MariaDB/MySQL database when
// MYSQL_TEST_DSN is set (e.g. root@tcp(127.0.0.1:3306)/test).
func eachStoreEngine(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "legacy.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if err := legacydb.Exec(context.Background(), s.DB(), legacydb.Schema); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("mysql", func(t *testing.T) {
		base := os.Getenv("MYSQL_TEST_DSN")
		if base == "" {
			t.Skip("MYSQL_TEST_DSN is not set: skipping the MySQL run (set it to e.g. root@tcp(127.0.0.1:3306)/test)")
		}
		fn(t, openMySQLTestDB(t, base))
	})
}

var mysqlTestDBs atomic.Int64

// openMySQLTestDB opens a store on a database of its own, with the legacy
// tables, on the server at base; the database is dropped when t ends.
func openMySQLTestDB(t *testing.T, base string) *Store {
	t.Helper()
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("MYSQL_TEST_DSN: %v", err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	cfg.DBName = fmt.Sprintf("facade_store_%d_%d", os.Getpid(), mysqlTestDBs.Add(1))
	if _, err := admin.Exec("CREATE DATABASE " + cfg.DBName + " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE IF EXISTS " + cfg.DBName) })
	s, err := Open(context.Background(), mysqlPrefix+cfg.FormatDSN(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := legacydb.Exec(context.Background(), s.DB(), legacydb.Schema); err != nil {
		t.Fatal(err)
	}
	return s
}

// insertRows writes rows into table in multi-row INSERTs, in one transaction.
func insertRows(t *testing.T, s *Store, table, columns string, rows [][]any) {
	t.Helper()
	tx, err := s.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	const batch = 200
	for len(rows) > 0 {
		n := min(batch, len(rows))
		var args []any
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(rows[0])), ",") + ")"
		q := "INSERT INTO " + table + " (" + columns + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("insert into %s: %v", table, err)
		}
		rows = rows[n:]
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestLookupsByManyIDs asks UsersByIDs, StaffByIDs and GradesByUserIDs for
// 2,500 distinct ids, more than two IN lists of maxInList hold, some of
// them with no row: every chunk reaches the database, one statement each,
// and every id gets the right answer.
func TestLookupsByManyIDs(t *testing.T) {
	eachStoreEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const n = 2500
		chunks := (n + maxInList - 1) / maxInList
		if chunks < 3 {
			t.Fatalf("%d ids make %d chunks; the test needs three", n, chunks)
		}
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("u9999%032d", i)
		}
		// What each id has: a user row unless i%5 == 0 (and then a
		// nickname unless i%7 == 0, an icon unless i%3 == 0); an OP row
		// unless i%4 == 1; i%4 chats, i%3 orders and i%5 service orders,
		// rows or not, as the legacy database has no foreign keys.
		hasUser := func(i int) bool { return i%5 != 0 }
		hasStaff := func(i int) bool { return i%4 != 1 }
		wantUser := func(i int) domain.User {
			u := domain.User{ID: ids[i]}
			if !hasUser(i) {
				return u
			}
			if i%7 != 0 {
				nick := fmt.Sprintf("用户%d", i)
				u.NickName = &nick
			}
			if i%3 != 0 {
				u.IconURL = fmt.Sprintf("http://img.example.com/%d.png", i)
			}
			return u
		}
		wantGrade := func(i int) domain.Grade {
			return domain.Grade{ChatCount: i % 4, OrderCount: i % 3, ServiceCount: i % 5}
		}
		var users, staff, chats, orders, services [][]any
		for i, id := range ids {
			if hasUser(i) {
				u := wantUser(i)
				var nick, icon any // NULL
				if u.NickName != nil {
					nick = *u.NickName
				}
				if u.IconURL != "" {
					icon = u.IconURL
				}
				users = append(users, []any{id, nick, icon, "2015-01-01 00:00:00"})
			}
			if hasStaff(i) {
				role := "OP"
				if i%10 == 0 {
					role = "ADMIN"
				}
				staff = append(staff, []any{id, fmt.Sprintf("OP %d", i), i % 2, role, "2016-01-01 00:00:00"})
			}
			g := wantGrade(i)
			for k := range g.ChatCount {
				chats = append(chats, []any{fmt.Sprintf("c%d-%d", i, k), id, nil, "g", "", "Wait", "", "", "2016-01-01 00:00:00"})
			}
			for k := range g.OrderCount {
				orders = append(orders, []any{fmt.Sprintf("o%d-%d", i, k), id, 100, "Paid", "2016-01-01 00:00:00"})
			}
			for k := range g.ServiceCount {
				services = append(services, []any{fmt.Sprintf("s%d-%d", i, k), id, nil, "Done", "2016-01-01 00:00:00"})
			}
		}
		insertRows(t, s, "app_user", "user_id, nick_name, icon_url, create_time", users)
		insertRows(t, s, "op_staff", "staff_id, staff_name, online, role, update_time", staff)
		insertRows(t, s, "op_chat", "chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time", chats)
		insertRows(t, s, "user_order", "order_id, user_id, amount_fen, status, create_time", orders)
		insertRows(t, s, "service_order", "service_id, user_id, chat_id, status, create_time", services)

		// statements runs f and checks it took one statement per chunk.
		statements := func(what string, f func() error) {
			t.Helper()
			before := s.Statements()
			if err := f(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if got := s.Statements() - before; got != int64(chunks) {
				t.Errorf("%s: %d statements for %d ids, want %d (one per IN list of at most %d)", what, got, n, chunks, maxInList)
			}
		}

		var gotUsers map[string]domain.User
		statements("UsersByIDs", func() (err error) { gotUsers, err = s.UsersByIDs(ctx, ids); return err })
		if len(gotUsers) != n {
			t.Errorf("UsersByIDs: %d answers for %d ids", len(gotUsers), n)
		}
		for i, id := range ids {
			got, want := gotUsers[id], wantUser(i)
			if got.ID != want.ID || got.IconURL != want.IconURL || (got.NickName == nil) != (want.NickName == nil) ||
				got.NickName != nil && *got.NickName != *want.NickName {
				t.Errorf("user %d (%s): got %s, want %s", i, id, showUser(got), showUser(want))
			}
		}

		var gotStaff map[string]domain.Staff
		statements("StaffByIDs", func() (err error) { gotStaff, err = s.StaffByIDs(ctx, ids); return err })
		present := 0
		for i, id := range ids {
			got, ok := gotStaff[id]
			if !hasStaff(i) {
				if ok {
					t.Errorf("staff %d (%s) has no row, got %+v", i, id, got)
				}
				continue
			}
			present++
			role := domain.Role("OP")
			if i%10 == 0 {
				role = "ADMIN"
			}
			if want := (domain.Staff{ID: id, Name: fmt.Sprintf("OP %d", i), Role: role, Online: i%2 == 1}); got != want {
				t.Errorf("staff %d: got %+v, want %+v", i, got, want)
			}
		}
		if len(gotStaff) != present {
			t.Errorf("StaffByIDs: %d answers, want the %d OPs that exist", len(gotStaff), present)
		}

		var gotGrades map[string]domain.Grade
		statements("GradesByUserIDs", func() (err error) { gotGrades, err = s.GradesByUserIDs(ctx, ids); return err })
		if len(gotGrades) != n {
			t.Errorf("GradesByUserIDs: %d answers for %d ids", len(gotGrades), n)
		}
		zero := 0
		for i, id := range ids {
			g, ok := gotGrades[id]
			if !ok || g != wantGrade(i) {
				t.Errorf("grade %d (%s): got %+v (present %v), want %+v", i, id, g, ok, wantGrade(i))
			}
			if g == (domain.Grade{}) {
				zero++
			}
		}
		if zero == 0 {
			t.Error("no user counted zero: the data does not test it")
		}
	})
}

func showUser(u domain.User) string {
	nick := "<nil>"
	if u.NickName != nil {
		nick = fmt.Sprintf("%q", *u.NickName)
	}
	return fmt.Sprintf("{ID:%s NickName:%s IconURL:%q}", u.ID, nick, u.IconURL)
}
