package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"opfacade/app"
	"opfacade/store"
)

// The live benchmark (-live N): N subscriptions on one replica, served
// in this process over loopback, and held by a client in a process of
// its own (this program again, liveClientEnv set), over at most 100
// subscriptions a WebSocket, so that the server's CPU and memory are
// this process's alone. It measures the SQL statements and the CPU of a
// tick with nothing changing, the memory each subscription holds, and
// the time from a change in the database to its message at the client,
// over a copy of the cached SQLite file or, with -mysql, data generated
// in that database.

// liveClientEnv makes this program the live benchmark's client.
const liveClientEnv = "OPFACADE_BENCH_LIVE_CLIENT"

// liveQuery is the consoles' selection, subscribed.
const liveQuery = `subscription { me { id name isOnline chats { id title status message createTime user { nickName icon grade { chatCount orderCount serviceCount } } } } }`

// livePlan is what the client is told: where, and one token a
// subscription.
type livePlan struct {
	URL    string
	Tokens []string
}

// liveResult is the live benchmark's figures.
type liveResult struct {
	Opt                 options
	Started             time.Time
	CPU                 string
	LoadAvg             [2]string // before and after
	Subs, OPs, Conns    int
	Interval            time.Duration
	Ticks               int64
	StatementsPerTick   float64
	CPUPerTick          time.Duration
	HeapPerSub          int64
	GoroutinesPerSub    float64
	Changes             int
	P50, P99, Max       time.Duration
	SubscribeTook       time.Duration
	StatementsPerChange float64
}

// livePhases is how long the live benchmark watches: the interval, the
// intervals it lets settle and those it measures with nothing changing,
// and the changes it makes. -short makes each a fraction.
type livePhases struct {
	interval       time.Duration
	settle, quiet  int
	changes        int
	changeDeadline time.Duration
}

func phasesFor(o options) livePhases {
	if o.Short {
		return livePhases{interval: 100 * time.Millisecond, settle: 2, quiet: 3, changes: 5, changeDeadline: 30 * time.Second}
	}
	return livePhases{interval: time.Second, settle: 3, quiet: 10, changes: 60, changeDeadline: time.Minute}
}

// liveDatabase opens what the live benchmark reads, and a second
// connection that writes its changes: a copy of the cached SQLite file
// (never the cache itself), or, with -mysql, the data generated there.
func liveDatabase(ctx context.Context, o options) (ds *dataset, st, writer *store.Store, cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(err error) (*dataset, *store.Store, *store.Store, func(), error) {
		cleanup()
		return nil, nil, nil, nil, err
	}
	opt := store.Options{Zone: platformZone()}
	if o.MySQL != "" {
		if ds, err = generateMySQL(ctx, o.MySQL, o.Sizes, o.Seed, o.Growth); err != nil {
			return fail(err)
		}
	} else {
		if ds, err = openDataset(ctx, o.CacheDir, o.Sizes, o.Seed, o.Growth); err != nil { // the load phases' cached database
			return fail(err)
		}
		tmp, err := os.MkdirTemp("", "opfacade-live-")
		if err != nil {
			return fail(err)
		}
		undo = append(undo, func() { _ = os.RemoveAll(tmp) })
		if ds.Path, err = copyFile(ds.Path, filepath.Join(tmp, "legacy.db")); err != nil {
			return fail(err)
		}
		opt.MaxOpenConns = sqlitePool()
	}
	if st, err = store.Open(ctx, ds.Path, opt); err != nil {
		return fail(err)
	}
	undo = append(undo, func() { _ = st.Close() })
	if writer, err = store.Open(ctx, ds.Path, store.Options{Zone: platformZone()}); err != nil {
		return fail(err)
	}
	undo = append(undo, func() { _ = writer.Close() })
	return ds, st, writer, cleanup, nil
}

func runLive(ctx context.Context, o options, subs int, logf func(string, ...any)) (*liveResult, error) {
	res := &liveResult{Opt: o, Started: time.Now().UTC(), CPU: cpuModel(), LoadAvg: [2]string{loadAvg(), ""}}
	ds, st, writer, cleanup, err := liveDatabase(ctx, o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	ph := phasesFor(o)
	cfg := facadeConfig()
	cfg.Live.Interval = ph.interval
	cfg.Live.MaxPerReplica, cfg.Live.MaxPerToken, cfg.Live.MaxPerConnection = subs, subs, subs
	h, hub := app.NewHandler(st, cfg)
	defer hub.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	plan := livePlan{URL: "ws://" + ln.Addr().String() + "/query"}
	for i := range subs {
		plan.Tokens = append(plan.Tokens, ds.OPs[i%len(ds.OPs)].Token)
	}
	ops := min(subs, len(ds.OPs))
	runtime.GC()
	heap0, g0 := heapNow(), runtime.NumGoroutine()

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), liveClientEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	_ = json.NewEncoder(stdin).Encode(plan)
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		return nil, fmt.Errorf("the live client did not get ready: %q", lines.Text())
	}
	res.Subs, res.OPs, res.Conns = subs, ops, ops*((subs/ops+99)/100)
	res.Interval, res.SubscribeTook = hub.Config().Interval, time.Since(start)
	logf("live: %d subscriptions over %d OPs open in %v", subs, ops, res.SubscribeTook.Round(time.Millisecond))

	// Quiet: nothing changes; what a tick costs.
	time.Sleep(time.Duration(ph.settle) * res.Interval) // the first ticks' re-runs for new subscribers settle
	runtime.GC()
	res.HeapPerSub = (heapNow() - heap0) / int64(subs)
	res.GoroutinesPerSub = float64(runtime.NumGoroutine()-g0) / float64(subs)
	t0, s0, c0 := hub.Ticks(), st.Statements(), cpuNow()
	time.Sleep(time.Duration(ph.quiet) * res.Interval)
	t1, s1, c1 := hub.Ticks(), st.Statements(), cpuNow()
	res.Ticks = t1 - t0
	res.StatementsPerTick = float64(s1-s0) / float64(max(res.Ticks, 1))
	res.CPUPerTick = (c1 - c0) / time.Duration(max(res.Ticks, 1))
	logf("live: %d ticks, %.2f statements and %v CPU a tick", res.Ticks, res.StatementsPerTick, res.CPUPerTick)

	// Changes: a chat of a random subscribed OP retitled, then every one
	// of its subscribers' messages awaited.
	arrivals := make(chan [2]int64, 1024)
	go func() {
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			if len(f) == 2 {
				op, _ := strconv.ParseInt(f[0], 10, 64)
				at, _ := strconv.ParseInt(f[1], 10, 64)
				arrivals <- [2]int64{op, at}
			}
		}
		close(arrivals)
	}()
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 7))
	var lat []time.Duration
	s2 := st.Statements()
	changes := ph.changes
	for i := range changes {
		op := rng.IntN(ops)
		want := subs / ops
		if op < subs%ops {
			want++
		}
		// At a random point between ticks, as changes come: right after
		// the last message, which follows a tick, every change would wait
		// a whole interval.
		time.Sleep(time.Duration(rng.Int64N(int64(res.Interval))))
		at := time.Now()
		// The chat's id through a derived table: MySQL updates no table
		// its own subquery reads.
		if _, err := writer.DB().ExecContext(ctx, `UPDATE op_chat SET title = ? WHERE chat_id = (SELECT id FROM (SELECT MIN(chat_id) AS id FROM op_chat WHERE staff_id = ? AND status = 'Service') first)`,
			fmt.Sprintf("live %d", i), ds.OPs[op].StaffID); err != nil {
			return nil, err
		}
		for got := 0; got < want; {
			select {
			case a, ok := <-arrivals:
				if !ok {
					return nil, fmt.Errorf("the live client ended")
				}
				if int(a[0]) == op {
					lat = append(lat, time.Unix(0, a[1]).Sub(at))
					got++
				}
			case <-time.After(ph.changeDeadline):
				return nil, fmt.Errorf("change %d: %d of %d messages within %v", i, got, want, ph.changeDeadline)
			}
		}
	}
	res.Changes = changes
	ticks := float64(hub.Ticks() - t1)
	res.StatementsPerChange = (float64(st.Statements()-s2) - ticks*res.StatementsPerTick) / float64(changes)
	res.LoadAvg[1] = loadAvg()
	slices.Sort(lat)
	res.P50, res.P99, res.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	logf("live: change to message p50 %v, p99 %v, max %v", res.P50, res.P99, res.Max)
	_ = stdin.Close()
	return res, nil
}

// copyFile copies the file at from to to, and returns to.
func copyFile(from, to string) (string, error) {
	src, err := os.Open(from)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return "", err
	}
	return to, dst.Close()
}

func heapNow() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// cpuNow is the CPU this process has used, user and system.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// liveClient is the live benchmark's client: it reads a livePlan on
// stdin, opens its subscriptions, prints "ready" once each has its first
// answer, then a line "<OP index> <unix nanoseconds>" per message, until
// stdin closes.
func liveClient(stdin io.Reader, stdout io.Writer) error {
	var plan livePlan
	if err := json.NewDecoder(stdin).Decode(&plan); err != nil {
		return err
	}
	ops := map[string]int{}
	for _, tok := range plan.Tokens {
		if _, ok := ops[tok]; !ok {
			ops[tok] = len(ops)
		}
	}
	var mu sync.Mutex
	out := bufio.NewWriter(stdout)
	var ready sync.WaitGroup
	errs := make(chan error, 1)
	// One WebSocket per OP, as each console has one, with at most 100
	// subscriptions.
	byToken := map[string]int{}
	for _, tok := range plan.Tokens {
		byToken[tok]++
	}
	for tok, n := range byToken {
		for n > 0 {
			k := min(n, 100)
			n -= k
			ready.Add(k)
			go func() {
				err := liveConn(plan.URL, tok, k, ops[tok], &ready, func(op int) {
					mu.Lock()
					fmt.Fprintf(out, "%d %d\n", op, time.Now().UnixNano())
					_ = out.Flush()
					mu.Unlock()
				})
				select { // it returns only when its socket fails
				case errs <- err:
				default:
				}
			}()
		}
	}
	done := make(chan struct{})
	go func() { ready.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-errs:
		return err
	}
	mu.Lock()
	fmt.Fprintln(out, "ready")
	_ = out.Flush()
	mu.Unlock()
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// liveConn holds one WebSocket's n subscriptions with token, of the OP
// of index op.
func liveConn(url, token string, n, op int, ready *sync.WaitGroup, arrived func(op int)) error {
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return err
	}
	c.SetReadLimit(16 << 20)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return c.Write(ctx, websocket.MessageText, b)
	}
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		return err
	}
	for i := range n {
		if err := send(map[string]any{"id": strconv.Itoa(i), "type": "subscribe", "payload": map[string]string{"query": liveQuery}}); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return err
		}
		var m struct{ ID, Type string }
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case "ping":
			_ = send(map[string]string{"type": "pong"})
		case "next":
			if !seen[m.ID] {
				seen[m.ID] = true
				ready.Done()
				continue
			}
			arrived(op)
		}
	}
}

// markdown is the section of bench/RESULTS.md the figures make.
func (r *liveResult) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Live subscriptions over the %s\n\n", engineName(r.Opt))
	w("`go run ./bench -live %d%s`: %d subscriptions of the consoles' selection (`me { … chats { … user { … grade { … } } } }`) over %d OPs, %d WebSockets from one client process, on one replica in process over loopback; `-live-interval` %v. ",
		r.Subs, flagsLine(r.Opt), r.Subs, r.OPs, r.Conns, r.Interval)
	w("Each change retitles a chat in service of a random subscribed OP, at a random point between ticks, and waits for the message of each of its subscribers.\n\n")
	runHeader(&b, r.Opt.Short, r.Started, r.CPU)
	w("| load average | %s before, %s after (a shared machine: other work shows here and in the numbers) |\n\n", r.LoadAvg[0], r.LoadAvg[1])
	w("| | |\n| --- | ---: |\n")
	w("| subscriptions opened, each with its first answer | %v |\n", r.SubscribeTook.Round(time.Millisecond))
	w("| SQL statements per tick, nothing changing (%d ticks) | %.2f |\n", r.Ticks, r.StatementsPerTick)
	w("| CPU per tick, nothing changing (the server's process) | %v |\n", r.CPUPerTick.Round(10*time.Microsecond))
	w("| heap per subscription | %.1f KB |\n", float64(r.HeapPerSub)/1024)
	w("| goroutines per subscription | %.2f |\n", r.GoroutinesPerSub)
	w("| a change to its messages, %d changes: p50 | %v |\n", r.Changes, r.P50.Round(time.Millisecond))
	w("| p99 | %v |\n", r.P99.Round(time.Millisecond))
	w("| max | %v |\n", r.Max.Round(time.Millisecond))
	w("| SQL statements per change, beyond the ticks' (the selection's run, which the OP's %d subscribers share) | %.1f |\n", max(r.Subs/max(r.OPs, 1), 1), r.StatementsPerChange)
	return b.String()
}
