package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

// eachEngine runs fn on a SQLite store and, when MYSQL_TEST_DSN is set, on
// a MariaDB/MySQL one, with a statement of each that runs until it is
// interrupted.
func eachEngine(t *testing.T, fn func(t *testing.T, s *Store, endless string)) {
	engines := []struct{ name, dsn, endless string }{
		{"sqlite", filepath.Join(t.TempDir(), "served.db"), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n`},
	}
	if dsn := os.Getenv("MYSQL_TEST_DSN"); dsn != "" {
		engines = append(engines, struct{ name, dsn, endless string }{"mysql", "mysql://" + dsn, `SELECT SLEEP(10)`})
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s, err := Open(context.Background(), e.dsn, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			fn(t, s, e.endless)
		})
	}
}

func drain(rows *sqlx.Rows) error {
	for rows.Next() {
	}
	return nil
}

// TestStatementsEndWithTheirContext checks that a statement still ends
// with its context though database/sql does not watch it (see detached):
// one whose deadline passes while it runs is cut off, one whose context
// ended before it starts does not run, each failing as unavailable.
func TestStatementsEndWithTheirContext(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store, endless string) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.read(ctx, "endless", endless, nil, drain)
		if !errors.Is(err, context.DeadlineExceeded) || domain.Code(err) != domain.EUNAVAILABLE {
			t.Fatalf("a statement past its deadline: %v; want it cut off as unavailable", err)
		}

		ended, end := context.WithCancel(context.Background())
		end()
		err = s.read(ended, "endless", endless, nil, drain)
		if !errors.Is(err, context.Canceled) || domain.Code(err) != domain.EUNAVAILABLE {
			t.Fatalf("a statement whose context had ended: %v; want context.Canceled", err)
		}

		// The pool serves the next statement.
		if err := s.read(context.Background(), "one", "SELECT 1", nil, drain); err != nil {
			t.Fatalf("after the statements cut off: %v", err)
		}
	})
}

// TestStatementsStartNoGoroutine checks what detaching the context is
// for: database/sql starts a goroutine for each statement whose context
// it can see end, and none for the store's.
func TestStatementsStartNoGoroutine(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store, _ string) {
		// A first statement opens the connection, and with it the
		// goroutines a pool and a MySQL connection keep.
		if err := s.read(context.Background(), "one", "SELECT 1", nil, drain); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for _, tc := range []struct {
			name string
			ctx  context.Context
			want int
		}{
			{"as database/sql sees it", detach(ctx), 0},
			{"not detached", ctx, 1}, // the watch detaching spares
		} {
			err := s.use(ctx, func(h *handle) error {
				before := runtime.NumGoroutine()
				rows, err := h.query(tc.ctx, "SELECT 1", nil)
				if err != nil {
					return err
				}
				defer rows.Close()
				if got := runtime.NumGoroutine() - before; got != tc.want {
					t.Errorf("%s: %d more goroutines while the rows are open, want %d", tc.name, got, tc.want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
