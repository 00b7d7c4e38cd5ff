package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"opfacade/app"
)

// benchHost is the -host-name both servers show in the legacy footer.
const benchHost = "bench"

// benchQuery asks for every field of an OP's chats, their users and grades.
const benchQuery = `query MyChats {
  me {
    id name role isOnline
    chats {
      id groupId title status storedStatus address message createTime
      user { id nickName icon grade { chatCount orderCount serviceCount } }
      staff { id name role isOnline }
    }
  }
}`

// sqlitePool is the store's default SQLite pool size on this machine.
func sqlitePool() int { return max(4, 2*runtime.NumCPU()) }

// platformZone is the server's default -tz.
func platformZone() *time.Location {
	loc, err := time.LoadLocation(app.PlatformZone)
	if err != nil {
		panic(err)
	}
	return loc
}

// facadeConfig is the server's configuration with its defaults, as the
// load phases start it (see startFacade), but for the fair share: a
// benchmark sends one token far more often than a console, so the
// limiters run, and are measured, at a rate no benchmark reaches.
func facadeConfig() app.Config {
	return app.Config{Zone: platformZone(), HostName: benchHost, CheckSign: true, Introspection: true,
		RateLimit: app.RateLimit{PerSecond: 1e9, ClientPerSecond: 1e9}}
}

// facadeHandler is the server's handler over b, for the in-process
// measurements (statements, allocations).
func facadeHandler(b app.Backend) http.Handler { return app.Handler(b, facadeConfig()) }

// server is a server process the load is pointed at.
type server struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	done chan error
	log  *os.File
	once sync.Once
}

// buildFacade builds the real server binary from the module at modDir.
func buildFacade(ctx context.Context, modDir, dir string) (string, error) {
	bin := filepath.Join(dir, "opfacade")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = modDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// moduleDir is the folder of the module this program belongs to.
func moduleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

var listening = regexp.MustCompile(`\((http://127\.0\.0\.1:\d+)\)`)

// startServer runs bin with args, reads its base URL from the first line
// it prints, and waits until it answers.
func startServer(ctx context.Context, name, logDir string, env []string, bin string, args ...string) (*server, error) {
	logf, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, cmd: cmd, done: make(chan error, 1), log: logf}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for s.base == "" {
		select {
		case line := <-lines:
			if m := listening.FindStringSubmatch(line); m != nil {
				s.base = m[1]
			}
		case err := <-s.done:
			return nil, fmt.Errorf("%s exited before serving: %v (log: %s)", name, err, logf.Name())
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("%s printed no address within 30s (log: %s)", name, logf.Name())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
	return s, nil
}

// stop ends the server process this program started, gracefully first.
func (s *server) stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		_ = s.log.Close()
	})
}

// cpu is the server process's CPU time so far (see processCPU); for a
// server in this process, this process's, the load driver's included.
func (s *server) cpu() (time.Duration, error) {
	if s.cmd == nil {
		return selfCPU(), nil
	}
	return processCPU(s.cmd.Process.Pid)
}

// selfCPU is this process's user plus system time so far, to the
// microsecond. Other processes on a shared machine slow the wall clock,
// not this.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssAnon is the process's anonymous resident memory in bytes, from
// /proc/PID/status.
func rssAnon(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no RssAnon in /proc/%d/status", pid)
}

// processCPU is a process's user plus system time so far, from
// /proc/PID/stat (fields 14 and 15, in the kernel's USER_HZ ticks: 100 a
// second on Linux).
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it do not.
	i := strings.LastIndexByte(string(raw), ')')
	f := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// serveBaseline is the baseline's process: it serves until SIGTERM.
func serveBaseline(ctx context.Context, dbPath, addr string) error {
	b, err := newBaseline(ctx, dbPath, platformZone(), benchHost)
	if err != nil {
		return err
	}
	defer b.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: b.routes(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("baseline serving %s (http://%s)\n", dbPath, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
