// Package ratelimit gives each client of a replica a fair share of it: a
// token bucket per key (a bearer token, a legacy API client), refilled at
// a steady rate up to a burst. A client that floods spends its own bucket
// and is refused; the others keep theirs.
//
// Memory is bounded whatever clients send: a key is kept as a 64-bit
// hash, seeded per limiter (the same few bytes for a 37-byte token and a
// 60 KiB header, no secret held, and two keys share a bucket with odds of
// 2^-64 a pair), and at most maxKeys buckets are kept. A full bucket is
// the same as a fresh one, so full buckets are dropped when room is
// needed.
package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Rate is a sustained rate and a burst: a fresh key may make Burst
// requests at once, then one every 1/PerSecond seconds.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Limiter keeps a bucket per key. Its methods are safe for concurrent
// use; a nil *Limiter admits everything (the limit is off).
type Limiter struct {
	now      func() time.Time
	epoch    time.Time
	interval time.Duration // one request's worth of refill
	span     time.Duration // Burst requests' worth: a bucket's size
	maxKeys  int
	seed     maphash.Seed

	mu sync.Mutex
	// full maps a key's hash to when its bucket is full again, as time
	// since epoch (the GCRA's theoretical arrival time): one number per
	// key, and "full" is simply full <= now.
	full map[uint64]time.Duration
	// arrivals counts keys first seen since the last sweep: a sweep costs
	// a visit per kept bucket, paid for by maxKeys/8 arrivals at least.
	arrivals int
}

// New returns a limiter of rate that keeps at most maxKeys buckets and
// reads the time from now (time.Now when nil). A rate of no requests per
// second returns nil: no limit.
func New(rate Rate, maxKeys int, now func() time.Time) *Limiter {
	if rate.PerSecond <= 0 || math.IsNaN(rate.PerSecond) {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	// Clamped (at 73 years) so that sums of times cannot overflow.
	const most = float64(math.MaxInt64 / 4)
	interval := max(time.Duration(math.Min(float64(time.Second)/rate.PerSecond, most)), 1)
	span := time.Duration(math.Min(float64(interval)*float64(max(rate.Burst, 1)), most))
	return &Limiter{
		now:      now,
		epoch:    now(),
		interval: interval,
		span:     span,
		maxKeys:  max(maxKeys, 1),
		seed:     maphash.MakeSeed(),
		full:     map[uint64]time.Duration{},
	}
}

// Allow spends one request of key's bucket. When the bucket is empty it
// spends nothing and says how long until it holds a request again.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	h := maphash.String(l.seed, key)
	now := l.now().Sub(l.epoch)
	l.mu.Lock()
	defer l.mu.Unlock()
	full, kept := l.full[h]
	if !kept {
		if !l.makeRoom(now) {
			// Every kept bucket is in use. The newcomer is admitted, as
			// its fresh bucket would admit it, and not remembered:
			// refusing it would let a flood of made-up keys lock real
			// consoles out, and evicting a bucket in use would hand a
			// flooding key a fresh burst. Keys already kept stay limited.
			return true, 0
		}
		full = now
	}
	full = max(full, now) // a bucket does not fill beyond its size
	if wait := full + l.interval - now - l.span; wait > 0 {
		return false, wait
	}
	l.full[h] = full + l.interval
	return true, 0
}

// makeRoom reports whether a new bucket may be kept, dropping full ones
// when the limiter holds maxKeys: at most once per maxKeys/8 new keys, so
// that a flood of new keys costs a few visits each, not a sweep each.
func (l *Limiter) makeRoom(now time.Duration) bool {
	l.arrivals++
	if len(l.full) < l.maxKeys {
		return true
	}
	if l.arrivals < max(l.maxKeys/8, 1) {
		return false
	}
	l.arrivals = 0
	for h, full := range l.full {
		if full <= now {
			delete(l.full, h)
		}
	}
	return len(l.full) < l.maxKeys
}

// Len is the number of buckets kept: never more than maxKeys.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.full)
}

// Seconds is d for a Retry-After header: whole seconds, rounded up, at
// least 1 (0 would invite an immediate retry that is refused again).
func Seconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}
