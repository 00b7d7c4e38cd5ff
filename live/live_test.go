package live_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/live"
	"opfacade/store"
)

// The poller is tested over the fixture in a real SQLite file, read
// through the store, in a synctest bubble: its clock moves only when
// every goroutine waits, so a test counts ticks exactly, whatever the
// machine's load.

const interval = time.Second

// counted is the store, with the fingerprints read counted.
type counted struct {
	live.Source
	mu    sync.Mutex
	reads [][]domain.Watch // each read's watches
}

func (c *counted) Fingerprints(ctx context.Context, watches []domain.Watch) (map[string]domain.Fingerprint, error) {
	c.mu.Lock()
	c.reads = append(c.reads, slices.Clone(watches))
	c.mu.Unlock()
	return c.Source.Fingerprints(ctx, watches)
}

// since returns the reads from the n-th on.
func (c *counted) since(n int) [][]domain.Watch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reads[n:])
}

func (c *counted) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reads)
}

// fixture is a hub over the store of a fixture database at path.
type fixture struct {
	hub  *live.Hub
	src  *counted
	st   *store.Store
	path string
}

// open opens the database at path, and a hub over it ticking every
// interval; both are closed when the bubble's test ends.
func open(t *testing.T, path string) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := &counted{Source: st}
	hub := live.New(src, live.Config{Interval: interval})
	t.Cleanup(func() {
		hub.Close()
		_ = st.Close()
	})
	return &fixture{hub: hub, src: src, st: st, path: path}
}

// subscribe opens a subscription to the chats in service with token and
// takes its first answer.
func (f *fixture) subscribe(t *testing.T, token string) *live.Sub {
	t.Helper()
	s, err := f.hub.Subscribe(t.Context(), live.Request{Token: token, Watch: domain.ChatFilter{Statuses: []string{domain.ChatService}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Next(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	return s
}

// exec changes the database from another connection, as the platform does.
func (f *fixture) exec(t *testing.T, q string) {
	t.Helper()
	if _, err := f.st.DB().ExecContext(t.Context(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// waiting is a subscriber's wait for its next update.
type waiting struct {
	done  chan struct{}
	staff domain.Staff
	gen   *live.Generation
	err   error
}

// await starts waiting for s's next update; ctx ends the wait.
func await(ctx context.Context, s *live.Sub) *waiting {
	w := &waiting{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.staff, w.gen, w.err = s.Next(ctx, false)
	}()
	return w
}

// got reports whether the wait has ended, once the bubble is still.
func (w *waiting) got() bool {
	synctest.Wait()
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// ticks lets n intervals pass and waits until the bubble is still. Each
// test first moves half an interval past the poller's start, so that
// the clock stops between ticks, never on one.
func ticks(n int) {
	time.Sleep(time.Duration(n) * interval)
	synctest.Wait()
}

// TestPollerRunsWhileSomeoneSubscribes: no poller without subscribers;
// the first starts it, ticking once an interval; it stops when the last
// leaves, and starts again with the next.
func TestPollerRunsWhileSomeoneSubscribes(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	synctest.Test(t, func(t *testing.T) {
		f := open(t, db)
		ticks(2)
		if f.hub.Polling() || f.hub.Ticks() != 0 {
			t.Fatalf("without subscribers: polling %t, %d ticks", f.hub.Polling(), f.hub.Ticks())
		}
		a := f.subscribe(t, apptest.TokenLi)
		b := f.subscribe(t, apptest.TokenWang)
		if !f.hub.Polling() {
			t.Fatal("not polling with subscribers")
		}
		time.Sleep(interval / 2)
		ticks(3)
		if n := f.hub.Ticks(); n != 3 {
			t.Fatalf("%d ticks in three intervals, want 3", n)
		}
		a.Close()
		ticks(1)
		if !f.hub.Polling() || f.hub.Ticks() != 4 {
			t.Fatalf("with one subscriber left: polling %t, %d ticks; want polling, 4", f.hub.Polling(), f.hub.Ticks())
		}
		b.Close()
		ticks(3)
		if f.hub.Polling() || f.hub.Ticks() != 4 {
			t.Fatalf("after the last left: polling %t, %d ticks; want stopped at 4", f.hub.Polling(), f.hub.Ticks())
		}
		c := f.subscribe(t, apptest.TokenLi)
		time.Sleep(interval / 2)
		ticks(2)
		if !f.hub.Polling() || f.hub.Ticks() != 6 {
			t.Fatalf("subscribed again: polling %t, %d ticks; want polling, 6", f.hub.Polling(), f.hub.Ticks())
		}
		c.Close()
	})
}

// TestSubscribersOfAnOPShareItsFingerprint: each tick reads one
// fingerprint per OP, however many subscribe to it, in one statement;
// a change of an OP's chat signals its subscribers, every one, with one
// generation, and no one else's; and a new subscriber is not signalled
// when nothing changed since its first answer.
func TestSubscribersOfAnOPShareItsFingerprint(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	synctest.Test(t, func(t *testing.T) {
		f := open(t, db)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var li []*live.Sub
		for range 3 {
			li = append(li, f.subscribe(t, apptest.TokenLi))
		}
		wang := f.subscribe(t, apptest.TokenWang)
		read := f.src.count()
		waits := []*waiting{await(ctx, li[0]), await(ctx, li[1]), await(ctx, li[2]), await(ctx, wang)}

		time.Sleep(interval / 2)
		ticks(2)
		reads := f.src.since(read)
		if len(reads) != 2 {
			t.Fatalf("%d fingerprint reads in two ticks, want 2", len(reads))
		}
		for _, r := range reads {
			ops := []string{}
			for _, w := range r {
				ops = append(ops, w.StaffID)
			}
			slices.Sort(ops)
			if !slices.Equal(ops, []string{apptest.StaffLi, apptest.StaffWang}) {
				t.Fatalf("a tick read the fingerprints of %v, want each OP once", ops)
			}
		}
		for i, w := range waits {
			if w.got() {
				t.Fatalf("subscriber %d was signalled with nothing changed (%v)", i, w.err)
			}
		}

		f.exec(t, `UPDATE op_chat SET title = 'changed' WHERE staff_id = '`+apptest.StaffLi+`' AND status = 'Service' AND chat_id = (SELECT MIN(chat_id) FROM op_chat WHERE staff_id = '`+apptest.StaffLi+`' AND status = 'Service')`)
		ticks(1)
		for i, w := range waits[:3] {
			if !w.got() || w.err != nil {
				t.Errorf("小李's subscriber %d after a change of a chat of his: signalled %t (%v)", i, w.got(), w.err)
			}
			if w.gen == nil || w.gen != waits[0].gen {
				t.Errorf("小李's subscriber %d signalled with the generation %p, the first %p: want one, shared", i, w.gen, waits[0].gen)
			}
		}
		if waits[3].got() {
			t.Errorf("小王's subscriber was signalled by a change of 小李's chat")
		}
	})
}

// TestFailingTicksEndNothing: while the database cannot be read (its
// file unreadable), each tick tries once and signals no one: the
// subscriptions go on, and the poller does not spin. Once the file is
// readable again ticks succeed, and a file replaced under the server (a
// backup restored) is read at the next tick.
func TestFailingTicksEndNothing(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	restored := apptest.NewSQLiteDB(t, append(apptest.FixtureScripts(), `UPDATE op_staff SET online = 1 WHERE staff_id = '`+apptest.StaffLi+`'`)...)
	synctest.Test(t, func(t *testing.T) {
		f := open(t, db)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		sub := f.subscribe(t, apptest.TokenLi)
		w := await(ctx, sub)
		time.Sleep(interval / 2)

		if err := os.Chmod(db, 0); err != nil {
			t.Fatal(err)
		}
		read, tick := f.src.count(), f.hub.Ticks()
		ticks(5)
		if n, r := f.hub.Ticks()-tick, f.src.count()-read; n != 5 || r != 5 {
			t.Fatalf("five intervals of an unreadable file: %d ticks, %d reads; want 5 and 5", n, r)
		}
		if w.got() || f.hub.Count() != 1 {
			t.Fatalf("a failed tick ended or signalled the subscription (%v); %d subscriptions", w.err, f.hub.Count())
		}

		if err := os.Chmod(db, 0o644); err != nil {
			t.Fatal(err)
		}
		read = f.src.count()
		ticks(2)
		if r := f.src.count() - read; r != 2 || w.got() {
			t.Fatalf("the file readable again, nothing changed: %d reads, signalled %t; want 2 reads, no signal", r, w.got())
		}

		if err := os.Rename(restored, db); err != nil { // 小李 online in the restored file
			t.Fatal(err)
		}
		ticks(1)
		if !w.got() || w.err != nil || !w.staff.Online {
			t.Fatalf("the file replaced: signalled %t with %+v (%v); want 小李 online", w.got(), w.staff, w.err)
		}
	})
}

// TestShutdownWaitsForConnections: Shutdown tells each connection
// tracked to go away, and returns once all are closed, or with an error
// when its context ends first; a closed hub tracks no more.
func TestShutdownWaitsForConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hub := live.New(nil, live.Config{})
		told := make(chan struct{})
		closed, err := hub.Track(func() { close(told) })
		if err != nil {
			t.Fatal(err)
		}
		stuck, _ := hub.Track(func() {}) // one that does not close

		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- hub.Shutdown(ctx) }()
		<-told
		synctest.Wait()
		if len(shut) != 0 {
			t.Fatal("Shutdown returned with connections open")
		}
		closed()
		stuck()
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if _, err := hub.Track(func() {}); err != live.ErrClosed {
			t.Errorf("Track on a closed hub: %v, want ErrClosed", err)
		}

		hub = live.New(nil, live.Config{})
		_, _ = hub.Track(func() {})
		ctx, cancel = context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if err := hub.Shutdown(ctx); err == nil {
			t.Error("Shutdown returned nil with a connection that never closed")
		}
	})
}
