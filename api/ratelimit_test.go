package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"opfacade/api"
	"opfacade/app"
	"opfacade/app/apptest"
)

// answer is an HTTP answer of the GraphQL front door.
type answer struct {
	status     int
	retryAfter string
	body       []byte
	err        error
}

// post sends query with token as bearer ("" sends none), without the
// test's t: floods call it from goroutines of their own.
func post(srv *apptest.Server, token, query string) answer {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header.Get("Retry-After"), raw, err}
}

// flood sends n requests of query with token from 4 goroutines at once.
func flood(srv *apptest.Server, token, query string, n int) []answer {
	out := make([]answer, n)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				out[i] = post(srv, token, query)
			}
		})
	}
	wg.Wait()
	return out
}

// wantRateLimited checks a refusal: 429, Retry-After retryAfter, one
// RATE_LIMITED error and no data.
func wantRateLimited(t *testing.T, a answer, retryAfter string) {
	t.Helper()
	if a.err != nil {
		t.Fatal(a.err)
	}
	var res apptest.GraphQLResponse
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatalf("HTTP %d, not JSON: %v: %s", a.status, err, a.body)
	}
	wantOneError(t, a.status, res, a.body, http.StatusTooManyRequests, api.CodeRateLimited)
	if a.retryAfter != retryAfter {
		t.Fatalf("Retry-After %q, want %q", a.retryAfter, retryAfter)
	}
}

// TestFairShare floods the server with one token while another's
// requests go on: once its burst is spent the flooding token gets 429
// RATE_LIMITED, without a statement, and the other token's requests all
// get their data. The limiter's clock stands still, so the counts are
// exact however the requests interleave; moved on, it refills the bucket.
func TestFairShare(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		const burst = 5
		clock := apptest.NewClock()
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), apptest.RateLimit(1, burst, clock)))

		var flooded []answer
		done := make(chan struct{})
		go func() {
			defer close(done)
			flooded = flood(srv, apptest.TokenWang, `{ me { name } }`, 60)
		}()
		for range burst - 1 { // within the other token's own burst
			a := post(srv, apptest.TokenLi, apptest.MeChatsQuery)
			if a.err != nil || a.status != http.StatusOK {
				t.Fatalf("the other token: HTTP %d, %v: %s", a.status, a.err, a.body)
			}
			golden(t, "me-chats.golden.json", a.body)
		}
		<-done

		served := 0
		for _, a := range flooded {
			if a.status == http.StatusOK {
				served++
				apptest.AssertJSON(t, `{"data":{"me":{"name":"小王"}}}`, a.body)
				continue
			}
			wantRateLimited(t, a, "1")
		}
		if served != burst {
			t.Fatalf("the flooding token was served %d times, want its burst of %d", served, burst)
		}

		// Refused requests cost no statement: they never reach the token check.
		before := srv.Store.Statements()
		for _, a := range flood(srv, apptest.TokenWang, apptest.MeChatsQuery, 20) {
			wantRateLimited(t, a, "1")
		}
		if n := srv.Store.Statements() - before; n != 0 {
			t.Fatalf("refused requests ran %d statements", n)
		}

		// A made-up token's bucket limits only that token.
		unauthenticated := 0
		for _, a := range flood(srv, "made-up", `{ me { name } }`, 20) {
			if a.status == http.StatusOK {
				unauthenticated++
				continue
			}
			wantRateLimited(t, a, "1")
		}
		if unauthenticated != burst {
			t.Fatalf("a made-up token was answered %d times, want its burst of %d", unauthenticated, burst)
		}

		// A second later the flooding token has one request again.
		clock.Advance(time.Second)
		if a := post(srv, apptest.TokenWang, `{ me { name } }`); a.status != http.StatusOK {
			t.Fatalf("after a second: HTTP %d: %s", a.status, a.body)
		}
		wantRateLimited(t, post(srv, apptest.TokenWang, `{ me { name } }`), "1")
		// The other token still has the rest of its burst.
		if a := post(srv, apptest.TokenLi, `{ me { name } }`); a.status != http.StatusOK {
			t.Fatalf("the other token: HTTP %d: %s", a.status, a.body)
		}
	})
}

// TestFairShareWithoutAToken: requests without a bearer token are not
// limited (introspection, or UNAUTHENTICATED: neither reaches the
// database); with a token, introspection spends from its bucket.
func TestFairShareWithoutAToken(t *testing.T) {
	clock := apptest.NewClock()
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.RateLimit(1, 2, clock)))
	for i := range 10 {
		if a := post(srv, "", `{ __typename }`); a.status != http.StatusOK {
			t.Fatalf("introspection %d without a token: HTTP %d: %s", i, a.status, a.body)
		}
		a := post(srv, "", `{ me { name } }`)
		var res apptest.GraphQLResponse
		_ = json.Unmarshal(a.body, &res)
		wantOneError(t, a.status, res, a.body, http.StatusOK, "UNAUTHENTICATED")
	}
	for range 2 {
		if a := post(srv, apptest.TokenLi, `{ __typename }`); a.status != http.StatusOK {
			t.Fatalf("introspection with a token: HTTP %d: %s", a.status, a.body)
		}
	}
	wantRateLimited(t, post(srv, apptest.TokenLi, `{ __typename }`), "1")
}

// TestRetryAfter: the header is the wait until the bucket holds a
// request again, in whole seconds rounded up, at least 1; GET requests
// are limited as POSTs are.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		perSecond  float64
		burst      int
		wantServed int
		wait       time.Duration // the clock moves on after the burst
		want       string
	}{
		{"the default share", 0, 0, app.DefaultRateLimit.Burst, 0, "1"},
		{"one a second", 1, 3, 3, 0, "1"},
		{"one every 4 s", 0.25, 1, 1, 0, "4"},
		{"one every 4 s, 2.5 s on", 0.25, 1, 1, 2500 * time.Millisecond, "2"},
		{"one every 3⅓ s, rounded up", 0.3, 1, 1, 0, "4"},
		{"one a minute", 1.0 / 60, 2, 2, 0, "60"},
	}
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := apptest.NewClock()
			srv := apptest.NewServer(t, apptest.Config(t, db, apptest.RateLimit(tt.perSecond, tt.burst, clock)))
			served := 0
			for served <= tt.wantServed && post(srv, apptest.TokenLi, `{ me { id } }`).status == http.StatusOK {
				served++
			}
			if served != tt.wantServed {
				t.Fatalf("served %d, want the burst of %d", served, tt.wantServed)
			}
			clock.Advance(tt.wait)
			a := post(srv, apptest.TokenLi, `{ me { id } }`)
			wantRateLimited(t, a, tt.want)
			if s, err := strconv.Atoi(a.retryAfter); err != nil || s < 1 {
				t.Fatalf("Retry-After %q is not a whole number of seconds, at least 1", a.retryAfter)
			}
			get := getQuery(t, srv, apptest.TokenLi, `{ me { id } }`)
			wantRateLimited(t, get, tt.want)
		})
	}
}

// getQuery sends query as a GET, as a browser's preflighted request.
func getQuery(t *testing.T, srv *apptest.Server, token, query string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/query?"+url.Values{"query": {query}}.Encode(), nil)
	req.Header.Set("Apollo-Require-Preflight", "true")
	req.Header.Set("Authorization", "Bearer "+token)
	res, raw := srv.Do(t, req)
	return answer{res.StatusCode, res.Header.Get("Retry-After"), raw, nil}
}

// TestFairShareOff: a negative rate switches the limit off.
func TestFairShareOff(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.NoRateLimit,
		func(c *app.Config) { c.RateLimit.Now = apptest.NewClock().Now }))
	for i := range 3 * app.DefaultRateLimit.Burst {
		if a := post(srv, apptest.TokenLi, `{ me { id } }`); a.status != http.StatusOK {
			t.Fatalf("request %d: HTTP %d: %s", i, a.status, a.body)
		}
	}
}
