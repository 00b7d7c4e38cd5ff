package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

// clock is a clock the test moves by hand: no sleeps, no timing.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2016, 1, 8, 14, 41, 38, 0, time.UTC)} }

// step is one request of a key after the clock moved by wait, and what the
// limiter must answer.
type step struct {
	wait      time.Duration
	key       string
	ok        bool
	retryWant time.Duration // when refused
}

// n repeats a step n times.
func n(count int, s step) []step {
	out := make([]step, count)
	for i := range out {
		out[i] = s
	}
	return out
}

func seq(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestAllow(t *testing.T) {
	ok := func(key string) step { return step{key: key, ok: true} }
	refused := func(key string, retry time.Duration) step { return step{key: key, retryWant: retry} }
	after := func(d time.Duration, s step) step { s.wait = d; return s }
	tests := []struct {
		name  string
		rate  Rate
		steps []step
	}{
		{"a fresh key has its burst, then waits", Rate{1, 3},
			seq(n(3, ok("a")), n(2, refused("a", time.Second)))},
		{"one request back per interval", Rate{2, 2},
			seq(n(2, ok("a")), []step{refused("a", 500*time.Millisecond), after(500*time.Millisecond, ok("a")), refused("a", 500*time.Millisecond),
				after(200*time.Millisecond, refused("a", 300*time.Millisecond)), after(300*time.Millisecond, ok("a"))})},
		{"refusals spend nothing", Rate{1, 1},
			seq([]step{ok("a")}, n(50, refused("a", time.Second)), []step{after(time.Second, ok("a")), refused("a", time.Second)})},
		{"idle time fills the bucket, never beyond its size", Rate{1, 3},
			seq(n(3, ok("a")), []step{after(time.Hour, ok("a"))}, n(2, ok("a")), []step{refused("a", time.Second)})},
		{"keys have buckets of their own", Rate{1, 2},
			seq(n(2, ok("flood")), n(5, refused("flood", time.Second)), n(2, ok("other")), []step{refused("other", time.Second)})},
		{"a partly spent bucket refills in part", Rate{10, 5},
			seq(n(5, ok("a")), []step{after(250*time.Millisecond, ok("a")), ok("a"), refused("a", 50*time.Millisecond)})},
		{"a burst of 0 is a burst of 1", Rate{1, 0},
			[]step{ok("a"), refused("a", time.Second)}},
		{"a clock set back still gives a fresh key its burst", Rate{1, 2},
			[]step{after(-time.Hour, ok("a")), ok("a"), refused("a", time.Second)}},
		{"slow rates wait long", Rate{0.25, 1},
			[]step{ok("a"), refused("a", 4*time.Second), after(3*time.Second, refused("a", time.Second))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			l := New(tt.rate, 100, c.now)
			for i, s := range tt.steps {
				c.advance(s.wait)
				gotOK, retry := l.Allow(s.key)
				if gotOK != s.ok || (!s.ok && retry != s.retryWant) || (s.ok && retry != 0) {
					t.Fatalf("step %d (%s): Allow = %v, %v; want %v, %v", i, s.key, gotOK, retry, s.ok, s.retryWant)
				}
			}
		})
	}
}

func TestOff(t *testing.T) {
	for _, r := range []Rate{{0, 10}, {-1, 10}} {
		l := New(r, 10, nil)
		if l != nil {
			t.Fatalf("New(%v) = %v, want nil: off", r, l)
		}
		for range 1000 {
			if ok, _ := l.Allow("a"); !ok {
				t.Fatalf("%v: refused", r)
			}
		}
		if l.Len() != 0 {
			t.Fatalf("%v: Len = %d", r, l.Len())
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{
		{0, 1}, {time.Nanosecond, 1}, {50 * time.Millisecond, 1}, {time.Second, 1},
		{time.Second + time.Nanosecond, 2}, {3333 * time.Millisecond, 4}, {time.Minute, 60},
	} {
		if got := Seconds(tt.d); got != tt.want {
			t.Errorf("Seconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

// TestBoundedMemory floods a limiter with distinct keys: it never keeps
// more than maxKeys buckets, admits each newcomer (as a fresh bucket
// would), keeps limiting a key it already holds, and once the buckets
// have filled up again makes room for new keys, which it limits.
func TestBoundedMemory(t *testing.T) {
	const maxKeys = 64
	c := newClock()
	l := New(Rate{1, 2}, maxKeys, c.now)
	l.Allow("flood")
	l.Allow("flood")
	for i := range 100_000 {
		if ok, _ := l.Allow(fmt.Sprint("garbage-", i)); !ok {
			t.Fatalf("new key %d refused", i)
		}
		if i%97 == 0 {
			if ok, _ := l.Allow("flood"); ok {
				t.Fatalf("a kept key got through during the flood (after %d new keys)", i)
			}
		}
		if l.Len() > maxKeys {
			t.Fatalf("%d buckets after %d new keys, over the cap of %d", l.Len(), i+1, maxKeys)
		}
	}
	if l.Len() != maxKeys {
		t.Fatalf("%d buckets, want the cap %d", l.Len(), maxKeys)
	}
	// Every kept bucket refills; the next new keys have room and limits.
	c.advance(2 * time.Second)
	for range maxKeys / 8 {
		l.Allow(fmt.Sprint("more-", c.t))
		c.advance(time.Nanosecond)
	}
	for range 2 {
		if ok, _ := l.Allow("late"); !ok {
			t.Fatal("a new key refused its burst after the sweep")
		}
	}
	if ok, _ := l.Allow("late"); ok {
		t.Fatal("a new key is not limited after the sweep made room")
	}
	if l.Len() > maxKeys {
		t.Fatalf("%d buckets, over the cap", l.Len())
	}
}

// TestAtTheCapNewcomersAreUntracked pins down what a new key gets when
// every kept bucket is in use: admitted, every time, without a bucket.
func TestAtTheCapNewcomersAreUntracked(t *testing.T) {
	c := newClock()
	l := New(Rate{1, 1}, 8, c.now)
	for i := range 8 {
		l.Allow(fmt.Sprint("kept-", i))
	}
	for i := range 5 {
		if ok, _ := l.Allow("newcomer"); !ok {
			t.Fatalf("request %d of a newcomer at the cap refused", i)
		}
	}
	if ok, _ := l.Allow("kept-0"); ok {
		t.Fatal("a kept key lost its limit to a newcomer")
	}
}

// BenchmarkAllow is the cost of the check on the hot path: a kept key
// under contention.
func BenchmarkAllow(b *testing.B) {
	l := New(Rate{1e9, 1 << 30}, 100_000, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow("o0001403351be22c648efa24c20e842fd7351")
		}
	})
}
