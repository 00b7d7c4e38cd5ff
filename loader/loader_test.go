package loader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vikstrous/dataloadgen"

	"opfacade/domain"
)

// fakeStore answers from maps and counts the batches it is asked for.
type fakeStore struct {
	calls atomic.Int32
	keys  [][]string
	mu    sync.Mutex
	fail  error
}

func (f *fakeStore) record(ids []string) {
	f.calls.Add(1)
	f.mu.Lock()
	f.keys = append(f.keys, append([]string(nil), ids...))
	f.mu.Unlock()
}

func (f *fakeStore) StaffByIDs(_ context.Context, ids []string) (map[string]domain.Staff, error) {
	f.record(ids)
	out := map[string]domain.Staff{}
	for _, id := range ids {
		if id != "missing" {
			out[id] = domain.Staff{ID: id, Name: "name of " + id}
		}
	}
	return out, f.fail
}

func (f *fakeStore) UsersByIDs(_ context.Context, ids []string) (map[string]domain.User, error) {
	f.record(ids)
	out := map[string]domain.User{}
	for _, id := range ids {
		out[id] = domain.User{ID: id}
	}
	return out, f.fail
}

func (f *fakeStore) GradesByUserIDs(_ context.Context, ids []string) (map[string]domain.Grade, error) {
	f.record(ids)
	out := map[string]domain.Grade{}
	for i, id := range ids {
		out[id] = domain.Grade{ChatCount: i}
	}
	return out, f.fail
}

func TestConcurrentLoadsShareOneBatchInKeyOrder(t *testing.T) {
	s := &fakeStore{}
	// A batch that fires when its twentieth key arrives, and not on a
	// clock: however slowly the goroutines start, they share it.
	l := newLoaders(s, time.Hour, 20)
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]domain.Staff, 20)
	for i := range got {
		wg.Go(func() {
			st, err := l.Staff.Load(ctx, fmt.Sprint("s", i))
			if err != nil {
				t.Error(err)
			}
			got[i] = st
		})
	}
	wg.Wait()
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d batches for 20 concurrent loads, want 1", n)
	}
	for i, st := range got {
		if st.ID != fmt.Sprint("s", i) || st.Name != "name of "+st.ID {
			t.Fatalf("load %d got %+v: results must follow the keys", i, st)
		}
	}
}

func TestMissingKeysAndErrorsArePerKey(t *testing.T) {
	s := &fakeStore{}
	l := New(s)
	ctx := context.Background()
	if _, err := l.Staff.Load(ctx, "missing"); !errors.Is(err, dataloadgen.ErrNotFound) {
		t.Fatalf("missing key: err = %v, want not found", err)
	}
	s.fail = errors.New("database down")
	l = New(s)
	if _, err := l.Users.Load(ctx, "u1"); err == nil {
		t.Fatal("a failing batch must fail its keys")
	}
}

func TestPrimedValuesCostNoQuery(t *testing.T) {
	s := &fakeStore{}
	l := New(s)
	l.Users.Prime("u1", domain.User{ID: "u1"})
	l.Grades.Prime("u1", domain.Grade{OrderCount: 7})
	ctx := context.Background()
	u, err := l.Users.Load(ctx, "u1")
	if err != nil || u.ID != "u1" {
		t.Fatal(u, err)
	}
	g, err := l.Grades.Load(ctx, "u1")
	if err != nil || g.OrderCount != 7 {
		t.Fatal(g, err)
	}
	if n := s.calls.Load(); n != 0 {
		t.Fatalf("%d queries for primed values, want 0", n)
	}
}

func TestForWithoutMiddlewarePanicsAsAWiringBug(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("For without loaders in the context must panic")
		}
	}()
	For(context.Background())
}
