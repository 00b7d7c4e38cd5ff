package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/app"
	"opfacade/logbuf"
	"opfacade/metrics"
	"opfacade/tracing"
	"opfacade/tracing/tracingtest"
)

// The observability comparison (-observability): what the operators'
// view of each request costs, the Prometheus metrics, the access log and
// tracing together. The same build serves the same file twice in this
// process, once with all three on and once with all three off, and the
// load alternates between them round by round; the cost is one minus the
// median of the per-round throughput ratios, on ÷ off. In-process, a
// third side with the metrics and the log but no tracing tells the parts
// apart, and a fourth, off as well, shows how far two servers that are
// the same differ on this machine: the noise a cost must stand above.

// observabilityTarget is the most throughput the three may cost.
const observabilityTarget = 0.05

// observed is one of the in-process servers of the comparison.
type observed struct {
	name  string
	srv   *server // base only: the load driver's target
	http  *http.Server
	app   *app.App
	reg   *prometheus.Registry // nil when off
	tp    *tracing.Recorder
	lines *countingWriter
	buf   *logbuf.Writer // the server's buffering of its log lines
}

// tracingSide is how a side traces its requests.
type tracingSide int

const (
	untraced tracingSide = iota
	// noopExporter: the facade's recorder samples every request and
	// batches the spans as the server does, then drops them, as the
	// SDK's provider does with a no-op exporter.
	noopExporter
	// otlpConverted: the same, and the batches are converted to OTLP in
	// the background and handed to an OTLP client that sends nothing:
	// what the server pays for tracing, without the encoding on the wire
	// and the collector's.
	otlpConverted
)

// countingWriter writes the log to a file, as a log collector would
// read it from the process's stderr, and counts the access lines.
type countingWriter struct {
	f     *os.File
	lines atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.lines.Add(int64(bytes.Count(p, []byte(`"msg":"access"`))))
	return w.f.Write(p)
}

// startObserved opens the facade over ds, with the metrics and the
// access log when metricsAndLog is set and tracing as traced says, and
// serves it on a loopback port.
func startObserved(ctx context.Context, ds *dataset, dir, name string, metricsAndLog bool, traced tracingSide) (*observed, error) {
	cfg := facadeConfig()
	cfg.DB = ds.Path
	o := &observed{name: name}
	if metricsAndLog {
		f, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return nil, err
		}
		o.lines = &countingWriter{f: f}
		o.buf = logbuf.New(o.lines, logbuf.DefaultInterval) // as the server buffers its log
		o.reg = metrics.NewRegistry()
		cfg.Log = slog.New(slog.NewJSONHandler(o.buf, nil))
		cfg.Metrics = o.reg
	}
	if traced != untraced {
		var client tracing.Client // nil: the no-op exporter
		if traced == otlpConverted {
			client = tracingtest.Discard{}
		}
		// The facade's recorder, as tracing.New sets it up, at its
		// defaults: every request sampled.
		o.tp = tracing.NewRecorder(client, tracing.Options{Log: slog.New(slog.DiscardHandler)})
		cfg.Tracing = o.tp
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	o.app = a
	if o.reg != nil {
		o.reg.MustRegister(metrics.NewDBPoolCollector(func() *sql.DB { return a.Store.DB().DB }))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		o.close()
		return nil, err
	}
	o.srv = &server{name: name, base: "http://" + ln.Addr().String()}
	o.http = &http.Server{Handler: a.Handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = o.http.Serve(ln) }()
	return o, nil
}

func (o *observed) close() {
	if o.http != nil {
		_ = o.http.Close()
	}
	if o.tp != nil {
		_ = o.tp.Shutdown(context.Background())
	}
	if o.lines != nil {
		_ = o.buf.Close()
		_ = o.lines.f.Close()
	}
	_ = o.app.Close()
}

// requestsCounted is the requests the on side's metrics counted.
func (o *observed) requestsCounted() (float64, error) {
	mfs, err := o.reg.Gather()
	if err != nil {
		return 0, err
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == metrics.Namespace+"_request_duration_seconds" {
			for _, m := range mf.GetMetric() {
				n += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return n, nil
}

// observabilityResults are what -observability measured.
type observabilityResults struct {
	Opt     options
	Started time.Time
	Took    time.Duration
	CPU     string
	Dataset *dataset
	// Endpoints hold, by clients, each round's [on, off] loads.
	Endpoints []*endpointResult
	// Noise holds, by endpoint and clients, each round's throughput of
	// the off side again over the off side's: the load phases' A/A, how
	// far two servers that are the same differ in them.
	Noise map[endpoint]map[int][]float64
	// InProcess are, by endpoint, each round's CPU and wall time per
	// request of the handlers called directly, one request at a time, by
	// side (Sides), and Allocations each side's allocations per request:
	// without the network or many clients, and in CPU time, which other
	// processes on a shared machine do not stretch as they do the wall
	// clock.
	InProcess   map[endpoint][][]perRequest
	Allocations map[endpoint][]perRequest
	Sides       []string
	// What the on side did: access lines written, spans batched,
	// requests counted in its metrics (warm-ups included), against the
	// requests it served in the measured phases.
	Lines, Spans, Counted, Served int64
	LoadAvg                       [2]string
}

func measureObservability(ctx context.Context, o options, logf func(string, ...any)) (*observabilityResults, error) {
	res := &observabilityResults{Opt: o, Started: time.Now().UTC(), CPU: cpuModel(), LoadAvg: [2]string{loadAvg(), ""}}
	ds, err := openDataset(ctx, o.CacheDir, o.Sizes, o.Seed, o.Growth)
	if err != nil {
		return nil, err
	}
	res.Dataset = ds
	work, err := os.MkdirTemp("", "opfacade-bench-observability-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	on, err := startObserved(ctx, ds, work, "on", true, noopExporter)
	if err != nil {
		return nil, err
	}
	defer on.close()
	off, err := startObserved(ctx, ds, work, "off", false, untraced)
	if err != nil {
		return nil, err
	}
	defer off.close()
	unsent, err := startObserved(ctx, ds, work, "metrics and log", true, untraced)
	if err != nil {
		return nil, err
	}
	defer unsent.close()
	again, err := startObserved(ctx, ds, work, "off again", false, untraced)
	if err != nil {
		return nil, err
	}
	defer again.close()
	converted, err := startObserved(ctx, ds, work, "on, spans converted to OTLP", true, otlpConverted)
	if err != nil {
		return nil, err
	}
	defer converted.close()
	logf("observability on %s, off %s, same build, in this process", on.srv.base, off.srv.base)

	seed := uint64(o.Seed)
	res.Noise = map[endpoint]map[int][]float64{}
	for _, ep := range []endpoint{graphQL, legacyV2} {
		er := &endpointResult{Endpoint: ep, Rounds: map[int][][2]loadResult{}}
		res.Endpoints = append(res.Endpoints, er)
		res.Noise[ep] = map[int][]float64{}
		c := newCaller(ep, ds, ds.OPs)
		for _, clients := range o.Clients {
			for r := range o.Rounds {
				d := o.Duration / time.Duration(o.Rounds)
				// Each side goes first, second and third in a third of the
				// rounds.
				order := []*observed{on, off, again}
				sides := []*observed{order[r%3], order[(r+1)%3], order[(r+2)%3]}
				loads := map[*observed]loadResult{}
				for _, s := range sides {
					lr := drive(ctx, c, s.srv, ds.OPs, clients, o.Warmup, d, seed+uint64(r))
					if lr.Failures > 0 {
						return nil, fmt.Errorf("%v, %d clients, observability %s: %d of %d requests failed; first: %s", ep, clients, s.srv.name, lr.Failures, lr.Requests, lr.FirstErr)
					}
					loads[s] = lr
				}
				res.Served += int64(loads[on].Requests)
				er.Rounds[clients] = append(er.Rounds[clients], [2]loadResult{loads[on], loads[off]})
				res.Noise[ep][clients] = append(res.Noise[ep][clients], loads[again].throughput()/loads[off].throughput())
			}
			logf("%v, %d clients: on ÷ off throughput %s, off again ÷ off %s", ep, clients,
				fmtRatio(loadRatio(er, clients, loadResult.throughput)), fmtRatio(median(res.Noise[ep][clients])))
		}
	}
	if err := res.measureInProcess(ds, []*observed{on, off, unsent, again, converted}); err != nil {
		return nil, err
	}
	if err := on.tp.ForceFlush(ctx); err != nil {
		return nil, err
	}
	counted, err := on.requestsCounted()
	if err != nil {
		return nil, err
	}
	on.buf.Flush()
	res.Lines, res.Spans, res.Counted = on.lines.lines.Load(), on.tp.Sent(), int64(counted)
	if res.Lines == 0 || res.Spans == 0 || res.Counted == 0 {
		return nil, errors.New("the on side logged, traced or counted nothing: the comparison measured nothing")
	}
	res.Took = time.Since(res.Started)
	res.LoadAvg[1] = loadAvg()
	return res, nil
}

// perRequest is what one side's requests cost in-process, on average.
type perRequest struct {
	Wall, CPU     time.Duration
	Allocs, Bytes float64
}

// measureInProcess calls the sides' handlers directly, one request at a
// time over the first -sample OPs. For CPU and wall time, round by round,
// the sides take turns request by request, each serving the same OP in
// turn, as many requests a side a round as -benchtime gives the off side
// (sides[1]): whatever else the machine does then weighs on every side
// alike, which whole runs of one side after another cannot promise on a
// shared machine. Allocations, which that does not disturb, come from a
// run of each side alone.
func (res *observabilityResults) measureInProcess(ds *dataset, sides []*observed) error {
	res.InProcess = map[endpoint][][]perRequest{}
	res.Allocations = map[endpoint][]perRequest{}
	for _, s := range sides {
		res.Sides = append(res.Sides, s.name)
	}
	sample := ds.OPs[:min(res.Opt.Sample, len(ds.OPs))]
	for _, ep := range []endpoint{graphQL, legacyV2} {
		c := newCaller(ep, ds, sample)
		n, err := requestsFor(res.Opt.BenchT, c, sides[1].app.Handler, sample)
		if err != nil {
			return err
		}
		for _, s := range sides {
			pr, err := measureRequests(c, s.app.Handler, sample, n)
			if err != nil {
				return err
			}
			res.Allocations[ep] = append(res.Allocations[ep], pr)
		}
		for r := range res.Opt.Rounds {
			round, err := takeTurns(c, sides, sample, n, r)
			if err != nil {
				return err
			}
			res.InProcess[ep] = append(res.InProcess[ep], round)
		}
	}
	return nil
}

// takeTurns serves n requests through each side's handler, the sides
// taking turns request by request (the one that goes first rotating,
// from r on), and returns each side's CPU and wall time per request: the
// process's CPU time over each request, what runs beside it included.
func takeTurns(c *caller, sides []*observed, logins []login, n, r int) ([]perRequest, error) {
	out := make([]perRequest, len(sides))
	for i := range n {
		token := logins[i%len(logins)].Token
		for j := range sides {
			side := (r + i + j) % len(sides)
			cpu0, start := selfCPU(), time.Now()
			if err := serve(c, sides[side].app.Handler, token); err != nil {
				return nil, err
			}
			out[side].Wall += time.Since(start)
			out[side].CPU += selfCPU() - cpu0
		}
	}
	for i := range out {
		out[i].Wall /= time.Duration(n)
		out[i].CPU /= time.Duration(n)
	}
	return out, nil
}

// requestsFor is how many requests benchtime stands for: N of "Nx", or
// as many as h serves in that duration.
func requestsFor(benchtime string, c *caller, h http.Handler, logins []login) (int, error) {
	if n, ok := strings.CutSuffix(benchtime, "x"); ok {
		return strconv.Atoi(n)
	}
	d, err := time.ParseDuration(benchtime)
	if err != nil {
		return 0, fmt.Errorf("-benchtime: %w", err)
	}
	const probe = 20
	pr, err := measureRequests(c, h, logins, probe)
	if err != nil {
		return 0, err
	}
	return max(probe, int(d/max(pr.Wall, 1))), nil
}

// measureRequests serves n requests through h, cycling through logins,
// and returns their cost per request.
func measureRequests(c *caller, h http.Handler, logins []login, n int) (perRequest, error) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, start := selfCPU(), time.Now()
	for i := range n {
		if err := serve(c, h, logins[i%len(logins)].Token); err != nil {
			return perRequest{}, err
		}
	}
	wall, cpu := time.Since(start), selfCPU()-cpu0
	runtime.ReadMemStats(&m1)
	return perRequest{
		Wall:   wall / time.Duration(n),
		CPU:    cpu / time.Duration(n),
		Allocs: float64(m1.Mallocs-m0.Mallocs) / float64(n),
		Bytes:  float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n),
	}, nil
}

// inProcessRatio is the median over rounds of side's v ÷ the off side's.
func inProcessRatio(rounds [][]perRequest, side int, v func(perRequest) float64) float64 {
	ratios := make([]float64, len(rounds))
	for i, r := range rounds {
		ratios[i] = v(r[side]) / v(r[1])
	}
	return median(ratios)
}

// inProcessMedian is the median over rounds of side's v.
func inProcessMedian(rounds [][]perRequest, side int, v func(perRequest) float64) float64 {
	vs := make([]float64, len(rounds))
	for i, r := range rounds {
		vs[i] = v(r[side])
	}
	return median(vs)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Sorted(slices.Values(v))
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func (res *observabilityResults) markdown() string {
	var b strings.Builder
	o := res.Opt
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# What the operators' view of a request costs\n\n")
	w("Written by `go run ./bench -observability%s`. The same build serves the same SQLite file twice in one process: ", flagsLine(o))
	w("**on**, with the Prometheus metrics (`metrics.NewRegistry`, as the server registers them), the access log (JSON lines written to a file) ")
	w("and tracing with a no-op exporter (the facade's span recorder, `tracing.Recorder`, sampling every request and batching its spans as the server does, then dropping each batch where an exporter would take it); ")
	w("and **off**, with none of them; and **off again**, the same server as off once more. Closed-loop clients on loopback, in this same process, load each in turn, round by round, ")
	w("the side that goes first rotating; each ratio is the median of the per-round ratios on ÷ off, and the cost is one minus it. ")
	w("The noise is the same for off again ÷ off: how far two servers that are the same differ in these phases, which a cost must stand above. ")
	w("Target: at most %.0f%% of throughput.\n\n", 100*observabilityTarget)
	runHeader(&b, o.Short, res.Started, res.CPU)
	w("| data | seed %d: %d OPs, %d users |\n", res.Dataset.Seed, res.Dataset.Sizes.Staff, res.Dataset.Sizes.Users)
	w("| load | %v measured per phase and side in %d alternating rounds, after %v of warm-up each |\n", o.Duration, o.Rounds, o.Warmup)
	w("| run | %v; load average %s before, %s after (a shared machine: other work shows here and in the numbers) |\n", res.Took.Round(time.Second), res.LoadAvg[0], res.LoadAvg[1])
	w("| on side | %d requests measured; with the warm-ups, %d access lines written, %d requests counted in its metrics, %d spans batched |\n\n", res.Served, res.Lines, res.Counted, res.Spans)
	w("| endpoint | clients | off req/s | on req/s | on ÷ off (median) | cost | target ≤ %.0f%% | noise | off p50 | on p50 | per round |\n", 100*observabilityTarget)
	w("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |\n")
	for _, er := range res.Endpoints {
		for _, clients := range o.Clients {
			var on, off loadResult
			var rounds []string
			for _, r := range er.Rounds[clients] {
				on.add(r[0])
				off.add(r[1])
				rounds = append(rounds, fmtRatio(r[0].throughput()/r[1].throughput()))
			}
			ratio, noise := loadRatio(er, clients, loadResult.throughput), median(res.Noise[er.Endpoint][clients])
			w("| %v | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", er.Endpoint, clients, off.throughput(), on.throughput(),
				fmtRatio(ratio), fmtNum(100*(1-ratio), 1)+"%", meets(1-ratio <= observabilityTarget, ratio), fmtNum(100*(1-noise), 1)+"%",
				fmtDur(off.quantile(0.5)), fmtDur(on.quantile(0.5)), strings.Join(rounds, " "))
		}
	}
	w("\nIn-process: each side's handler called directly, one request at a time over the first %d OPs in turn, ", min(o.Sample, len(res.Dataset.OPs)))
	w("the sides taking turns request by request, each serving the same OP, as many requests a side a round as -benchtime %s gives the off side, the side that goes first rotating; ", o.BenchT)
	w("CPU is the process's CPU time over each request, what runs beside it (the collector, the span sender) included. ")
	w("Without the network and the clients, that time is the requests' own: other processes on a shared machine stretch the wall clock, not it, and taking turns request by request spreads whatever else the machine does over every side alike. ")
	w("Allocations and bytes come from a run of each side alone. ")
	w("At saturation throughput is the inverse of CPU per request, so its ratio is the throughput cost the load phases above try to see through the noise. ")
	w("The side with the metrics and the log but no tracing tells the parts apart, and the last side is the on side with what exporting adds in the server: its batches converted to OTLP in the background and handed to an OTLP client that sends nothing (the encoding on the wire and the collector's work are left out). ")
	w("A second off side, the same server again, shows the noise: ")
	w("how far two servers that are the same differ here, which a cost must stand above. Medians over the rounds; the cost is the throughput lost, 1 − off ÷ side.\n\n")
	w("| endpoint | side | CPU | ÷ off (median) | cost | target ≤ %.0f%% | wall | allocations | bytes |\n", 100*observabilityTarget)
	w("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n")
	cpu := func(p perRequest) float64 { return float64(p.CPU) }
	wall := func(p perRequest) float64 { return float64(p.Wall) }
	for _, er := range res.Endpoints {
		rounds := res.InProcess[er.Endpoint]
		for _, side := range []int{1, 3, 2, 0, 4} { // off, off again, then each part added
			ratio, cost, target := "", "", ""
			if side != 1 {
				r := inProcessRatio(rounds, side, cpu)
				ratio, cost, target = fmtRatio(r), fmtNum(100*(1-1/r), 1)+"%", meets(1-1/r <= observabilityTarget, r)
			}
			switch side {
			case 3:
				target = "(noise)"
			case 4:
				target = "(beyond the target's no-op exporter)"
			}
			alone := res.Allocations[er.Endpoint][side]
			w("| %v | %s | %s | %s | %s | %s | %s | %.0f | %.0f |\n", er.Endpoint, res.Sides[side],
				fmtDur(time.Duration(inProcessMedian(rounds, side, cpu))), ratio, cost, target,
				fmtDur(time.Duration(inProcessMedian(rounds, side, wall))), alone.Allocs, alone.Bytes)
		}
	}
	return b.String()
}
