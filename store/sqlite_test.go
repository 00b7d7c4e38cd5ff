package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSQLiteDSN(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    []string // parameters the DSN must carry
		wantErr bool
	}{
		{"a new file gets WAL", filepath.Join(dir, "new.db"), []string{"_busy_timeout=5000", "_journal_mode=WAL", "_synchronous=NORMAL"}, false},
		{"an existing writable file gets WAL", existing, []string{"_journal_mode=WAL"}, false},
		{"a file: URI keeps its parameters", "file:" + existing + "?_busy_timeout=100&cache=shared", []string{"_busy_timeout=100", "cache=shared", "_journal_mode=WAL"}, false},
		{"read-only stays read-only, without WAL", "file:" + existing + "?mode=ro", []string{"mode=ro", "_busy_timeout=5000"}, false},
		{"memory is refused", ":memory:", nil, true},
		{"empty is refused", "", nil, true},
		{"bad parameters are refused", "file:" + existing + "?%zz", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, err := SQLiteDSN(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			for _, p := range tt.want {
				if !strings.Contains(dsn, p) {
					t.Errorf("DSN %q lacks %q", dsn, p)
				}
			}
			if strings.Contains(tt.in, "mode=ro") && strings.Contains(dsn, "journal_mode") {
				t.Errorf("read-only DSN %q sets a journal mode", dsn)
			}
		})
	}
}

func TestLocalTimeKeepsTheWallClock(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	s := newStore(nil, "sqlite", Options{Zone: shanghai})
	stored := time.Date(2016, 1, 6, 10, 59, 12, 0, time.UTC) // as the drivers hand it over
	got := s.localTime(stored)
	if got.Format(time.RFC3339) != "2016-01-06T10:59:12+08:00" {
		t.Fatalf("localTime = %s, want the stored wall clock in +08:00", got.Format(time.RFC3339))
	}
}

func TestSQLiteFile(t *testing.T) {
	tests := []struct {
		in   string
		file string
		ok   bool
	}{
		{"opfacade.db", "opfacade.db", true},
		{"file:/data/x.db?mode=ro", "/data/x.db", true},
		{"mysql://root@tcp(127.0.0.1:3306)/test", "", false},
	}
	for _, tt := range tests {
		if file, ok := SQLiteFile(tt.in); file != tt.file || ok != tt.ok {
			t.Errorf("SQLiteFile(%q) = %q, %v; want %q, %v", tt.in, file, ok, tt.file, tt.ok)
		}
	}
}
