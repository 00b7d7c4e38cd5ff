package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/store"
)

// The tests of this file hold the facade to its connection pool settings
// and to riding out database outages.

// withAddr points a mysql:// DSN at another server address.
func withAddr(t testing.TB, dsn, addr string) string {
	t.Helper()
	cfg, err := store.MySQLConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = addr
	return "mysql://" + cfg.FormatDSN()
}

func TestStorePoolSettings(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		db := e.NewDB(t)
		// The command's flags -db-max-open, -db-max-idle and
		// -db-conn-lifetime set these (its TestStorePoolFlags).
		t.Run("configured", func(t *testing.T) {
			srv := apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) {
				c.Store = store.Options{MaxOpenConns: 7, MaxIdleConns: 3, ConnMaxLifetime: 90 * time.Second}
			}))
			if got, want := srv.Store.Pool(), (store.Pool{MaxOpen: 7, MaxIdle: 3, ConnMaxLifetime: 90 * time.Second}); got != want {
				t.Errorf("pool = %+v, want %+v", got, want)
			}
			sqlDB := srv.Store.DB()
			if got := sqlDB.Stats().MaxOpenConnections; got != 7 {
				t.Errorf("MaxOpenConnections = %d, want 7", got)
			}
			// Hold five connections, then return them: three stay idle.
			ctx := context.Background()
			var conns []interface{ Close() error }
			for range 5 {
				c, err := sqlDB.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.PingContext(ctx); err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
			for _, c := range conns {
				_ = c.Close()
			}
			if st := sqlDB.Stats(); st.Idle != 3 || st.MaxIdleClosed != 2 {
				t.Errorf("after returning 5 connections: idle %d, closed for the idle limit %d; want 3 and 2", st.Idle, st.MaxIdleClosed)
			}
		})
		t.Run("defaults", func(t *testing.T) {
			srv := apptest.NewServer(t, apptest.Config(t, db))
			want := store.Pool{MaxOpen: 32, MaxIdle: 32, ConnMaxLifetime: 5 * time.Minute}
			if e.Name == "sqlite" {
				n := max(4, 2*runtime.NumCPU())
				want = store.Pool{MaxOpen: n, MaxIdle: n}
			}
			if got := srv.Store.Pool(); got != want {
				t.Errorf("pool = %+v, want %+v", got, want)
			}
			if got := srv.Store.DB().Stats().MaxOpenConnections; got != want.MaxOpen {
				t.Errorf("MaxOpenConnections = %d, want %d", got, want.MaxOpen)
			}
		})
		t.Run("idle never above open", func(t *testing.T) {
			srv := apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) { c.Store = store.Options{MaxOpenConns: 2, MaxIdleConns: 10} }))
			if got := srv.Store.Pool(); got.MaxOpen != 2 || got.MaxIdle != 2 {
				t.Errorf("pool = %+v, want 2 open and 2 idle", got)
			}
		})
	})
}

// tcpProxy forwards connections from a loopback port to target until it
// is closed; reopened, it listens on the same port again. Closing it also
// cuts the connections it carries, as a database restart would.
type tcpProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func startProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.open(t)
	t.Cleanup(p.close)
	return p
}

// retarget forwards new connections to target.
func (p *tcpProxy) retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

func (p *tcpProxy) open(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			target := p.target
			p.mu.Unlock()
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			if !p.track(ln, c, up) {
				continue
			}
			p.wg.Add(2)
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
}

// track registers a forwarded pair, or closes it when the listener that
// accepted it has been closed meanwhile.
func (p *tcpProxy) track(ln net.Listener, conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = true
	}
	return true
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

func (p *tcpProxy) close() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// getStatus fetches path from the server and returns the status code.
func getStatus(t testing.TB, s *apptest.Server, path string) int {
	t.Helper()
	res, err := s.Client().Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// TestMySQLOutage cuts the server off its database and reconnects it: in
// between GraphQL answers SERVICE_UNAVAILABLE and /readyz 503; afterwards
// the same server answers as before.
func TestMySQLOutage(t *testing.T) {
	apptest.NeedMySQL(t)
	db := apptest.NewMySQLDB(t, apptest.FixtureScripts()...)
	cfg, err := store.MySQLConfig(db)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, cfg.Addr)
	// A refused connection fails at once; timeout bounds a silent network.
	srv := apptest.NewServer(t, apptest.Config(t, withParams(withAddr(t, db, proxy.addr), "timeout=2s"), apptest.NoRateLimit)) // 50 failures in a row, as fast as they come

	res, before := srv.GraphQL(t, apptest.TokenLi, apptest.MeChatsQuery, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("before the outage: %s", before)
	}
	if code := getStatus(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d", code)
	}

	unavailable := func(t *testing.T) {
		for range 50 {
			if res, raw := srv.GraphQL(t, apptest.TokenLi, apptest.MeChatsQuery, nil); len(res.Errors) == 0 {
				t.Fatalf("served during the outage: %s", raw)
			}
		}
		for _, q := range []string{apptest.MeChatsQuery, `{ staff(id: "` + apptest.StaffWang + `") { id } }`} {
			res, raw := srv.GraphQL(t, apptest.TokenLi, q, nil)
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" || len(res.Data) != 0 && string(res.Data) != "null" {
				t.Errorf("want one SERVICE_UNAVAILABLE error and no data, got %s", raw)
			}
		}
		if code := getStatus(t, srv, "/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz: %d, want 503", code)
		}
		if code := getStatus(t, srv, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz: %d, want 200", code)
		}
	}
	t.Run("nothing listens", func(t *testing.T) {
		proxy.close() // connections are refused
		unavailable(t)
	})
	t.Run("a proxy answers, the database behind it does not", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := ln.Addr().String()
		_ = ln.Close()
		proxy.retarget(dead) // connections are accepted, then closed
		proxy.open(t)
		unavailable(t)
		proxy.close()
		proxy.retarget(cfg.Addr)
	})

	proxy.open(t)
	res, after := srv.GraphQL(t, apptest.TokenLi, apptest.MeChatsQuery, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("after the outage: %s", after)
	}
	if string(after) != string(before) {
		t.Errorf("after the outage the answer differs:\n got %s\nwant %s", after, before)
	}
	if code := getStatus(t, srv, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the outage: %d, want 200", code)
	}
	// Over a hundred failed requests: the outage is logged when it starts
	// and when it ends, not once a request (beside each request's access
	// line).
	var lines []string
	for l := range strings.Lines(srv.Logs.String()) {
		if !strings.Contains(l, " msg=access ") {
			lines = append(lines, l)
		}
	}
	logs := strings.Join(lines, "")
	if n := strings.Count(logs, "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for one outage; want 1:\n%s", n, logs)
	}
	if n := len(lines); n > 10 {
		t.Errorf("%d log lines for one outage; want a few:\n%s", n, logs)
	}
	if !strings.Contains(logs, "database available again") {
		t.Errorf("the log does not say the database is back:\n%s", logs)
	}
}
