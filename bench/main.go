// Command bench measures what a request to the facade costs next to a
// hand-written baseline serving the same data from the same database, and
// writes the ratios to a Markdown report.
//
//	go run ./bench -out bench/RESULTS.md     # the full run, about three minutes
//	go run ./bench -short                    # tiny data, ~1 s of load: checks that it works
//	go run ./bench -observability            # what metrics, access logs and tracing cost, on against off
//	go run ./bench -live 10000               # live subscriptions on one replica (-mysql DSN: over MariaDB)
//
// It generates a legacy database from a seed (cached by seed and sizes),
// builds and starts the real server binary on a loopback port with the
// signature check on, starts the baseline as a second process, and drives
// both over HTTP with the token of a random OP per request. Statements and
// allocations per request are measured in-process over the same file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"opfacade/legacydb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv(liveClientEnv) != "" {
		if err := liveClient(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "live client:", err)
			os.Exit(1)
		}
		return
	}
	if db := os.Getenv(baselineEnv); db != "" {
		if err := serveBaseline(ctx, db, "127.0.0.1:0"); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the tool's flags.
type options struct {
	Out      string
	Seed     int64
	Short    bool
	Sizes    legacydb.Sizes
	Growth   []int
	Clients  []int
	Duration time.Duration // of each measured phase, per server
	Warmup   time.Duration
	Rounds   int
	GrowthD  time.Duration // per OP size and server
	BenchT   string        // testing's -benchtime for the allocation benchmarks
	Sample   int           // OPs whose requests count statements
	CacheDir string
	Facade   string // a prebuilt server binary; empty builds one
	Live     int    // live subscriptions to measure instead; 0 for none
	// MySQL is a mysql:// DSN of an empty database: the data is generated
	// there, and both servers read it, instead of a SQLite file.
	MySQL string
	// Observability measures only what the metrics, the access log and
	// tracing cost (see observability.go).
	Observability bool
	// Load is the flags given that shape the load, as given: for the
	// report's command line.
	Load []string
}

// baselineEnv, set to a database file, makes this program (or its test
// binary) serve the baseline instead: the tool starts itself that way.
const baselineEnv = "OPFACADE_BENCH_BASELINE_DB"

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := legacydb.BenchSizes()
	fs.StringVar(&o.Out, "out", "", "write the Markdown report to this `file` (default: standard output)")
	fs.Int64Var(&o.Seed, "seed", 1, "`seed` of the generated data and of the OP picked per request")
	fs.BoolVar(&o.Short, "short", false, "tiny data and about a second of load: checks that everything works, measures nothing worth reading")
	fs.IntVar(&o.Sizes.Staff, "staff", def.Staff, "OPs to generate, admins included")
	fs.IntVar(&o.Sizes.Admins, "admins", def.Admins, "of -staff, admins")
	fs.IntVar(&o.Sizes.Users, "users", def.Users, "app users")
	fs.IntVar(&o.Sizes.ServiceChatsPerStaff, "service-chats", def.ServiceChatsPerStaff, "chats in service per OP (±25%)")
	fs.IntVar(&o.Sizes.ClosedChatsPerStaff, "closed-chats", def.ClosedChatsPerStaff, "closed chats per OP (±25%)")
	fs.IntVar(&o.Sizes.WaitChats, "wait-chats", def.WaitChats, "chats waiting for an OP")
	fs.IntVar(&o.Sizes.Orders, "orders", def.Orders, "orders")
	fs.IntVar(&o.Sizes.ServiceOrders, "service-orders", def.ServiceOrders, "service orders")
	growth := fs.String("growth", "1,10,100,1000", "comma-separated `counts` of chats in service of the OPs that measure growth")
	clients := fs.String("clients", "1,32", "comma-separated concurrent `clients` of the throughput phases")
	fs.DurationVar(&o.Duration, "duration", 8*time.Second, "measured load per phase and server")
	fs.DurationVar(&o.Warmup, "warmup", 500*time.Millisecond, "load before each phase that is not counted")
	fs.IntVar(&o.Rounds, "rounds", 8, "each phase alternates facade and baseline this many times, to spread the machine's noise over both")
	fs.DurationVar(&o.GrowthD, "growth-duration", 3*time.Second, "sequential requests per growth OP and server")
	fs.StringVar(&o.BenchT, "benchtime", "1s", "how long each in-process allocation benchmark runs (testing's -benchtime)")
	fs.IntVar(&o.Sample, "sample", 100, "OPs whose requests count SQL statements in-process")
	fs.StringVar(&o.CacheDir, "cache", filepath.Join(os.TempDir(), "opfacade-bench"), "`folder` caching generated databases by seed and sizes")
	fs.IntVar(&o.Live, "live", 0, "measure this many live `subscriptions` on one replica instead, over the SQLite file or -mysql (a Markdown section for bench/RESULTS.md); with -short, for a few seconds")
	fs.StringVar(&o.Facade, "facade", "", "the server `binary` to measure (default: go build the module)")
	fs.StringVar(&o.MySQL, "mysql", "", "a mysql:// `DSN` of an empty database (as -db takes it): generate the data there and measure both servers over MariaDB/MySQL instead of SQLite; its tables are replaced")
	fs.BoolVar(&o.Observability, "observability", false, "measure only what the metrics, the access log and tracing cost: the facade in this process with them on against off, in alternating rounds of -duration, -rounds and -clients")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		set[f.Name] = true
		switch f.Name {
		case "clients", "duration", "warmup", "rounds", "growth", "growth-duration", "benchtime":
			o.Load = append(o.Load, "-"+f.Name+" "+f.Value.String())
		}
	})
	if o.Short {
		ss := shortSizes()
		short := map[string]func(){
			"staff": func() { o.Sizes.Staff = ss.Staff }, "admins": func() { o.Sizes.Admins = ss.Admins },
			"users": func() { o.Sizes.Users = ss.Users }, "service-chats": func() { o.Sizes.ServiceChatsPerStaff = ss.ServiceChatsPerStaff },
			"closed-chats": func() { o.Sizes.ClosedChatsPerStaff = ss.ClosedChatsPerStaff }, "wait-chats": func() { o.Sizes.WaitChats = ss.WaitChats },
			"orders": func() { o.Sizes.Orders = ss.Orders }, "service-orders": func() { o.Sizes.ServiceOrders = ss.ServiceOrders },
			"duration": func() { o.Duration = 100 * time.Millisecond }, "warmup": func() { o.Warmup = 20 * time.Millisecond },
			"rounds": func() { o.Rounds = 1 }, "growth-duration": func() { o.GrowthD = 25 * time.Millisecond },
			"benchtime": func() { o.BenchT = "20x" }, "sample": func() { o.Sample = 10 },
		}
		for name, apply := range short {
			if !set[name] {
				apply()
			}
		}
	}
	var err error
	if o.Growth, err = ints(*growth); err != nil {
		return o, fmt.Errorf("-growth: %w", err)
	}
	if o.Clients, err = ints(*clients); err != nil {
		return o, fmt.Errorf("-clients: %w", err)
	}
	for _, c := range o.Clients {
		if c < 1 || c > maxClients {
			return o, fmt.Errorf("-clients: %d is not from 1 to %d", c, maxClients)
		}
	}
	if o.Duration <= 0 || o.Duration > maxPhase || o.GrowthD <= 0 || o.GrowthD > maxPhase || o.Warmup < 0 || o.Warmup > maxPhase {
		return o, fmt.Errorf("-duration, -growth-duration and -warmup must be from 0 to %v", maxPhase)
	}
	o.Rounds = max(o.Rounds, 1)
	o.Sample = max(o.Sample, 1)
	return o, nil
}

// shortSizes are the tiny data of -short and of go test -short.
func shortSizes() legacydb.Sizes {
	return legacydb.Sizes{Staff: 20, Admins: 1, Users: 500, ServiceChatsPerStaff: 8, ClosedChatsPerStaff: 10,
		WaitChats: 20, Orders: 2000, ServiceOrders: 600}
}

func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	report, err := measureReport(ctx, o, logf)
	if err != nil {
		return err
	}
	if o.Out == "" {
		_, err = io.WriteString(stdout, report)
		return err
	}
	if err := os.WriteFile(o.Out, []byte(report), 0o644); err != nil {
		return err
	}
	logf("wrote %s", o.Out)
	return nil
}

// measureReport runs the measurements o asks for and writes their report.
func measureReport(ctx context.Context, o options, logf func(string, ...any)) (string, error) {
	if o.Live > 0 {
		res, err := runLive(ctx, o, o.Live, logf)
		if err != nil {
			return "", err
		}
		return res.markdown(), nil
	}
	if o.Observability {
		res, err := measureObservability(ctx, o, logf)
		if err != nil {
			return "", err
		}
		return res.markdown(), nil
	}
	res, err := measure(ctx, o, logf)
	if err != nil {
		return "", err
	}
	return res.markdown(), nil
}
