package metrics

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"opfacade/domain"
	"opfacade/store"
)

// TestStatementOutcomes: each statement is counted by its name and the
// class of its end, and timed by its name.
func TestStatementOutcomes(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewStatements(reg)
	run := func(name string, err error) {
		ctx := s.StatementStarts(context.Background(), name)
		s.StatementEnds(ctx, name, time.Millisecond, err)
	}
	fault := func(f store.Fault) error {
		return domain.Wrap(domain.EUNAVAILABLE, fmt.Errorf("chats by staff: %w", &store.FaultError{Fault: f, Err: errors.New("driver")}), "the database is unavailable")
	}
	run("chats by staff", nil)
	run("chats by staff", nil)
	run("chats by staff", fault(store.TimedOut))
	run("chats by staff", fault(store.Unreachable))
	run("staff by token", fault(store.AccessDenied))
	run("staff by token", domain.Wrap(domain.EINTERNAL, fault(store.SchemaWrong), "internal error"))
	run("staff by token", domain.Wrap(domain.EUNAVAILABLE, context.Canceled, "the database is unavailable"))
	run("staff by token", errors.New("something else"))

	want := map[string]float64{
		`outcome="ok",statement="chats by staff"`:            2,
		`outcome="timed_out",statement="chats by staff"`:     1,
		`outcome="unreachable",statement="chats by staff"`:   1,
		`outcome="access_denied",statement="staff by token"`: 1,
		`outcome="schema_wrong",statement="staff by token"`:  1,
		`outcome="canceled",statement="staff by token"`:      1,
		`outcome="error",statement="staff by token"`:         1,
	}
	got := gather(t, reg)
	for labels, n := range want {
		if got["opfacade_sql_statements_total{"+labels+"}"] != n {
			t.Errorf("%s: %v, want %v", labels, got["opfacade_sql_statements_total{"+labels+"}"], n)
		}
	}
	timed := histogramCounts(t, reg, "opfacade_sql_statement_duration_seconds")
	if timed[`statement="chats by staff"`] != 4 || timed[`statement="staff by token"`] != 4 {
		t.Errorf("timed %v, want 4 of each", timed)
	}
	if n := testutil.CollectAndCount(reg, "opfacade_sql_statements_total"); n != len(want) {
		t.Errorf("%d statement series, want %d", n, len(want))
	}
}

// TestBatchKeys: each batched lookup observes its keys, by lookup.
func TestBatchKeys(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewStatements(reg)
	s.Batch("users by ids", 3)
	s.Batch("users by ids", 1200)
	s.Batch("grades by user ids", 40)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "opfacade_batch_keys" {
			continue
		}
		for _, m := range mf.GetMetric() {
			sums[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleSum()
			counts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
		}
	}
	if sums["users by ids"] != 1203 || counts["users by ids"] != 2 || sums["grades by user ids"] != 40 || counts["grades by user ids"] != 1 {
		t.Errorf("sums %v, counts %v", sums, counts)
	}
}
