package loader

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vikstrous/dataloadgen"

	"opfacade/domain"
)

// fakeStore answers from maps and records the keys of every batch it is
// asked for. Staff named "missing" have no row; the keys of keyErrs fail
// with their own error (a dataloadgen.MappedFetchError), and fail, when
// set, fails the whole batch.
type fakeStore struct {
	calls   atomic.Int32
	keys    [][]string
	mu      sync.Mutex
	fail    error
	keyErrs map[string]error
}

func (f *fakeStore) record(ids []string) {
	f.calls.Add(1)
	f.mu.Lock()
	f.keys = append(f.keys, append([]string(nil), ids...))
	f.mu.Unlock()
}

// batches returns the keys of every batch so far, in the order asked.
func (f *fakeStore) batches() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.keys...)
}

// err is the batch's error: fail, or the per-key errors of its keys.
func (f *fakeStore) err(ids []string) error {
	if f.fail != nil {
		return f.fail
	}
	perKey := dataloadgen.MappedFetchError[string]{}
	for _, id := range ids {
		if e, ok := f.keyErrs[id]; ok {
			perKey[id] = e
		}
	}
	if len(perKey) == 0 {
		return nil
	}
	return perKey
}

func (f *fakeStore) StaffByIDs(_ context.Context, ids []string) (map[string]domain.Staff, error) {
	f.record(ids)
	out := map[string]domain.Staff{}
	for _, id := range ids {
		if _, failed := f.keyErrs[id]; id != "missing" && !failed {
			out[id] = domain.Staff{ID: id, Name: "name of " + id}
		}
	}
	return out, f.err(ids)
}

func (f *fakeStore) UsersByIDs(_ context.Context, ids []string) (map[string]domain.User, error) {
	f.record(ids)
	out := map[string]domain.User{}
	for _, id := range ids {
		if _, failed := f.keyErrs[id]; !failed {
			nick := "nick of " + id
			out[id] = domain.User{ID: id, NickName: &nick}
		}
	}
	return out, f.err(ids)
}

// GradesByUserIDs answers a grade that names its key ("g7" counts 7
// chats), whatever the key's place in the batch.
func (f *fakeStore) GradesByUserIDs(_ context.Context, ids []string) (map[string]domain.Grade, error) {
	f.record(ids)
	out := map[string]domain.Grade{}
	for _, id := range ids {
		var n int
		if _, err := fmt.Sscanf(id, "g%d", &n); err != nil {
			return nil, fmt.Errorf("fake store: bad grade key %q", id)
		}
		out[id] = domain.Grade{ChatCount: n, OrderCount: 2 * n, ServiceCount: 3 * n}
	}
	return out, f.err(ids)
}

func keysOf(prefix string, from, to int) []string {
	var keys []string
	for i := from; i < to; i++ {
		keys = append(keys, fmt.Sprint(prefix, i))
	}
	return keys
}

// sameBatches reports whether got holds the batches of want, each once,
// in any order.
func sameBatches(got, want [][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g []string) bool { return slices.Equal(g, w) }) {
			return false
		}
	}
	return true
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
	batches := s.batches()
	if len(batches) != 1 {
		t.Fatalf("%d batches for 20 concurrent loads, want 1: %q", len(batches), batches)
	}
	// The goroutines arrive in any order: the batch holds each key once.
	keys := slices.Sorted(slices.Values(batches[0]))
	if want := slices.Sorted(slices.Values(keysOf("s", 0, 20))); !slices.Equal(keys, want) {
		t.Fatalf("the batch's keys are %q, want each of %q once", batches[0], want)
	}
	for i, st := range got {
		if st.ID != fmt.Sprint("s", i) || st.Name != "name of "+st.ID {
			t.Fatalf("load %d got %+v: results must follow the keys", i, st)
		}
	}
}

// TestBatchesFollowKeyOrder asks for keys in a known order, as a resolver
// does when it takes thunks for a list: each batch gets the next keys in
// that order, a repeated key is asked for once, and every caller gets the
// value of its own key, whatever its place in the batch.
func TestBatchesFollowKeyOrder(t *testing.T) {
	s := &fakeStore{}
	l := newLoaders(s, 10*time.Millisecond, 10)
	ctx := context.Background()
	keys := keysOf("g", 1, 26)                    // g1 … g25
	keys = append(keys, "g3", "g12", "g25", "g1") // repeats: cached, never asked again
	got, err := l.Grades.LoadAll(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	// Full batches run concurrently, so they may reach the store in any
	// order; each holds its keys in the order asked.
	want := [][]string{keysOf("g", 1, 11), keysOf("g", 11, 21), keysOf("g", 21, 26)}
	if b := s.batches(); !sameBatches(b, want) {
		t.Fatalf("batches %q\nwant    %q (in any order)", b, want)
	}
	for i, k := range keys {
		var n int
		if _, err := fmt.Sscanf(k, "g%d", &n); err != nil {
			t.Fatal(err)
		}
		if g := got[i]; g != (domain.Grade{ChatCount: n, OrderCount: 2 * n, ServiceCount: 3 * n}) {
			t.Errorf("result %d (key %s) = %+v: results must come back in key order", i, k, g)
		}
	}

	// Thunks taken in order and read in reverse: the same batch, each
	// caller its own key's value.
	s = &fakeStore{}
	l = newLoaders(s, time.Hour, 5)
	thunks := make([]func() (domain.User, error), 5)
	for i := range thunks {
		thunks[i] = l.Users.LoadThunk(ctx, fmt.Sprint("u", i))
	}
	for i := len(thunks) - 1; i >= 0; i-- {
		u, err := thunks[i]()
		if err != nil || u.ID != fmt.Sprint("u", i) || u.NickName == nil || *u.NickName != "nick of "+u.ID {
			t.Fatalf("thunk %d: %+v, %v", i, u, err)
		}
	}
	if b := s.batches(); !slices.EqualFunc(b, [][]string{keysOf("u", 0, 5)}, slices.Equal) {
		t.Fatalf("batches %q, want one of u0 … u4 in order", b)
	}
}

// TestMissingKeysAndErrorsArePerKey checks, in one batch each, that a key
// with no row, or with an error of its own, fails alone: the other keys
// of its batch get their values.
func TestMissingKeysAndErrorsArePerKey(t *testing.T) {
	ctx := context.Background()

	s := &fakeStore{}
	l := newLoaders(s, time.Hour, 3)
	staff := []func() (domain.Staff, error){
		l.Staff.LoadThunk(ctx, "s1"), l.Staff.LoadThunk(ctx, "missing"), l.Staff.LoadThunk(ctx, "s2"),
	}
	for i, want := range []string{"s1", "", "s2"} {
		st, err := staff[i]()
		switch {
		case want == "" && !errors.Is(err, dataloadgen.ErrNotFound):
			t.Errorf("the missing key: %+v, %v; want not found", st, err)
		case want != "" && (err != nil || st.ID != want || st.Name != "name of "+want):
			t.Errorf("key %s beside a missing one: %+v, %v", want, st, err)
		}
	}

	errU2 := errors.New("user u2 is unreadable")
	errU4 := errors.New("user u4 is unreadable")
	s = &fakeStore{keyErrs: map[string]error{"u2": errU2, "u4": errU4}}
	l = newLoaders(s, time.Hour, 5)
	users, err := l.Users.LoadAll(ctx, keysOf("u", 1, 6))
	var perKey dataloadgen.ErrorSlice
	if !errors.As(err, &perKey) || len(perKey) != 5 {
		t.Fatalf("LoadAll: %v, want an error for each of 5 keys", err)
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d batches, want 1", n)
	}
	for i, key := range keysOf("u", 1, 6) {
		switch want := s.keyErrs[key]; {
		case want != nil:
			if perKey[i] != want {
				t.Errorf("key %s: error %v, want its own: %v", key, perKey[i], want)
			}
		case perKey[i] != nil || users[i].ID != key || users[i].NickName == nil || *users[i].NickName != "nick of "+key:
			t.Errorf("key %s beside failing keys: %+v, %v; want its value", key, users[i], perKey[i])
		}
	}

	// A batch that fails as a whole fails each of its keys with its error.
	down := errors.New("database down")
	s = &fakeStore{fail: down}
	l = newLoaders(s, time.Hour, 2)
	a, b := l.Users.LoadThunk(ctx, "u1"), l.Users.LoadThunk(ctx, "u2")
	for _, th := range []func() (domain.User, error){a, b} {
		if _, err := th(); !errors.Is(err, down) {
			t.Errorf("a key of a failing batch: %v, want %v", err, down)
		}
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

func TestForWithoutLoadersPanicsAsAWiringBug(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("For without loaders in the context must panic")
		}
	}()
	For(context.Background())
}
