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
		// Values over the cancelable context, as on a request's: the
		// driver must still find the context beneath them to watch it
		// without a goroutine of its own.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		type layer int
		for i := range 8 {
			ctx = context.WithValue(ctx, layer(i), i)
		}
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

// TestEndingAnswersAsItsContext checks that the driver's view of a
// detached context (see ending) answers as the context itself: ended or
// not, with its error, deadline and values.
func TestEndingAnswersAsItsContext(t *testing.T) {
	type key struct{}
	live, stop := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	defer stop()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	expired, expire := context.WithDeadline(live, time.Now().Add(-time.Second))
	defer expire()
	lasting, last := context.WithTimeout(live, time.Hour)
	defer last()
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"live", live},
		{"cancelled", cancelled},
		{"past its deadline", expired},
		{"with a deadline ahead", lasting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := attached(detach(tc.ctx))
			if got == tc.ctx {
				t.Fatal("attached returned the context itself, not the driver's view of it")
			}
			if err != tc.ctx.Err() || got.Err() != tc.ctx.Err() {
				t.Errorf("Err: %v and %v, want %v", err, got.Err(), tc.ctx.Err())
			}
			if got.Done() != tc.ctx.Done() {
				t.Error("Done is not the context's channel")
			}
			d1, ok1 := got.Deadline()
			d2, ok2 := tc.ctx.Deadline()
			if !d1.Equal(d2) || ok1 != ok2 {
				t.Errorf("Deadline %v %v, want %v %v", d1, ok1, d2, ok2)
			}
			if got.Value(key{}) != "v" {
				t.Errorf("Value %v, want the context's", got.Value(key{}))
			}
		})
	}

	later, end := context.WithCancel(live)
	got, _ := attached(detach(later))
	end()
	if got.Err() != context.Canceled {
		t.Errorf("after the context ended: Err %v, want context.Canceled", got.Err())
	}
}
