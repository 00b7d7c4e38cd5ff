package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pair is one measure of the facade and of the baseline.
type pair struct{ Facade, Baseline float64 }

// ratio is facade / baseline.
func (p pair) ratio() float64 { return p.Facade / p.Baseline }

// endpointResult is everything measured of one endpoint.
type endpointResult struct {
	Endpoint endpoint
	Skipped  string                // why the facade's side was not measured
	Load     map[int][2]loadResult // by clients: facade, baseline, all rounds pooled
	// Rounds are the same phases round by round: ratios are taken per
	// round, where facade and baseline ran back to back.
	Rounds map[int][][2]loadResult
	// Statements and Allocs are in-process, over this build's handlers.
	Statements    pair
	Allocs, Bytes pair
	NsPerOp       pair
	Growth        []growthRow
}

type growthRow struct {
	Chats      int
	Facade     loadResult
	Baseline   loadResult
	Statements pair
	// InProcess is time per request in-process (ns): the facade, the
	// facade over data already in memory (memStore), the baseline. Only
	// the GraphQL path measures it.
	InProcess [3]float64
}

// results is a whole run.
type results struct {
	Opt       options
	Started   time.Time
	Took      time.Duration
	CPU       string
	Dataset   *dataset
	Endpoints []*endpointResult
	RSS       pair // bytes of RssAnon after the load
	// LoadAvg is the machine's load average before and after the run:
	// other work on a shared machine shows there.
	LoadAvg [2]string
}

func measure(ctx context.Context, o options, logf func(string, ...any)) (*results, error) {
	res := &results{Opt: o, Started: time.Now().UTC(), CPU: cpuModel(), LoadAvg: [2]string{loadAvg(), ""}}
	logf("dataset: %+v seed %d", o.Sizes, o.Seed)
	open := func() (*dataset, error) { return openDataset(ctx, o.CacheDir, o.Sizes, o.Seed, o.Growth) }
	if o.MySQL != "" {
		open = func() (*dataset, error) { return generateMySQL(ctx, o.MySQL, o.Sizes, o.Seed, o.Growth) }
	}
	ds, err := open()
	if err != nil {
		return nil, err
	}
	res.Dataset = ds
	if ds.Took > 0 {
		logf("generated %s in %v", ds.Path, ds.Took.Round(time.Millisecond))
	} else {
		logf("cached %s", ds.Path)
	}

	work, err := os.MkdirTemp("", "opfacade-bench-run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	bin := o.Facade
	if bin == "" {
		mod, err := moduleDir(ctx)
		if err != nil {
			return nil, err
		}
		logf("building the server in %s", mod)
		if bin, err = buildFacade(ctx, mod, work); err != nil {
			return nil, err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	facade, err := startServer(ctx, "facade", work, nil, bin, "-addr", "127.0.0.1:0", "-db", ds.Path, "-demo=false",
		"-legacy-sign=true", "-host-name", benchHost, "-rate-limit=off") // the growth phases send one token thousands of times a second
	if err != nil {
		return nil, err
	}
	defer facade.stop()
	base, err := startServer(ctx, "baseline", work, []string{baselineEnv + "=" + ds.Path}, self)
	if err != nil {
		return nil, err
	}
	defer base.stop()
	logf("facade %s (pid %d), baseline %s (pid %d)", facade.base, facade.cmd.Process.Pid, base.base, base.cmd.Process.Pid)

	growthLogins := make([]login, 0, len(o.Growth))
	for _, n := range o.Growth {
		growthLogins = append(growthLogins, ds.Growth[n])
	}
	seed := uint64(o.Seed)
	for _, ep := range []endpoint{graphQL, legacyV2} {
		er := &endpointResult{Endpoint: ep, Load: map[int][2]loadResult{}, Rounds: map[int][][2]loadResult{}}
		res.Endpoints = append(res.Endpoints, er)
		c := newCaller(ep, ds, append(slices.Clone(ds.OPs), growthLogins...))
		if ep == legacyV2 {
			if status, _, err := c.call(ctx, http.DefaultClient, facade.base, ds.OPs[0].Token); err != nil {
				return nil, err
			} else if status == http.StatusNotFound {
				er.Skipped = "the server answers 404 on POST /op/v2/receives: the legacy path is not part of this build. Only the baseline's side was measured; rerun once it is."
				logf("legacy: %s", er.Skipped)
			}
		}
		check := append(slices.Clone(ds.OPs[:min(5, len(ds.OPs))]), growthLogins...)
		if er.Skipped == "" {
			if err := sameAnswers(ctx, c, facade.base, base.base, check); err != nil {
				return nil, err
			}
		}
		for _, clients := range o.Clients {
			var f, b loadResult
			for r := range o.Rounds {
				d := o.Duration / time.Duration(o.Rounds)
				driveFacade := func() loadResult {
					if er.Skipped != "" {
						return loadResult{}
					}
					return drive(ctx, c, facade, ds.OPs, clients, o.Warmup, d, seed+uint64(r))
				}
				// Who goes first alternates: neither always meets what the
				// other left behind.
				var fr loadResult
				if r%2 == 0 {
					fr = driveFacade()
				}
				br := drive(ctx, c, base, ds.OPs, clients, o.Warmup, d, seed+uint64(r))
				if r%2 == 1 {
					fr = driveFacade()
				}
				er.Rounds[clients] = append(er.Rounds[clients], [2]loadResult{fr, br})
				f.add(fr)
				b.add(br)
			}
			for _, lr := range []loadResult{f, b} {
				if lr.Failures > 0 {
					return nil, fmt.Errorf("%v, %d clients: %d of %d requests failed; first: %s", ep, clients, lr.Failures, lr.Requests, lr.FirstErr)
				}
			}
			er.Load[clients] = [2]loadResult{f, b}
			logf("%v, %d clients: facade %.0f/s p50 %v, baseline %.0f/s p50 %v", ep, clients,
				f.throughput(), f.quantile(0.5), b.throughput(), b.quantile(0.5))
		}
		for _, l := range growthLogins {
			row := growthRow{Chats: l.Chats}
			one := []login{l}
			for r := range o.Rounds {
				d := o.GrowthD / time.Duration(o.Rounds)
				if er.Skipped == "" {
					row.Facade.add(drive(ctx, c, facade, one, 1, o.Warmup/4, d, seed+uint64(r)))
				}
				row.Baseline.add(drive(ctx, c, base, one, 1, o.Warmup/4, d, seed+uint64(r)))
			}
			if row.Facade.Failures+row.Baseline.Failures > 0 {
				return nil, fmt.Errorf("%v, OP with %d chats: requests failed: %s%s", ep, l.Chats, row.Facade.FirstErr, row.Baseline.FirstErr)
			}
			er.Growth = append(er.Growth, row)
			logf("%v, %d chats: facade p50 %v, baseline p50 %v", ep, l.Chats, row.Facade.quantile(0.5), row.Baseline.quantile(0.5))
		}
	}
	for i, s := range []*server{facade, base} {
		rss, err := rssAnon(s.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			res.RSS.Facade = float64(rss)
		} else {
			res.RSS.Baseline = float64(rss)
		}
	}
	facade.stop()
	base.stop()

	if err := measureInProcess(ctx, o, ds, res, growthLogins, logf); err != nil {
		return nil, err
	}
	res.Took = time.Since(res.Started)
	res.LoadAvg[1] = loadAvg()
	return res, nil
}

// sameAnswers checks that the facade and the baseline answer the same
// JSON values for each login: the comparison is only worth something if
// both serve the same data. The legacy footer's clock is left out.
func sameAnswers(ctx context.Context, c *caller, facadeURL, baseURL string, logins []login) error {
	for _, l := range logins {
		var got [2]any
		for i, u := range []string{facadeURL, baseURL} {
			status, body, err := c.call(ctx, http.DefaultClient, u, l.Token)
			if err != nil {
				return err
			}
			if !c.ok(status, body) {
				return fmt.Errorf("%v for OP %s at %s: status %d: %.300s", c.ep, l.StaffID, u, status, body)
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&got[i]); err != nil {
				return fmt.Errorf("%v at %s: %w", c.ep, u, err)
			}
			if m, ok := got[i].(map[string]any); ok {
				if foot, ok := m["foot"].(map[string]any); ok {
					delete(foot, "operationTime")
				}
			}
		}
		if d := cmp.Diff(got[1], got[0]); d != "" {
			return fmt.Errorf("%v: the facade and the baseline answer OP %s differently (-baseline +facade):\n%s", c.ep, l.StaffID, d)
		}
	}
	return nil
}

// measureInProcess counts statements and allocations per request with
// both handlers in this process, over the same file.
func measureInProcess(ctx context.Context, o options, ds *dataset, res *results, growth []login, logf func(string, ...any)) error {
	p, err := openInProcess(ctx, ds)
	if err != nil {
		return err
	}
	defer p.Close()
	testing.Init()
	if err := flag.Set("test.benchtime", o.BenchT); err != nil {
		return fmt.Errorf("-benchtime: %w", err)
	}
	sample := ds.OPs[:min(o.Sample, len(ds.OPs))]
	for _, er := range res.Endpoints {
		c := newCaller(er.Endpoint, ds, append(slices.Clone(ds.OPs), growth...))
		fs, bs := p.facadeSide(), p.baselineSide()
		sides := []struct {
			s   side
			set func(stmts float64, r testing.BenchmarkResult)
		}{
			{fs, func(st float64, r testing.BenchmarkResult) {
				er.Statements.Facade, er.Allocs.Facade, er.Bytes.Facade, er.NsPerOp.Facade = st, float64(r.AllocsPerOp()), float64(r.AllocedBytesPerOp()), float64(r.NsPerOp())
			}},
			{bs, func(st float64, r testing.BenchmarkResult) {
				er.Statements.Baseline, er.Allocs.Baseline, er.Bytes.Baseline, er.NsPerOp.Baseline = st, float64(r.AllocsPerOp()), float64(r.AllocedBytesPerOp()), float64(r.NsPerOp())
			}},
		}
		for _, sd := range sides {
			st, err := statementsPerRequest(c, sd.s, sample)
			if err != nil {
				return err
			}
			r := testing.Benchmark(func(b *testing.B) { benchRequests(b, c, sd.s.handler, sample) })
			if r.N == 0 {
				return fmt.Errorf("%v: the in-process benchmark failed", er.Endpoint)
			}
			sd.set(st, r)
		}
		for i := range er.Growth {
			one := []login{ds.Growth[er.Growth[i].Chats]}
			if er.Growth[i].Statements.Facade, err = statementsPerRequest(c, fs, one); err != nil {
				return err
			}
			if er.Growth[i].Statements.Baseline, err = statementsPerRequest(c, bs, one); err != nil {
				return err
			}
		}
		logf("%v in-process: statements %v, allocs %v", er.Endpoint, er.Statements, er.Allocs)
		if er.Endpoint == graphQL {
			if err := measureFloor(ctx, p, c, ds, er.Growth, logf); err != nil {
				return err
			}
		}
	}
	return nil
}

// measureFloor times the main query in-process for each growth OP three
// ways, back to back: the facade, the facade over memStore (no SQL at
// all), and the baseline. The middle one is the floor the facade's own
// code and gqlgen set, whatever the statements cost.
func measureFloor(ctx context.Context, p *inProcess, c *caller, ds *dataset, rows []growthRow, logf func(string, ...any)) error {
	logins := make([]login, len(rows))
	for i, g := range rows {
		logins[i] = ds.Growth[g.Chats]
	}
	mem, err := loadMemStore(ctx, p.store, logins)
	if err != nil {
		return err
	}
	floor := facadeHandler(mem)
	for i := range rows {
		one := logins[i : i+1]
		for j, h := range []http.Handler{p.facade, floor, p.baseMux} {
			r := testing.Benchmark(func(b *testing.B) { benchRequests(b, c, h, one) })
			if r.N == 0 {
				return fmt.Errorf("%v: the in-process benchmark for %d chats failed", c.ep, rows[i].Chats)
			}
			rows[i].InProcess[j] = float64(r.NsPerOp())
		}
		logf("%v, %d chats in-process: facade %v, over memory %v, baseline %v", c.ep, rows[i].Chats,
			time.Duration(rows[i].InProcess[0]), time.Duration(rows[i].InProcess[1]), time.Duration(rows[i].InProcess[2]))
	}
	return nil
}

// cpuModel is the machine's CPU as /proc/cpuinfo names it.
func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute load averages.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	return strings.Join(f[:min(3, len(f))], " ")
}
