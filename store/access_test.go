package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/store"
)

// TestAccessDeniedAtRunTime revokes a grant under a running store: the
// statements on that table fail as access denied, EUNAVAILABLE, while
// the others succeed between them; the log says so once, not once a
// statement, and once more when the grant is back.
func TestAccessDeniedAtRunTime(t *testing.T) {
	apptest.NeedMySQL(t)
	ctx := context.Background()
	cfg, err := store.MySQLConfig(apptest.NewMySQLDB(t, apptest.FixtureScripts()...))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", os.Getenv("MYSQL_TEST_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() }) // after the user is dropped: cleanups run last first
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	user := fmt.Sprintf("opf_%d_%s", os.Getpid(), hex.EncodeToString(b))
	exec := func(stmt string) { // for each host the user may connect from
		t.Helper()
		for _, host := range []string{"%", "localhost"} {
			if _, err := admin.Exec(strings.ReplaceAll(stmt, "{u}", "'"+user+"'@'"+host+"'")); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	t.Cleanup(func() {
		for _, host := range []string{"%", "localhost"} {
			_, _ = admin.Exec("DROP USER IF EXISTS '" + user + "'@'" + host + "'")
		}
	})
	exec("CREATE USER {u} IDENTIFIED BY 'pw'")
	for _, table := range strings.Fields("op_staff op_token op_chat app_user user_order service_order api_client") {
		exec("GRANT SELECT ON " + cfg.DBName + "." + table + " TO {u}")
	}

	cfg.User, cfg.Passwd = user, "pw"
	var log apptest.LockedBuffer
	st, err := store.Open(ctx, "mysql://"+cfg.FormatDSN(), store.Options{Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ready(ctx); err != nil {
		t.Fatal(err)
	}

	exec("REVOKE SELECT ON " + cfg.DBName + ".app_user FROM {u}")
	for range 20 {
		if _, err := st.StaffByToken(ctx, apptest.TokenLi); err != nil {
			t.Fatalf("a granted table: %v", err)
		}
		err := st.Ready(ctx)
		if store.FaultOf(err) != store.AccessDenied || domain.Code(err) != domain.EUNAVAILABLE {
			t.Fatalf("revoked: %v (%q), want access denied, unavailable", err, store.FaultOf(err))
		}
		if !strings.Contains(store.Explain(err), "grant SELECT") {
			t.Fatalf("Explain: %q", store.Explain(err))
		}
	}
	exec("GRANT SELECT ON " + cfg.DBName + ".app_user TO {u}")
	if err := st.Ready(ctx); err != nil {
		t.Fatalf("granted again: %v", err)
	}
	logs := log.String()
	if n := strings.Count(logs, `msg="database misconfigured`); n != 1 || !strings.Contains(logs, `cause="access denied"`) {
		t.Errorf("%d lines for the fault, want 1 naming its class:\n%s", n, logs)
	}
	if n := strings.Count(logs, `msg="database configuration mended"`); n != 1 {
		t.Errorf("%d lines for its end, want 1:\n%s", n, logs)
	}
	if strings.Contains(logs, "database unavailable") {
		t.Errorf("a refused grant is logged as an outage:\n%s", logs)
	}
}
