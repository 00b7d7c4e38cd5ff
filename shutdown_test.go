package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"opfacade/app/apptest"
)

// eventually polls cond until it holds, failing the test after a
// generous bound; the bound is a hang detector, not a timing claim.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGracefulShutdown runs the command on a loopback port, holds a
// request open across the shutdown (its body trickles in), and checks
// that the request is answered correctly, that the port refuses new
// connections meanwhile, that run returns nil, and that the database is
// closed.
func TestGracefulShutdown(t *testing.T) {
	path := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &apptest.LockedBuffer{}, &apptest.LockedBuffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", path, "-shutdown-grace", "30s", "-drain", "0"}, func(string) string { return "" }, noVars, stdout, stderr)
	}()

	// The banner names the bound address.
	banner := regexp.MustCompile(`serving .* \((http://127\.0\.0\.1:\d+)\)`)
	var base string
	eventually(t, "the banner", func() bool {
		m := banner.FindStringSubmatch(stdout.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	addr := strings.TrimPrefix(base, "http://")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	healthy := func() {
		t.Helper()
		res, err := client.Get(base + "/healthz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", res, err)
		}
		res.Body.Close()
	}
	healthy()

	// A request whose body has not all arrived: the handler is waiting.
	body := `{"query":"{ me { chats { id } } }"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s",
		addr, apptest.TokenLi, len(body), body[:10])
	// A connection dialed after it has been served, so the server has
	// accepted this one (it accepts in order) and is tracking it.
	healthy()

	cancel() // SIGTERM
	eventually(t, "the port to refuse connections", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return false
		}
		// A reset means the listener was closing as we dialed.
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	select {
	case err := <-errc:
		t.Fatalf("run returned with a request in flight: %v", err)
	default:
	}

	// The rest of the body: the request completes, correctly.
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request was not answered: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "u0001d68d5da979194a4b831097de49db3dd2") || strings.Contains(string(raw), "errors") {
		t.Fatalf("the in-flight request: HTTP %d %s", resp.StatusCode, raw)
	}

	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its last request")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("log:\n%s", stderr.String())
	}

	// The database is closed: another connection can take it exclusively
	// (a connection left open in WAL mode would keep it from that).
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, q := range []string{"PRAGMA locking_mode=EXCLUSIVE", "BEGIN EXCLUSIVE", "UPDATE op_staff SET online = online", "COMMIT"} {
		if _, err := c.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v: the server still holds the database", q, err)
		}
	}
}
