package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// TestObservers: each observer starts a statement in the context the one
// before it returned, and ends it, in reverse order, with the last
// context, how long the statement took and its outcome.
func TestObservers(t *testing.T) {
	var events []string
	st, err := Open(context.Background(), t.TempDir()+"/observed.db", Options{Observer: Observers{
		&recorder{name: "spans", events: &events}, &recorder{name: "metrics", events: &events},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	drain := func(rows *sqlx.Rows) error {
		for rows.Next() {
		}
		return nil
	}
	if err := st.read(context.Background(), "one", "SELECT 1", nil, drain); err != nil {
		t.Fatal(err)
	}
	if err := st.read(context.Background(), "broken", "SELECT * FROM nothing", nil, drain); err == nil {
		t.Fatal("a statement over no table succeeded")
	}
	want := []string{
		"spans starts one, sees []", "metrics starts one, sees [spans]",
		"metrics ends one: ok, sees [spans metrics]", "spans ends one: ok, sees [spans metrics]",
		"spans starts broken, sees []", "metrics starts broken, sees [spans]",
		"metrics ends broken: failed, sees [spans metrics]", "spans ends broken: failed, sees [spans metrics]",
	}
	if !slices.Equal(events, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
}

// recorder notes each start and end, with the recorders whose marks it
// finds in the context; each marks the context it returns.
type recorder struct {
	name   string
	events *[]string
}

type mark string

func (r *recorder) StatementStarts(ctx context.Context, name string) context.Context {
	*r.events = append(*r.events, fmt.Sprintf("%s starts %s, sees %v", r.name, name, marksIn(ctx)))
	return context.WithValue(ctx, mark(r.name), true)
}

func (r *recorder) StatementEnds(ctx context.Context, name string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	if took <= 0 {
		outcome += fmt.Sprintf(" in %v", took)
	}
	*r.events = append(*r.events, fmt.Sprintf("%s ends %s: %s, sees %v", r.name, name, outcome, marksIn(ctx)))
}

func marksIn(ctx context.Context) []string {
	seen := []string{}
	for _, name := range []string{"spans", "metrics"} {
		if ctx.Value(mark(name)) != nil {
			seen = append(seen, name)
		}
	}
	return seen
}
