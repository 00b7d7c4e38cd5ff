package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

// TestStatementTextsBounded builds the statements of every request shape
// a client can send and counts their texts: however many, repeated or
// ordered, the statuses and keys, the store prepares a handful.
func TestStatementTextsBounded(t *testing.T) {
	s := &Store{engine: "sqlite"}
	statuses := append([]string{"Other"}, domain.KnownChatStatuses...)
	r := rand.New(rand.NewPCG(3, 4))
	texts := map[string]bool{}
	for n := range 500 {
		f := domain.ChatFilter{Unknown: r.IntN(2) == 0}
		for range n {
			f.Statuses = append(f.Statuses, domain.KnownChatStatuses[r.IntN(len(domain.KnownChatStatuses))])
		}
		q, args, err := s.chatsQuery("op", f)
		if err != nil {
			t.Fatal(err)
		}
		if len(args) > 1+4+4 {
			t.Fatalf("%d statuses bound %d arguments", n, len(args))
		}
		texts[q] = true
	}
	// IN lists of 1, 2 and 4 statuses, with and without NOT IN, and NOT IN
	// alone; no statement for no statuses.
	if len(texts) > 7 {
		t.Errorf("%d chat statements for 500 status lists; want at most 7", len(texts))
	}
	if _, _, err := s.chatsQuery("op", domain.ChatFilter{Statuses: statuses}); err != nil {
		t.Errorf("a status the platform may add is refused: %v", err)
	}

	keyTexts := map[string]bool{}
	for n := 1; n <= 5000; n += 7 {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprint("k", i)
		}
		for _, c := range chunks(keys) {
			marks, _ := inList(c)
			keyTexts[marks] = true
		}
	}
	if len(keyTexts) > 11 { // 1, 2, 4, … 1024
		t.Errorf("%d IN lists for 1 to 5,000 keys; want at most 11", len(keyTexts))
	}
}

// TestUncachedStatementsClosed runs more distinct statements than the
// cache holds: each still answers, the cache stays at its bound, and on
// MariaDB/MySQL the server holds no statement beyond the cached ones.
func TestUncachedStatementsClosed(t *testing.T) {
	engines := map[string]string{"sqlite": filepath.Join(t.TempDir(), "s.db")}
	if dsn := os.Getenv("MYSQL_TEST_DSN"); dsn != "" {
		engines["mysql"] = "mysql://" + dsn
	}
	for name, dsn := range engines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, dsn, Options{MaxOpenConns: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			before := preparedOnServer(t, s)
			const n = maxCachedStatements + 2000
			for i := range n {
				var got []int
				err := s.read(ctx, "test", fmt.Sprintf("SELECT %d + ? AS n", i), []any{1}, func(rows *sqlx.Rows) error {
					return scanAll(rows, &got)
				})
				if err != nil || len(got) != 1 || got[0] != i+1 {
					t.Fatalf("statement %d: %v, %v", i, got, err)
				}
			}
			if c := s.CachedStatements(); c != maxCachedStatements {
				t.Errorf("%d statements cached, want the bound, %d", c, maxCachedStatements)
			}
			// The count is the whole server's, and other packages' tests
			// run beside this one: the margin allows for their stores,
			// far below the 2,000 a leak would add.
			if after := preparedOnServer(t, s); after-before > maxCachedStatements+400 {
				t.Errorf("the server holds %d prepared statements after %d distinct ones, %d before; want at most the %d cached", after, n, before, maxCachedStatements)
			}
		})
	}
}

// preparedOnServer is MariaDB/MySQL's count of prepared statements, every
// client's; 0 on SQLite.
func preparedOnServer(t *testing.T, s *Store) int {
	t.Helper()
	if s.Engine() != "mysql" {
		return 0
	}
	var name string
	var n int
	if err := s.DB().QueryRowContext(context.Background(), "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'").Scan(&name, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
