package app

import "testing"

func TestRateLimitDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   RateLimit
		want RateLimit
	}{
		{"zero is the default", RateLimit{}, DefaultRateLimit},
		{"a rate without a burst bursts two seconds' worth", RateLimit{PerSecond: 5, ClientPerSecond: 0.2},
			RateLimit{PerSecond: 5, Burst: 10, ClientPerSecond: 0.2, ClientBurst: 1, MaxKeys: DefaultRateLimit.MaxKeys}},
		{"given values stay", RateLimit{PerSecond: 1, Burst: 3, ClientPerSecond: 7, ClientBurst: 9, MaxKeys: 10},
			RateLimit{PerSecond: 1, Burst: 3, ClientPerSecond: 7, ClientBurst: 9, MaxKeys: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.withDefaults(); got.PerSecond != tt.want.PerSecond || got.Burst != tt.want.Burst ||
				got.ClientPerSecond != tt.want.ClientPerSecond || got.ClientBurst != tt.want.ClientBurst || got.MaxKeys != tt.want.MaxKeys {
				t.Fatalf("withDefaults = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRateLimitOff(t *testing.T) {
	if l := newLimiters(RateLimit{PerSecond: RateLimitOff}); l != (limiters{}) {
		t.Fatalf("RateLimitOff leaves limiters on: %+v", l)
	}
	l := newLimiters(RateLimit{ClientPerSecond: -1})
	if l.graphQL == nil || l.legacyTokens == nil || l.legacyClients != nil {
		t.Fatalf("a negative ClientPerSecond must switch off the clients' limit alone: %+v", l)
	}
	if l := newLimiters(RateLimit{}); l.graphQL == nil || l.legacyTokens == nil || l.legacyClients == nil {
		t.Fatalf("the limits are not on by default: %+v", l)
	}
}
