package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// endpoint is one of the two calls under load.
type endpoint int

const (
	graphQL endpoint = iota
	legacyV2
)

func (e endpoint) String() string {
	if e == legacyV2 {
		return "legacy POST /op/v2/receives"
	}
	return "GraphQL me{chats{user{grade}}}"
}

// caller builds the requests of one endpoint for a set of OPs.
type caller struct {
	ep      endpoint
	gqlBody []byte
	forms   map[string]string // legacy form body by token
}

func newCaller(ep endpoint, ds *dataset, logins []login) *caller {
	c := &caller{ep: ep}
	c.gqlBody, _ = json.Marshal(map[string]any{"query": benchQuery, "operationName": "MyChats"})
	if ep == legacyV2 {
		c.forms = map[string]string{}
		for _, l := range logins {
			c.forms[l.Token] = legacyForm(ds.ClientID, ds.Secret, l.Token)
		}
	}
	return c
}

// legacyForm is the signed form body of a legacy call for token's OP.
func legacyForm(client, secret, token string) string {
	v := url.Values{"apiVersion": {"01"}, "client": {client}, "token": {token}}
	// url.Values.Encode sorts by name, as the signature does; the
	// signature joins the values as they are, unescaped.
	plain := "apiVersion=01&client=" + client + "&token=" + token
	sum := md5.Sum([]byte(plain + secret))
	v.Set("sign", hex.EncodeToString(sum[:]))
	return v.Encode()
}

func (c *caller) request(ctx context.Context, base, token string) *http.Request {
	if c.ep == legacyV2 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/op/v2/receives", bytes.NewReader([]byte(c.forms[token])))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(c.gqlBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// ok reports whether a response is a success of this endpoint.
func (c *caller) ok(status int, body []byte) bool {
	if status != http.StatusOK {
		return false
	}
	if c.ep == legacyV2 {
		// Member order is free, and a quote inside a string is escaped,
		// so the bytes "code":200 can only be the envelope's code.
		if bytes.Contains(body, []byte(`"code":200`)) {
			return true
		}
		var env struct{ Code int }
		return json.Unmarshal(body, &env) == nil && env.Code == 200
	}
	return bytes.HasPrefix(body, []byte(`{"data":{"me":{`)) && !bytes.Contains(body, []byte(`"errors":`))
}

// call makes one request and returns the body.
func (c *caller) call(ctx context.Context, hc *http.Client, base, token string) (int, []byte, error) {
	res, err := hc.Do(c.request(ctx, base, token))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

// loadResult is what one phase of load measured.
type loadResult struct {
	Requests int
	Failures int
	Elapsed  time.Duration
	Lat      []time.Duration // sorted
	FirstErr string
	// CPU is the server process's user and system time over the measured
	// phase (the kernel's /proc accounting, in 10 ms ticks).
	CPU time.Duration
}

func (r *loadResult) add(o loadResult) {
	r.Requests += o.Requests
	r.Failures += o.Failures
	r.Elapsed += o.Elapsed
	r.CPU += o.CPU
	r.Lat = append(slices.Clone(r.Lat), o.Lat...)
	slices.Sort(r.Lat)
	if r.FirstErr == "" {
		r.FirstErr = o.FirstErr
	}
}

func (r loadResult) throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// cpuPerRequest is the server's CPU time per request: what a request
// costs the server, apart from what the load driver takes of the machine.
// A saturated server's throughput is its inverse.
func (r loadResult) cpuPerRequest() float64 {
	if r.Requests == 0 || r.CPU <= 0 {
		return math.NaN()
	}
	return float64(r.CPU) / float64(r.Requests)
}

func (r loadResult) quantile(q float64) time.Duration {
	if len(r.Lat) == 0 {
		return 0
	}
	return r.Lat[min(len(r.Lat)-1, int(q*float64(len(r.Lat))))]
}

// Bounds on the load, whatever the flags say.
const (
	maxClients          = 256
	maxPhase            = 60 * time.Second
	maxRequestsPerPhase = 2_000_000
)

// newHTTPClient keeps one connection per concurrent client.
func newHTTPClient(clients int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        clients,
			MaxIdleConnsPerHost: clients,
			MaxConnsPerHost:     clients,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
}

// drive runs a closed loop: clients each send a request as soon as their
// last one is answered, for d (after a warm-up that is not counted), each
// request with the token of an OP picked at random from logins.
func drive(ctx context.Context, c *caller, srv *server, logins []login, clients int, warmup, d time.Duration, seed uint64) loadResult {
	clients = min(max(clients, 1), maxClients)
	d = min(d, maxPhase)
	hc := newHTTPClient(clients)
	defer hc.CloseIdleConnections()
	phase := func(d time.Duration, record bool) loadResult {
		ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
		defer cancel()
		deadline := time.Now().Add(d)
		results := make([]loadResult, clients)
		var wg sync.WaitGroup
		cpu0, cpuErr := srv.cpu()
		start := time.Now()
		for i := range clients {
			wg.Add(1)
			go func(r *loadResult, rng *rand.Rand) {
				defer wg.Done()
				for time.Now().Before(deadline) && r.Requests < maxRequestsPerPhase/clients {
					tok := logins[rng.IntN(len(logins))].Token
					t0 := time.Now()
					status, body, err := c.call(ctx, hc, srv.base, tok)
					lat := time.Since(t0)
					r.Requests++
					if err != nil || !c.ok(status, body) {
						r.Failures++
						if r.FirstErr == "" {
							r.FirstErr = fmt.Sprintf("status %d, err %v: %.200s", status, err, body)
						}
						if ctx.Err() != nil {
							return
						}
					}
					if record {
						r.Lat = append(r.Lat, lat)
					}
				}
			}(&results[i], rand.New(rand.NewPCG(seed, uint64(i))))
		}
		wg.Wait()
		var out loadResult
		for _, r := range results {
			out.add(r)
		}
		out.Elapsed = time.Since(start)
		if cpu1, err := srv.cpu(); err == nil && cpuErr == nil {
			out.CPU = cpu1 - cpu0
		}
		return out
	}
	if warmup > 0 {
		phase(warmup, false)
	}
	return phase(d, true)
}
