package store

import (
	"strings"
	"testing"
)

// TestMySQLDSNForms reads a MySQL DSN in the driver's form and as a URL
// (user and password percent-decoded, port 3306 by default, the driver's
// params honoured), and refuses what it cannot read with the accepted
// forms, never showing the password.
func TestMySQLDSNForms(t *testing.T) {
	tests := []struct {
		dsn                          string
		addr, user, pass, db, params string
	}{
		{"mysql://root@tcp(127.0.0.1:3306)/test", "127.0.0.1:3306", "root", "", "test", ""},
		{"mysql://root@127.0.0.1:3306/test", "127.0.0.1:3306", "root", "", "test", ""},
		{"mysql://facade:s3cret@db.internal/legacy?timeout=2s", "db.internal:3306", "facade", "s3cret", "legacy", "timeout=2s"},
		{"mysql://f%40x:p%40ss%2Fw%3Ad@[::1]:3307/legacy", "[::1]:3307", "f@x", "p@ss/w:d", "legacy", ""},
		{"mysql://f:p@ss@tcp(db:3306)/legacy", "db:3306", "f", "p@ss", "legacy", ""},
		{"mysql://root@tcp/test", "127.0.0.1:3306", "root", "", "test", ""},
	}
	for _, tt := range tests {
		cfg, err := MySQLConfig(tt.dsn)
		if err != nil {
			t.Errorf("%s: %v", tt.dsn, err)
			continue
		}
		if cfg.Net != "tcp" || cfg.Addr != tt.addr || cfg.User != tt.user || cfg.Passwd != tt.pass || cfg.DBName != tt.db {
			t.Errorf("%s: read %s(%s) user %q password %q database %q", tt.dsn, cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName)
		}
		if tt.params == "timeout=2s" && cfg.Timeout.String() != "2s" {
			t.Errorf("%s: timeout %v, want the DSN's 2s", tt.dsn, cfg.Timeout)
		}
		if !cfg.ParseTime || cfg.Loc.String() != "UTC" {
			t.Errorf("%s: the store's settings are not forced", tt.dsn)
		}
		if tt.pass != "" && strings.Contains(Redact(tt.dsn), tt.pass) {
			t.Errorf("Redact(%s) = %s", tt.dsn, Redact(tt.dsn))
		}
	}

	for _, dsn := range []string{
		"mysql://root:s3cret@tcp(127.0.0.1:3306/test", // unclosed address
		"mysql://root:s3cret@db.internal:port/test",   // no port number
		"mysql://root:s3cret@db.internal:3306/",       // no database
		"mysql://root:s3cret@db.internal/a/b",         // not one database
		"mysql://root:s3cret@db.internal/x?parseTime=maybe",
	} {
		err := CheckDSN(dsn)
		if err == nil {
			t.Errorf("%s: accepted", dsn)
			continue
		}
		if !strings.Contains(err.Error(), "mysql://user:pass@tcp(host:port)/db?params") || !strings.Contains(err.Error(), "mysql://user:pass@host:port/db?params") {
			t.Errorf("%s: the error does not show the accepted forms: %v", dsn, err)
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(Redact(dsn), "s3cret") {
			t.Errorf("%s: the password shows: %v / %s", dsn, err, Redact(dsn))
		}
	}
}

// TestCheckDSNOtherThanMySQL accepts SQLite paths and file: URIs and
// refuses other schemes and :memory:.
func TestCheckDSNOtherThanMySQL(t *testing.T) {
	for _, ok := range []string{"opfacade.db", "/data/legacy.db", "file:legacy.db?mode=ro"} {
		if err := CheckDSN(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"postgres://u@h/db", "sqlite:///tmp/x.db", ":memory:", ""} {
		if err := CheckDSN(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
