package app

import (
	"math"
	"time"

	"opfacade/ratelimit"
)

// RateLimit is each caller's fair share of one replica: a token bucket
// per bearer token on both front doors, and per API client on the legacy
// path, refilled at a sustained rate up to a burst. A caller over its
// share is refused (GraphQL: HTTP 429 RATE_LIMITED; legacy: 503 服务繁忙)
// until its bucket refills; other callers are not affected. The limits are
// per replica: N replicas admit up to N times as much.
//
// A zero field takes DefaultRateLimit's value; a zero Burst is twice its
// rate. A negative PerSecond (RateLimitOff) switches every limit off; a
// negative ClientPerSecond only the legacy clients'.
type RateLimit struct {
	// PerSecond and Burst are each token's sustained requests per second
	// and how many it may send at once.
	PerSecond float64
	Burst     int
	// ClientPerSecond and ClientBurst are each legacy API client's: an
	// app, whose share all its consoles' tokens draw on together.
	ClientPerSecond float64
	ClientBurst     int
	// MaxKeys bounds the buckets each limiter keeps (GraphQL tokens,
	// legacy tokens, legacy clients: three limiters), at 20 to 40 bytes
	// a bucket whatever the key's length.
	MaxKeys int
	// Now is the limiters' clock; time.Now when nil. It is not Config.Now:
	// tests stop that one to fix the legacy foot, and a stopped clock
	// would never refill a bucket.
	Now func() time.Time
}

// RateLimitOff, as RateLimit.PerSecond, switches rate limiting off.
const RateLimitOff = -1

// DefaultRateLimit is a share no real console reaches. A console polls
// every few seconds (well under 1 request a second); 20 a second
// sustained is tens of times that, and a burst of 40 covers a console
// opening (the playground's introspection, a few queries) and its
// retries. A client is an app shared by all its consoles: 1,000 a
// second is 3,000 consoles polling every 3 seconds on one replica, three
// times the whole production-sized platform of the benchmarks (1,000
// OPs). 100,000 buckets, far more keys than a replica's consoles use,
// take 2 to 4 MB a limiter.
var DefaultRateLimit = RateLimit{PerSecond: 20, Burst: 40, ClientPerSecond: 1000, ClientBurst: 2000, MaxKeys: 100_000}

// limiters are the buckets of the front doors: nil where a limit is off.
type limiters struct {
	graphQL, legacyTokens, legacyClients *ratelimit.Limiter
}

// newLimiters builds the front doors' limiters from r.
func newLimiters(r RateLimit) limiters {
	r = r.withDefaults()
	if r.PerSecond < 0 {
		return limiters{}
	}
	token := ratelimit.Rate{PerSecond: r.PerSecond, Burst: r.Burst}
	client := ratelimit.Rate{PerSecond: r.ClientPerSecond, Burst: r.ClientBurst} // off when negative
	return limiters{
		graphQL:       ratelimit.New(token, r.MaxKeys, r.Now),
		legacyTokens:  ratelimit.New(token, r.MaxKeys, r.Now),
		legacyClients: ratelimit.New(client, r.MaxKeys, r.Now),
	}
}

// withDefaults is r with DefaultRateLimit in place of its zero fields.
func (r RateLimit) withDefaults() RateLimit {
	d := DefaultRateLimit
	if r.PerSecond == 0 {
		r.PerSecond = d.PerSecond
	}
	if r.ClientPerSecond == 0 {
		r.ClientPerSecond = d.ClientPerSecond
	}
	if r.Burst <= 0 {
		r.Burst = twice(r.PerSecond)
	}
	if r.ClientBurst <= 0 {
		r.ClientBurst = twice(r.ClientPerSecond)
	}
	if r.MaxKeys <= 0 {
		r.MaxKeys = d.MaxKeys
	}
	return r
}

// twice is two seconds' worth of rate, the default burst: at least 1.
func twice(rate float64) int {
	return int(max(1, math.Min(math.Ceil(2*rate), math.MaxInt32)))
}
