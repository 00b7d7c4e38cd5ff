package migrate

import (
	"sync"
	"time"
)

// queue holds the comparisons waiting for a worker: at most size of
// them, run by at most workers goroutines at once. Workers start when
// there is work and end when there is none, so an idle queue holds no
// goroutine and needs no closing.
type queue struct {
	size, workers int
	run           func(*job)

	mu      sync.Mutex
	jobs    []*job
	running int
}

// offer queues j, or says false when the queue is full: it never waits.
func (q *queue) offer(j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) >= q.size {
		return false
	}
	q.jobs = append(q.jobs, j)
	if q.running < q.workers {
		q.running++
		go q.work()
	}
	return true
}

// work runs queued jobs until none is left. A worker ends only with the
// lock held and the queue empty, so a job offered meanwhile finds it
// still counted as running, or starts another.
func (q *queue) work() {
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		j := q.jobs[0]
		q.jobs[0] = nil
		q.jobs = q.jobs[1:]
		q.mu.Unlock()
		q.run(j)
	}
}

// throttle lets a repeated log line through at most once every
// throttleEvery, counting the times it held it back.
type throttle struct {
	now   func() time.Time // time.Now when nil
	mu    sync.Mutex
	last  time.Time
	since int
}

const throttleEvery = 10 * time.Second

// allow says whether to log now, and how many times the line came up
// since it was last logged, this one included.
func (t *throttle) allow() (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.since++
	now := time.Now()
	if t.now != nil {
		now = t.now()
	}
	if !t.last.IsZero() && now.Sub(t.last) < throttleEvery {
		return 0, false
	}
	n := t.since
	t.since, t.last = 0, now
	return n, true
}
