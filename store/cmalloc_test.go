package store

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"syscall"
	"testing"

	"opfacade/legacydb"
)

// TestStatementsKeepTheirMemory checks what RetainCHeap is for: a
// statement that builds temporary b-trees (the grades statement: an IN
// list in each of its three arms) takes no fresh memory from the kernel
// each time it runs. Without it, each run took 8 to 12 page faults.
func TestStatementsKeepTheirMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory takes pages of its own as the statements run")
	}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "legacy.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := legacydb.Exec(ctx, s.DB(), legacydb.Schema); err != nil {
		t.Fatal(err)
	}
	var users, orders [][]any
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("u%03d", i)
		ids = append(ids, id)
		users = append(users, []any{id, "nick", "icon", "2016-01-06 10:59:12"})
		orders = append(orders, []any{fmt.Sprintf("o%03d", i), id, "PAID", "2016-01-06 10:59:12"})
	}
	insertRows(t, s, "app_user", "user_id, nick_name, icon_url, create_time", users)
	insertRows(t, s, "user_order", "order_id, user_id, status, create_time", orders)

	grades := func() {
		if _, err := s.GradesByUserIDs(ctx, ids); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 { // the statement prepared, the pool and the heaps grown
		grades()
	}
	// The fewest faults of three spells: the Go runtime faults in pages
	// of its own now and then (its heap, the collector's), which one
	// spell may catch; the C heap's would show in every spell.
	const runs = 500
	per := math.Inf(1)
	for range 3 {
		before := minorFaults(t)
		for range runs {
			grades()
		}
		per = min(per, float64(minorFaults(t)-before)/runs)
	}
	if per > 2 {
		t.Errorf("%.1f page faults per grades statement, want almost none", per)
	}
}

// minorFaults is the process's page faults served without I/O so far.
func minorFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}
