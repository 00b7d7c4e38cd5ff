package live_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"opfacade/live"
)

// feeder is a subscription's feed of one value, of gen, to st: wanted
// says whether the stream wanted it run.
type feeder struct {
	st     *live.Stream
	wanted chan bool
}

func feed(ctx context.Context, gen *live.Generation) *feeder {
	f := &feeder{st: live.NewStream(), wanted: make(chan bool, 1)}
	f.st.Feed()
	go func() { f.wanted <- f.st.Offer(ctx, gen) }()
	return f
}

// TestSubscribersShareARun: the streams given values of one generation
// run each key once: the first runs it, the others take its answer and
// tell their feeds they need not send the value; another key runs on its
// own. A run that fails is not shared. A stream whose last answer's run
// ended after the generation's run started runs its own, so that no
// answer is older than the one before it.
func TestSubscribersShareARun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		var runs atomic.Int32
		run := func(v string, ok bool) func() (any, bool) {
			return func() (any, bool) { runs.Add(1); time.Sleep(time.Millisecond); return v, ok }
		}
		answer := func(f *feeder, key string, r func() (any, bool)) (any, bool) {
			v := f.st.Answer(ctx, key, r)
			return v, <-f.wanted
		}

		gen := &live.Generation{}
		a, b, c := feed(ctx, gen), feed(ctx, gen), feed(ctx, gen)
		if v, want := answer(a, "k", run("A", true)); v != "A" || !want {
			t.Fatalf("the first: %v, wanted %t; want its own run, wanted", v, want)
		}
		if v, want := answer(b, "k", run("B", true)); v != "A" || want {
			t.Fatalf("the second of the key: %v, wanted %t; want the first's, not wanted", v, want)
		}
		if v, want := answer(c, "other", run("C", true)); v != "C" || !want {
			t.Fatalf("another key: %v, wanted %t; want its own run", v, want)
		}
		if n := runs.Load(); n != 2 {
			t.Fatalf("%d runs, want 2", n)
		}

		failed := &live.Generation{}
		d, e := feed(ctx, failed), feed(ctx, failed)
		answer(d, "k", run("D", false))
		if v, want := answer(e, "k", run("E", true)); v != "E" || !want {
			t.Fatalf("after a failed run: %v, wanted %t; want its own run", v, want)
		}

		// g's last answer is read after the generation's run started.
		late := &live.Generation{}
		f := feed(ctx, late)
		g := feed(ctx, nil) // its first answer
		first := make(chan any)
		go func() { first <- g.st.Answer(ctx, "k", run("G0", true)) }()
		time.Sleep(time.Microsecond)
		answer(f, "k", run("F", true))
		<-first
		<-g.wanted
		go func() { g.wanted <- g.st.Offer(ctx, late) }()
		if v, want := answer(g, "k", run("G", true)); v != "G" || !want {
			t.Fatalf("a stream whose answer is newer than the shared run: %v, wanted %t; want its own run", v, want)
		}

		// Without a feed (the subscription failed), the stream runs at once.
		if v := live.NewStream().Answer(ctx, "k", run("H", true)); v != "H" {
			t.Fatalf("without a feed: %v", v)
		}
	})
}
