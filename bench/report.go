package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"opfacade/store"
)

// slope fits time per request (p50) against chats by least squares and
// returns it per chat.
func slope(rows []growthRow, pick func(growthRow) loadResult) float64 {
	xs, ys := make([]float64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		lr := pick(r)
		if len(lr.Lat) == 0 {
			return math.NaN()
		}
		xs[i], ys[i] = float64(r.Chats), float64(lr.quantile(0.5))
	}
	return fit(xs, ys)
}

// inProcessSlope is slope over the in-process times of side (see
// growthRow.InProcess).
func inProcessSlope(rows []growthRow, side int) float64 {
	xs, ys := make([]float64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		if r.InProcess[side] == 0 {
			return math.NaN()
		}
		xs[i], ys[i] = float64(r.Chats), r.InProcess[side]
	}
	return fit(xs, ys)
}

// fit is the least-squares slope of ys over xs.
func fit(xs, ys []float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for i, x := range xs {
		y := ys[i]
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	if n < 2 || n*sxx-sx*sx == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

func fmtNum(v float64, prec int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func fmtDur(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f ms", float64(d)/1e6)
}

func mb(b float64) string { return fmt.Sprintf("%.1f MB", b/(1<<20)) }

// meets says whether a target is met; the report states it, nothing fails on it.
func meets(ok bool, v float64) string {
	if math.IsNaN(v) {
		return "not measured"
	}
	if ok {
		return "met"
	}
	return "**not met**"
}

func (res *results) markdown() string {
	var b strings.Builder
	o := res.Opt
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# What a request costs: the facade against a hand-written baseline\n\n")
	w("Written by `go run ./bench%s`. Every ratio is facade ÷ baseline, both measured in this run, ", flagsLine(o))
	w("over the same %s on the same machine; the baseline (`bench/baseline.go`) serves the same JSON ", engineName(o))
	w("with net/http and database/sql as a careful engineer would write it by hand: three statements prepared once (token → staff, chats with users, ")
	w("the grades of the user ids just read, bound rather than selected again), a fourth for the legacy client; %s; ", baseSettings(o))
	w("DATETIMEs read as text with the one layout the platform writes; the JSON appended to a pooled buffer and written once; ")
	w("over SQLite, statements run under a context that does not end, so that database/sql starts no goroutine to watch each (the facade's store spares that goroutine on both engines, while its drivers still cut off a statement whose request ended); over MySQL, the request's context, which the driver needs to cut off a statement a hung server does not answer. ")
	w("Both servers are separate processes on loopback, driven by closed-loop clients with a random OP's token per request. ")
	w("Load phases run in rounds, the two servers back to back, each going first in every other round; their ratios are the median of the per-round ratios, so that a burst of other work ")
	w("on a shared machine skews one round rather than the result, while the absolute numbers pool all rounds. ")
	w("For throughput higher is better; for everything else lower is.\n\n")
	runHeader(&b, o.Short, res.Started, res.CPU)
	s := res.Dataset.Sizes
	w("| data | seed %d: %d OPs (%d admins), %d users, ~%d chats in service and ~%d closed per OP, %d waiting, %d orders, %d service orders; plus OPs with exactly %s chats in service |\n",
		res.Dataset.Seed, s.Staff, s.Admins, s.Users, s.ServiceChatsPerStaff, s.ClosedChatsPerStaff, s.WaitChats, s.Orders, s.ServiceOrders, joinInts(o.Growth))
	w("| load | %v measured per phase and server in %d alternating rounds, after %v of warm-up each; growth: %v of sequential requests per OP and server |\n",
		o.Duration, o.Rounds, o.Warmup, o.GrowthD)
	w("| run | %v; load average %s before, %s after (a shared machine: other work shows here and in the numbers) |\n\n",
		res.Took.Round(time.Second), res.LoadAvg[0], res.LoadAvg[1])

	w("## Against the targets\n\n")
	w("| measure | target | GraphQL | | legacy v2 | |\n| --- | --- | --- | --- | --- | --- |\n")
	gq, lg := res.Endpoints[0], res.Endpoints[1]
	row := func(name, target string, f func(*endpointResult) (string, string)) {
		a, am := f(gq)
		c, cm := f(lg)
		w("| %s | %s | %s | %s | %s | %s |\n", name, target, a, am, c, cm)
	}
	hiClients, loClients := maxInt(o.Clients), minInt(o.Clients)
	// at is a target per endpoint: GraphQL's, then legacy's.
	at := func(er *endpointResult, graphQLTarget, legacyTarget float64) float64 {
		if er.Endpoint == legacyV2 {
			return legacyTarget
		}
		return graphQLTarget
	}
	ratioRow := func(name, target string, value func(*endpointResult) float64, ok func(er *endpointResult, r float64) bool) {
		row(name, target, func(er *endpointResult) (string, string) {
			r := value(er)
			if ok == nil {
				return fmtRatio(r), ""
			}
			return fmtRatio(r), meets(ok(er, r), r)
		})
	}
	ratioRow(fmt.Sprintf("throughput, %d clients", hiClients), "≥ 0.85× GraphQL, ≥ 0.9× legacy",
		func(er *endpointResult) float64 { return loadRatio(er, hiClients, loadResult.throughput) },
		func(er *endpointResult, r float64) bool { return r >= at(er, 0.85, 0.9) })
	ratioRow(fmt.Sprintf("throughput, %d client", loClients), "",
		func(er *endpointResult) float64 { return loadRatio(er, loClients, loadResult.throughput) }, nil)
	ratioRow(fmt.Sprintf("server CPU per request, %d clients", hiClients), "≤ 1.2× GraphQL, ≤ 1.15× legacy",
		func(er *endpointResult) float64 { return loadRatio(er, hiClients, loadResult.cpuPerRequest) },
		func(er *endpointResult, r float64) bool { return r <= at(er, 1.2, 1.15) })
	p50 := func(l loadResult) float64 { return float64(l.quantile(0.5)) }
	ratioRow(fmt.Sprintf("p50 latency, %d client", loClients), "≤ 1.2× GraphQL, ≤ 1.15× legacy",
		func(er *endpointResult) float64 { return loadRatio(er, loClients, p50) },
		func(er *endpointResult, r float64) bool { return r <= at(er, 1.2, 1.15) })
	ratioRow(fmt.Sprintf("p99 latency, %d client", loClients), "",
		func(er *endpointResult) float64 {
			return loadRatio(er, loClients, func(l loadResult) float64 { return float64(l.quantile(0.99)) })
		}, nil)
	row("SQL statements per request (facade, absolute)", "the baseline's; constant in chats", func(er *endpointResult) (string, string) {
		v := er.Statements.Facade
		same := v == er.Statements.Baseline
		for _, g := range er.Growth {
			same = same && g.Statements.Facade == g.Statements.Baseline
		}
		return fmtNum(v, 2) + " (baseline " + fmtNum(er.Statements.Baseline, 2) + ")", meets(same, v)
	})
	row("allocations per request", "≤ 2×", func(er *endpointResult) (string, string) {
		r := er.Allocs.ratio()
		return fmtRatio(r) + " (" + fmtNum(er.Allocs.Facade, 0) + " vs " + fmtNum(er.Allocs.Baseline, 0) + ")", meets(r <= 2, r)
	})
	ratioRow("time per request per chat (slope)", "≤ 1.2×",
		func(er *endpointResult) float64 {
			return slope(er.Growth, func(g growthRow) loadResult { return g.Facade }) / slope(er.Growth, func(g growthRow) loadResult { return g.Baseline })
		},
		func(_ *endpointResult, r float64) bool { return r <= 1.2 })
	w("| server RssAnon after the load | < 40 MB | %s (baseline %s) | %s | | |\n\n", mb(res.RSS.Facade), mb(res.RSS.Baseline), meets(res.RSS.Facade < 40<<20, res.RSS.Facade))

	for _, er := range res.Endpoints {
		w("## %v\n\n", er.Endpoint)
		if er.Skipped != "" {
			w("> Facade not measured: %s\n\n", er.Skipped)
		}
		w("| clients | facade req/s | baseline req/s | ratio | facade p50 | baseline p50 | ratio | facade p99 | baseline p99 | ratio |\n")
		w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, c := range o.Clients {
			l := er.Load[c]
			f, bl := l[0], l[1]
			w("| %d | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", c,
				fmtNum(nanIfEmpty(f, f.throughput()), 0), bl.throughput(), fmtRatio(loadRatio(er, c, loadResult.throughput)),
				fmtDur(f.quantile(0.5)), fmtDur(bl.quantile(0.5)), fmtRatio(loadRatio(er, c, func(l loadResult) float64 { return float64(l.quantile(0.5)) })),
				fmtDur(f.quantile(0.99)), fmtDur(bl.quantile(0.99)), fmtRatio(loadRatio(er, c, func(l loadResult) float64 { return float64(l.quantile(0.99)) })))
		}
		w("\nServer CPU (user + system, from /proc) per request under that load: what a request costs the server whatever the client's share of the machine; at saturation, throughput is its inverse.\n\n")
		w("| clients | facade | baseline | ratio |\n| ---: | ---: | ---: | ---: |\n")
		for _, c := range o.Clients {
			l := er.Load[c]
			w("| %d | %s | %s | %s |\n", c, fmtDur(time.Duration(nanZero(l[0].cpuPerRequest()))), fmtDur(time.Duration(nanZero(l[1].cpuPerRequest()))),
				fmtRatio(loadRatio(er, c, loadResult.cpuPerRequest)))
		}
		w("\nIn-process (`go test -bench` path: the handler called directly, no network), over the first %d OPs in turn:\n\n", min(o.Sample, len(res.Dataset.OPs)))
		w("| | facade | baseline | ratio |\n| --- | ---: | ---: | ---: |\n")
		w("| SQL statements per request | %s | %s | %s |\n", fmtNum(er.Statements.Facade, 2), fmtNum(er.Statements.Baseline, 2), fmtRatio(er.Statements.ratio()))
		w("| allocations per request | %s | %s | %s |\n", fmtNum(er.Allocs.Facade, 0), fmtNum(er.Allocs.Baseline, 0), fmtRatio(er.Allocs.ratio()))
		w("| bytes allocated per request | %s | %s | %s |\n", fmtNum(er.Bytes.Facade, 0), fmtNum(er.Bytes.Baseline, 0), fmtRatio(er.Bytes.ratio()))
		w("| time per request | %s | %s | %s |\n", fmtDur(time.Duration(nanZero(er.NsPerOp.Facade))), fmtDur(time.Duration(er.NsPerOp.Baseline)), fmtRatio(er.NsPerOp.ratio()))
		w("\nGrowth: sequential requests (1 client) for OPs with exactly this many chats in service.\n\n")
		w("| chats | facade p50 | baseline p50 | ratio | facade statements | baseline statements |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, g := range er.Growth {
			w("| %d | %s | %s | %s | %s | %s |\n", g.Chats, fmtDur(g.Facade.quantile(0.5)), fmtDur(g.Baseline.quantile(0.5)),
				fmtRatio(nanIfEmpty(g.Facade, float64(g.Facade.quantile(0.5)))/float64(g.Baseline.quantile(0.5))),
				fmtNum(g.Statements.Facade, 0), fmtNum(g.Statements.Baseline, 0))
		}
		fs := slope(er.Growth, func(g growthRow) loadResult { return g.Facade })
		bs := slope(er.Growth, func(g growthRow) loadResult { return g.Baseline })
		w("\nSlope (least squares of p50 over chats): facade %s µs per chat, baseline %s µs per chat: %s.\n\n",
			fmtNum(fs/1e3, 2), fmtNum(bs/1e3, 2), fmtRatio(fs/bs))
		if er.Endpoint == graphQL {
			floorSection(w, er.Growth)
		}
	}
	w("## Memory\n\nAnonymous resident memory (RssAnon, /proc/PID/status) of each server process after all of its load: ")
	w("facade %s, baseline %s (%s). The database file is mapped and cached by the kernel; that is file memory, not counted here.\n\n",
		mb(res.RSS.Facade), mb(res.RSS.Baseline), fmtRatio(res.RSS.ratio()))
	w("## Rerun\n\n```sh\ngo run ./bench%s   # this report\ngo run ./bench -short   # a quick check that it works\ngo test -run '^$' -bench . -benchmem ./bench   # allocations per request, in-process\n```\n\n", flagsLine(o))
	w("Generated databases are cached by seed and sizes in `%s`; the first run generates one (BenchSizes: a few seconds).\n", "$TMPDIR/opfacade-bench")
	return b.String()
}

// floorSection shows where the time per chat goes: the same growth OPs
// in-process, with the facade also over data already in memory.
func floorSection(w func(string, ...any), rows []growthRow) {
	w("Where the time per chat goes: the same OPs in-process (`testing.Benchmark`, one after the other), with the facade also run over ")
	w("the rows already in memory (`bench/memstore.go`: no SQL at all, only gqlgen, the loaders and the resolvers).\n\n")
	w("| chats | facade | facade over memory | baseline | facade ÷ baseline | memory ÷ baseline |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, g := range rows {
		f, m, b := g.InProcess[0], g.InProcess[1], g.InProcess[2]
		w("| %d | %s | %s | %s | %s | %s |\n", g.Chats, fmtDur(time.Duration(f)), fmtDur(time.Duration(m)), fmtDur(time.Duration(b)),
			fmtRatio(f/b), fmtRatio(m/b))
	}
	f, m, b := inProcessSlope(rows, 0), inProcessSlope(rows, 1), inProcessSlope(rows, 2)
	w("\nSlope in-process: facade %s µs per chat, facade over memory %s µs per chat, baseline %s µs per chat. ",
		fmtNum(f/1e3, 2), fmtNum(m/1e3, 2), fmtNum(b/1e3, 2))
	w("With no SQL at all the facade's time per chat is %s the baseline's whole time per chat, its reads included: ", fmtRatio(m/b))
	w("that share is gqlgen's execution (a field context, a resolver call and a marshaler per field, a goroutine per list element) and no change to the statements can remove it.\n\n")
}

// loadRatio is the median over rounds of facade ÷ baseline: each round
// ran both back to back, so a burst of other work on a shared machine
// skews one round, not the ratio.
func loadRatio(er *endpointResult, clients int, v func(loadResult) float64) float64 {
	var ratios []float64
	for _, r := range er.Rounds[clients] {
		if len(r[0].Lat) > 0 && len(r[1].Lat) > 0 {
			ratios = append(ratios, v(r[0])/v(r[1]))
		}
	}
	if len(ratios) == 0 {
		return math.NaN()
	}
	slices.Sort(ratios)
	if n := len(ratios); n%2 == 0 {
		return (ratios[n/2-1] + ratios[n/2]) / 2
	}
	return ratios[len(ratios)/2]
}

func nanIfEmpty(l loadResult, v float64) float64 {
	if len(l.Lat) == 0 {
		return math.NaN()
	}
	return v
}

func nanZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func maxInt(v []int) int {
	m := 0
	for _, n := range v {
		m = max(m, n)
	}
	return m
}

func minInt(v []int) int {
	m := math.MaxInt
	for _, n := range v {
		m = min(m, n)
	}
	return m
}

// flagsLine is the command line that reproduces the run, short of defaults.
func flagsLine(o options) string {
	var f []string
	if o.Short {
		f = append(f, "-short")
	}
	if o.Seed != 1 {
		f = append(f, fmt.Sprintf("-seed %d", o.Seed))
	}
	if o.MySQL != "" {
		f = append(f, "-mysql "+store.Redact(o.MySQL))
	}
	f = append(f, o.Load...)
	if o.Out != "" {
		f = append(f, "-out "+o.Out)
	}
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, " ")
}

// baseSettings is what the baseline takes from the store's settings for
// the engine (see openBaseDB).
func baseSettings(o options) string {
	if o.MySQL != "" {
		return fmt.Sprintf("the store's MySQL pool (%d connections)", baseMySQLPool)
	}
	return "the store's SQLite settings (DSN, mmap, page cache, pool, the C heap kept rather than handed back to the kernel, each statement's plan kept whatever values are bound)"
}

// engineName is the database both servers read.
func engineName(o options) string {
	if o.MySQL != "" {
		return "MariaDB/MySQL database (-mysql)"
	}
	return "SQLite file"
}

// runHeader writes what every report opens with: the short-mode warning,
// then the first rows of its table of the run (date, machine, Go).
func runHeader(b *strings.Builder, short bool, started time.Time, cpu string) {
	if short {
		b.WriteString("> **Short mode**: tiny data and a fraction of a second of load. These numbers only show that the tool works; do not read them.\n\n")
	}
	b.WriteString("| | |\n| --- | --- |\n")
	fmt.Fprintf(b, "| date | %s |\n", started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(b, "| machine | %s, %d cores (GOMAXPROCS %d), %s/%s |\n", cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(b, "| Go | %s |\n", runtime.Version())
}
