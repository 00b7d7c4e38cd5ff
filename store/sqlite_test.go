package store

import (
	"context"
	"errors"
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

// TestPoolRefusesAReplacedFile moves another database to a pool's path:
// the connection the pool holds goes on reading the old file, and a new
// one, which would read the new file, is refused as the file's outage.
func TestPoolRefusesAReplacedFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, next := filepath.Join(dir, "served.db"), filepath.Join(dir, "next.db")
	for _, f := range []string{path, next} {
		db := openSQLiteDB(mustDSN(t, f), &poolFile{path: f})
		if _, err := db.ExecContext(ctx, "CREATE TABLE which (name TEXT); INSERT INTO which VALUES (?)", filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
	}
	db := openSQLiteDB(mustDSN(t, path), &poolFile{path: path})
	defer db.Close()
	held, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := held.QueryRowContext(ctx, "SELECT name FROM which").Scan(&name); err != nil || name != "served.db" {
		t.Fatalf("the held connection read %q, %v; want the old file's served.db", name, err)
	}
	_, err = db.Conn(ctx) // the held one is busy: the pool opens another
	var gone errFileGone
	if !errors.As(err, &gone) || !errors.Is(err, errReplaced) {
		t.Fatalf("a new connection after the move: %v; want the file reported replaced", err)
	}
}

func mustDSN(t *testing.T, path string) string {
	t.Helper()
	dsn, err := SQLiteDSN(path)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// TestFileCheckDue checks when a serving store checks its file again: not
// before FileCheckInterval has passed since the last check, and then at
// once.
func TestFileCheckDue(t *testing.T) {
	f := newSQLiteFile("served.db", "", fileID{dev: 1, ino: 2})
	t0 := f.opened
	for _, c := range []struct {
		checked []time.Duration // checks made, after opening
		at      time.Duration
		due     bool
	}{
		{nil, 0, false},
		{nil, FileCheckInterval - 1, false},
		{nil, FileCheckInterval, true},
		{[]time.Duration{FileCheckInterval}, FileCheckInterval + 1, false},
		{[]time.Duration{FileCheckInterval}, 2*FileCheckInterval - 1, false},
		{[]time.Duration{FileCheckInterval}, 2 * FileCheckInterval, true},
		{[]time.Duration{FileCheckInterval, 5 * FileCheckInterval}, 5*FileCheckInterval + FileCheckInterval/2, false},
		{[]time.Duration{FileCheckInterval, 5 * FileCheckInterval}, 7 * FileCheckInterval, true},
	} {
		f.last.Store(0)
		for _, d := range c.checked {
			f.checked(t0.Add(d))
		}
		if got := f.due(t0.Add(c.at)); got != c.due {
			t.Errorf("checked at %v, asked at %v: due %v, want %v", c.checked, c.at, got, c.due)
		}
	}
}
