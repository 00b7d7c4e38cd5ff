package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"opfacade/app/apptest"
)

// The consoles' two requests, sent as steady load by the tests of
// rolling out and of database outages, and their answers classified.

// answer is how a front door answered one request.
type answer struct {
	door   string // "graphql" or "legacy"
	kind   string // "ok", "unavailable" (the documented answer of an outage), or "other"
	detail string // what came back, for a failure's report
}

// askGraphQL sends the consoles' main query as 小李. It is ok when
// answered 200 with data and no error; unavailable when every error is
// SERVICE_UNAVAILABLE with no data (HTTP 200, or 503 when the deadline
// passed first).
func askGraphQL(c *http.Client, base string) answer {
	body, _ := json.Marshal(map[string]string{"query": apptest.MeChatsQuery})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	status, raw, err := send(c, req)
	a := answer{door: "graphql", kind: "other", detail: fmt.Sprintf("HTTP %d %.300s %v", status, raw, err)}
	var res apptest.GraphQLResponse
	if err != nil || json.Unmarshal(raw, &res) != nil {
		return a
	}
	noData := len(res.Data) == 0 || string(res.Data) == "null"
	unavailable := len(res.Errors) > 0
	for _, e := range res.Errors {
		unavailable = unavailable && e.Extensions["code"] == "SERVICE_UNAVAILABLE"
	}
	switch {
	case status == http.StatusOK && len(res.Errors) == 0 && !noData:
		a.kind = "ok"
	case (status == http.StatusOK || status == http.StatusServiceUnavailable) && noData && unavailable:
		a.kind = "unavailable"
	}
	return a
}

// askLegacy sends a signed receives call as 小李. It is ok when its
// envelope says 200; unavailable when it says 503 服务繁忙; the HTTP
// status is 200 either way.
func askLegacy(c *http.Client, base string) answer {
	req, _ := http.NewRequest(http.MethodPost, base+"/op/v2/receives", strings.NewReader(apptest.Signed(apptest.TokenLi).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, raw, err := send(c, req)
	a := answer{door: "legacy", kind: "other", detail: fmt.Sprintf("HTTP %d %.300s %v", status, raw, err)}
	var res apptest.LegacyResponse
	if err != nil || status != http.StatusOK || json.Unmarshal(raw, &res) != nil {
		return a
	}
	switch {
	case res.Code == 200 && string(res.Data) != "null":
		a.kind = "ok"
	case res.Code == 503 && res.Message == "服务繁忙" && string(res.Data) == "null":
		a.kind = "unavailable"
	}
	return a
}

// send does req and reads the whole answer.
func send(c *http.Client, req *http.Request) (int, []byte, error) {
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// sample is one request of a load: when it started, how long it took,
// how it was answered.
type sample struct {
	start time.Time
	took  time.Duration
	answer
}

// load is a bounded client: a few workers, each sending the two
// requests in turn, one at a time, with a short pause between them.
type load struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	samples []sample
}

// loadPause is each worker's pause between requests: the load is steady
// without taking every CPU of a small machine.
const loadPause = 5 * time.Millisecond

// startLoad starts workers sending to base until stop.
func startLoad(base string, workers int) *load {
	l := &load{done: make(chan struct{})}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for w := range workers {
		l.wg.Go(func() {
			asks := []func(*http.Client, string) answer{askGraphQL, askLegacy}
			for i := w; ; i++ {
				select {
				case <-l.done:
					return
				default:
				}
				start := time.Now()
				a := asks[i%2](c, base)
				l.add(sample{start: start, took: time.Since(start), answer: a})
				time.Sleep(loadPause)
			}
		})
	}
	return l
}

func (l *load) add(s sample) {
	l.mu.Lock()
	l.samples = append(l.samples, s)
	l.mu.Unlock()
}

// count is the number of requests answered so far as kind ("" for
// any).
func (l *load) count(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.samples {
		if kind == "" || s.kind == kind {
			n++
		}
	}
	return n
}

// wait waits until n more requests have been answered as kind ("" for
// any).
func (l *load) wait(t *testing.T, n int, kind string) {
	t.Helper()
	from := l.count(kind)
	eventually(t, fmt.Sprintf("%d more requests answered %q", n, kind), func() bool { return l.count(kind) >= from+n })
}

// stop stops the workers and returns every request's sample.
func (l *load) stop() []sample {
	close(l.done)
	l.wg.Wait()
	return l.samples
}

// figures sums up the samples that started in [from, to).
type figures struct {
	requests, failures int
	p50, p99, worst    time.Duration
}

func sumUp(samples []sample, from, to time.Time, failed func(sample) bool) figures {
	var f figures
	var took []time.Duration
	for _, s := range samples {
		if s.start.Before(from) || !s.start.Before(to) {
			continue
		}
		f.requests++
		if failed(s) {
			f.failures++
		}
		took = append(took, s.took)
	}
	if len(took) == 0 {
		return f
	}
	slices.Sort(took)
	at := func(q float64) time.Duration { return took[min(len(took)-1, int(q*float64(len(took))))] }
	f.p50, f.p99, f.worst = at(0.50), at(0.99), took[len(took)-1]
	return f
}

func (f figures) String() string {
	return fmt.Sprintf("%d requests, %d failed, p50 %v, p99 %v, slowest %v", f.requests, f.failures,
		f.p50.Round(10*time.Microsecond), f.p99.Round(10*time.Microsecond), f.worst.Round(10*time.Microsecond))
}
