package main

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"strings"
	"syscall"
	"testing"
	"time"

	"opfacade/app/apptest"
)

// TestDrainOnSIGTERM runs the command and sends it SIGTERM. With a drain
// longer than the test, /readyz answers 503 "draining" at once on both
// listeners while both front doors go on answering, on connections kept
// from before and on new ones; a second SIGTERM cuts the drain short and the
// command exits 0, having logged each phase. With a short drain, it
// ends by itself.
func TestDrainOnSIGTERM(t *testing.T) {
	bin := buildCommand(t)
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)

	t.Run("a second signal cuts it short", func(t *testing.T) {
		s := startCommand(t, bin, t.TempDir(), nil, "-db", db, "-admin-addr", "127.0.0.1:0", "-drain", "1h")
		admin := s.adminBase(t)
		s.eventuallyReady(t)
		// A connection kept alive from before the signal: a load
		// balancer's, which it may be sending on as the drain starts.
		kept := &http.Client{Timeout: time.Minute, Transport: &http.Transport{}}
		if a := askGraphQL(kept, s.base); a.kind != "ok" {
			t.Fatalf("before the signal: %s", a.detail)
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// The line is written once /readyz says draining and the second
		// signal is watched for.
		eventually(t, "the draining line", func() bool { return strings.Contains(s.stderr.String(), `"msg":"draining`) })
		for _, base := range []string{s.base, admin} {
			if code, body := httpGet(t, base+"/readyz"); code != http.StatusServiceUnavailable || body != "draining\n" {
				t.Errorf("%s/readyz while draining: %d %q, want 503 draining", base, code, body)
			}
			if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
				t.Errorf("%s/healthz while draining: %d, want 200", base, code)
			}
		}
		// Fresh connections each: the listener still accepts.
		c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
		for range 3 {
			for _, a := range []answer{askGraphQL(c, s.base), askLegacy(c, s.base)} {
				if a.kind != "ok" {
					t.Errorf("%s while draining: %s", a.door, a.detail)
				}
			}
		}
		// The kept connection serves on: the drain closes none.
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, s.base+"/healthz", nil)
		if code, _, err := send(kept, req); err != nil || code != http.StatusOK || !reused {
			t.Errorf("on the connection kept from before the drain: HTTP %d, %v, reused %t; want 200 on it", code, err, reused)
		}
		s.stop(t, 0) // the second SIGTERM
		wantPhases(t, s.stderr.String(), `"msg":"draining`, `"msg":"drain cut short`, `"msg":"shutting down`, `"msg":"shut down"`)
	})

	t.Run("it ends by itself", func(t *testing.T) {
		s := startCommand(t, bin, t.TempDir(), nil, "-db", db, "-drain", "100ms")
		s.eventuallyReady(t)
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			t.Fatal("the command did not stop after its drain")
		}
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit status %d, want 0; stderr:\n%s", code, s.stderr)
		}
		log := s.stderr.String()
		wantPhases(t, log, `"msg":"draining`, `"msg":"shutting down`, `"msg":"shut down"`)
		if strings.Contains(log, "drain cut short") {
			t.Errorf("a drain cut short without a second signal:\n%s", log)
		}
	})

	t.Run("-drain 0 closes the listeners at once", func(t *testing.T) {
		s := startCommand(t, bin, t.TempDir(), nil, "-db", db, "-drain", "0")
		s.eventuallyReady(t)
		s.stop(t, 0)
		log := s.stderr.String()
		wantPhases(t, log, `"msg":"shutting down`, `"msg":"shut down"`)
		if strings.Contains(log, `"msg":"draining`) {
			t.Errorf("-drain 0 drained:\n%s", log)
		}
	})
}

// wantPhases checks that the log has each of lines, in that order.
func wantPhases(t *testing.T, log string, lines ...string) {
	t.Helper()
	rest := log
	for _, l := range lines {
		i := strings.Index(rest, l)
		if i < 0 {
			t.Errorf("the log lacks %s after the phases before it:\n%s", l, log)
			return
		}
		rest = rest[i+len(l):]
	}
}
