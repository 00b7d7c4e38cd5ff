package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"opfacade/app/apptest"
)

// rolloutDrain is the replicas' -drain: several times what HAProxy needs
// to see a replica not ready (fall × inter in haproxyConfig).
const rolloutDrain = "2s"

// haproxyConfig balances the consoles' requests over the replicas,
// checking each one's /readyz every 250ms: two failed checks take it out
// (well within rolloutDrain), two passed put it back. It never retries a
// request elsewhere (retries 0): the drain alone must keep requests off
// a replica that stops; without it the test fails. The stats page tells
// the test which replicas HAProxy sends to. The README's "Rolling out"
// shows this configuration.
const haproxyConfig = `global
    maxconn 1024

defaults
    mode http
    timeout connect 2s
    timeout client 1m
    timeout server 1m
    retries 0

frontend consoles
    bind {front}
    default_backend facade

backend facade
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 250ms fall 2 rise 2
{servers}
frontend stats
    bind {stats}
    stats enable
    stats uri /stats
`

// TestRollout rolls two replicas behind HAProxy under steady load of
// both front doors: each in turn gets SIGTERM, exits, is started again
// and waited for until HAProxy sends to it. No request may fail: every
// answer is 200 without an error. The figures go to the test's log (and
// the README's "Rolling out").
func TestRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the rollout test takes some seconds")
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed (Debian's haproxy package; .ci/run installs it): skipping the rollout test")
	}
	db, engine := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), "SQLite"
	if os.Getenv("MYSQL_TEST_DSN") != "" {
		db, engine = apptest.NewMySQLDB(t, apptest.FixtureScripts()...), "MariaDB"
	}
	bin := buildCommand(t)
	addrs := []string{deadAddr(t), deadAddr(t)}
	start := func(i int) *served {
		// The load is one client's, far over a token's fair share: the
		// rate limits are not what this test is about.
		return startCommand(t, bin, t.TempDir(), nil, "-addr", addrs[i], "-db", db, "-drain", rolloutDrain, "-rate-limit", "off", "-log-format", "json")
	}
	replicas := []*served{start(0), start(1)}
	lb := startHAProxy(t, haproxy, addrs)
	for i := range replicas {
		lb.waitUp(t, i)
	}

	l := startLoad(lb.base, 4)
	l.wait(t, 100, "ok")
	begin := time.Now()
	for i := range replicas {
		replicas[i].stop(t, 0) // SIGTERM; it drains, exits 0
		replicas[i] = start(i)
		lb.waitUp(t, i)
	}
	end := time.Now()
	l.wait(t, 100, "ok")
	samples := l.stop()

	failed := func(s sample) bool { return s.kind != "ok" }
	during := sumUp(samples, begin, end, failed)
	all := sumUp(samples, samples[0].start, time.Now(), failed)
	t.Logf("rollout of 2 replicas over %s behind HAProxy, %s: during the rollout (%v): %v; in all: %v",
		engine, rolloutDrain+" drain", end.Sub(begin).Round(10*time.Millisecond), during, all)
	n := 0
	for _, s := range samples {
		if failed(s) && n < 10 {
			n++
			t.Errorf("a request failed at %v into the rollout: %s: %s", s.start.Sub(begin).Round(time.Millisecond), s.door, s.detail)
		}
	}
	if all.failures > 0 {
		t.Errorf("%d of %d requests failed; HAProxy's log:\n%s", all.failures, all.requests, lb.log)
	}
}

// haproxyLB is HAProxy balancing over the replicas.
type haproxyLB struct {
	base  string // the consoles' address, http://…
	stats string // the stats page, CSV
	log   *apptest.LockedBuffer
}

// startHAProxy starts HAProxy in the foreground over the replicas at
// addrs (r1, r2, …), stopped when the test ends.
func startHAProxy(t *testing.T, haproxy string, addrs []string) *haproxyLB {
	t.Helper()
	front, stats := deadAddr(t), deadAddr(t)
	var servers strings.Builder
	for i, a := range addrs {
		fmt.Fprintf(&servers, "    server r%d %s check\n", i+1, a)
	}
	cfg := strings.NewReplacer("{front}", front, "{stats}", stats, "{servers}", servers.String()).Replace(haproxyConfig)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	lb := &haproxyLB{base: "http://" + front, stats: "http://" + stats + "/stats;csv", log: &apptest.LockedBuffer{}}
	cmd := exec.Command(haproxy, "-db", "-f", path) // -db: in the foreground
	cmd.Stdout, cmd.Stderr = lb.log, lb.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	eventually(t, "HAProxy's stats page", func() bool {
		select {
		case <-done:
			t.Fatalf("haproxy exited: %s", lb.log)
		default:
		}
		_, err := lb.states()
		return err == nil
	})
	return lb
}

// states reads each replica's state from the stats page: r1 → UP, …
func (lb *haproxyLB) states() (map[string]string, error) {
	res, err := http.Get(lb.stats)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "# "))).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("stats: %v: %s", err, raw)
	}
	px, sv, st := slices.Index(rows[0], "pxname"), slices.Index(rows[0], "svname"), slices.Index(rows[0], "status")
	states := map[string]string{}
	for _, r := range rows[1:] {
		if len(r) > st && r[px] == "facade" {
			states[r[sv]] = r[st]
		}
	}
	return states, nil
}

// waitUp waits until HAProxy sends to replica i again.
func (lb *haproxyLB) waitUp(t *testing.T, i int) {
	t.Helper()
	name := fmt.Sprintf("r%d", i+1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if s, err := lb.states(); err == nil && s[name] == "UP" {
			return
		}
		select {
		case <-ctx.Done():
			s, err := lb.states()
			t.Fatalf("HAProxy does not send to %s: %v %v\n%s", name, s, err, lb.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
