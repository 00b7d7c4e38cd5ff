package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestSQLiteKeepsPlans checks that every connection a SQLite store opens
// has the query planner stability guarantee on (see KeepSQLitePlans):
// without it the statements that join tables were compiled again on
// every run.
func TestSQLiteKeepsPlans(t *testing.T) {
	ctx := context.Background()
	kept, notKept := plansKept()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "legacy.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	conns := make([]any, 0, 3)
	for range 3 { // three connections open at once: three new ones
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	k, n := plansKept()
	if n != notKept {
		t.Errorf("%d connections opened without the guarantee", n-notKept)
	}
	if k-kept < int64(len(conns)) {
		t.Errorf("%d connections opened with the guarantee, want at least %d", k-kept, len(conns))
	}
}
