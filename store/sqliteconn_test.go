package store

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

func openTempSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "served.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// endless never ends unless interrupted.
const endless = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n`

// TestSQLiteStatementsEndWithTheirContext checks that a SQLite statement
// still ends with its context though database/sql does not watch it (see
// detached): one whose deadline passes while it runs is interrupted, one
// whose context ended before it starts does not run, each failing as
// unavailable.
func TestSQLiteStatementsEndWithTheirContext(t *testing.T) {
	s := openTempSQLite(t)
	count := func(rows *sqlx.Rows) error {
		for rows.Next() {
		}
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.read(ctx, "endless", endless, nil, count)
	if !errors.Is(err, context.DeadlineExceeded) || domain.Code(err) != domain.EUNAVAILABLE {
		t.Fatalf("a statement past its deadline: %v; want it interrupted as unavailable", err)
	}

	ended, end := context.WithCancel(context.Background())
	end()
	before := s.Statements()
	err = s.read(ended, "endless", endless, nil, count)
	if !errors.Is(err, context.Canceled) || domain.Code(err) != domain.EUNAVAILABLE {
		t.Fatalf("a statement whose context had ended: %v; want context.Canceled", err)
	}
	if s.Statements() != before+1 {
		t.Fatalf("the statement was not counted")
	}
}

// TestSQLiteStatementsStartNoGoroutine checks what detaching the context
// is for: database/sql starts a goroutine for each statement whose
// context it can see end, and none for a SQLite store's.
func TestSQLiteStatementsStartNoGoroutine(t *testing.T) {
	s := openTempSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want int
	}{
		{"as database/sql sees it", s.statementContext(ctx), 0},
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
}
