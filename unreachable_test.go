package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"opfacade/app/apptest"
)

// TestRunStartsWhileMySQLIsDown starts the real command against a MySQL
// address where nothing listens: it serves, warns, and says it is not
// ready. It needs no MySQL server.
func TestRunStartsWhileMySQLIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, banner := io.Pipe()
	stderr := &apptest.LockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-drain", "0", "-db", "mysql://facade:s3cret@tcp(" + dead + ")/legacy?timeout=2s"}, func(string) string { return "" }, noVars, banner, stderr)
		_ = banner.Close()
	}()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatalf("no banner; run: %v; log: %s", <-done, stderr)
	}
	first := sc.Text()
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if strings.Contains(first, "s3cret") {
		t.Errorf("the banner shows the database password: %s", first)
	}
	i, j := strings.Index(first, "(http://"), strings.LastIndex(first, ")")
	if i < 0 || j < i {
		t.Fatalf("banner without an address: %s", first)
	}
	base := first[i+1 : j]
	if !strings.Contains(stderr.String(), "the database does not answer") {
		t.Errorf("no warning at start; log: %s", stderr)
	}
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz: %d, want 503", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if !strings.Contains(string(raw), `"code":"SERVICE_UNAVAILABLE"`) {
		t.Errorf("want SERVICE_UNAVAILABLE, got %s", raw)
	}
	if strings.Contains(stderr.String(), "s3cret") {
		t.Errorf("the log shows the database password: %s", stderr)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("run: %v", err)
	}
}
