package migrate

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestQueue offers jobs to a queue whose workers wait until released:
// it holds no more than its size beyond the workers' jobs, refuses the
// rest without waiting, runs every job it took, and never runs more
// workers than it has.
func TestQueue(t *testing.T) {
	const size, workers = 3, 2
	release := make(chan struct{})
	started := make(chan struct{}, 100)
	var running, most, ran atomic.Int32
	q := &queue{size: size, workers: workers, run: func(*job) {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		started <- struct{}{}
		<-release
		running.Add(-1)
		ran.Add(1)
	}}
	taken := 0
	for range workers { // each taken by a worker, which then waits
		if !q.offer(&job{}) {
			t.Fatal("refused a job with idle workers")
		}
		<-started
		taken++
	}
	for range 10 {
		if q.offer(&job{}) {
			taken++
		}
	}
	if taken != workers+size {
		t.Fatalf("took %d jobs, want %d", taken, workers+size)
	}
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for ran.Load() != int32(taken) {
		if time.Now().After(deadline) {
			t.Fatalf("ran %d of %d jobs", ran.Load(), taken)
		}
		time.Sleep(time.Millisecond)
	}
	if most.Load() > workers {
		t.Errorf("%d workers at once, want at most %d", most.Load(), workers)
	}
	// Idle, the queue starts a worker again for the next job.
	done := make(chan struct{})
	q.run = func(*job) { close(done) }
	if !q.offer(&job{}) {
		t.Fatal("refused a job when idle")
	}
	<-done
}

func TestThrottle(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	th := &throttle{now: clock}
	if n, ok := th.allow(); !ok || n != 1 {
		t.Fatalf("first: %d %v", n, ok)
	}
	for range 5 {
		advance(time.Second)
		if _, ok := th.allow(); ok {
			t.Fatal("logged again within 10s")
		}
	}
	advance(5 * time.Second)
	if n, ok := th.allow(); !ok || n != 6 {
		t.Fatalf("after 10s: %d %v, want the 6 since the last line", n, ok)
	}
}
