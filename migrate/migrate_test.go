package migrate_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/legacy"
	"opfacade/legacydb"
	"opfacade/migrate"
)

// The tests of this file stand the facade in front of a stand-in for the
// old v2 service (oldService) and check what the migration guide relies
// on: every other v2 path passes through unchanged, receives is answered
// by whichever side Serve names, and the shadow comparison counts and
// logs what differs.

func TestForwardPassesThrough(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	srv, _ := facade(t, db, old)

	tests := []struct {
		method, target, body string
		wantPath, wantRaw    string
	}{
		{http.MethodPost, "/op/v2/sendMessage?b=2&a=1&a=%E4%B8%AD&sign=abc", "token=t&text=%E4%BD%A0%E5%A5%BD+%26+bye", "/op/v2/sendMessage", ""},
		{http.MethodGet, "/op/v2/echo/list?page=2", "", "/op/v2/echo/list", ""},
		{http.MethodPut, "/op/v2/echo/a%2Fb/%E4%B8%AD", `{"x":1}`, "/op/v2/echo/a/b/中", "/op/v2/echo/a%2Fb/%E4%B8%AD"},
		{http.MethodDelete, "/op/v2/echo/chat/7", "", "/op/v2/echo/chat/7", ""},
		{http.MethodPatch, "/op/v2/echo/odd?=&&x", "raw body, not a form", "/op/v2/echo/odd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, srv.URL+tt.target, body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("User-Agent", "OPConsole/2.19 (Android)")
			req.Header.Add("X-Console", "one")
			req.Header.Add("X-Console", "two")
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			req.Header.Set("Connection", "X-Hop-Request")
			req.Header.Set("X-Hop-Request", "for the next hop only")
			req.Header.Set("Keep-Alive", "timeout=5")
			req.Header.Set("Upgrade", "h2c")
			res, raw := srv.Do(t, req)

			// The answer: status, end-to-end headers, body, byte for byte.
			if res.StatusCode != http.StatusOK || res.Header.Get("X-Old-Service") != "echo" {
				t.Fatalf("HTTP %d, %v: %s", res.StatusCode, res.Header, raw)
			}
			if !bytes.Equal(raw, old.lastAnswer()) {
				t.Errorf("body changed on its way:\n got %s\nwant %s", raw, old.lastAnswer())
			}
			if got := res.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1", "b=2"}) {
				t.Errorf("Set-Cookie %q", got)
			}
			if res.Header.Get("X-Hop-Answer") != "" {
				t.Errorf("a hop-by-hop header of the answer passed: %v", res.Header)
			}

			// The request, as the old service got it.
			var got seen
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			_, query, _ := strings.Cut(tt.target, "?")
			if got.Method != tt.method || got.Path != tt.wantPath || got.RawPath != tt.wantRaw || got.Query != query || got.Body != tt.body {
				t.Errorf("the old service got %s %s (raw %q) ?%s %q, want %s %s (raw %q) ?%s %q", got.Method, got.Path, got.RawPath, got.Query, got.Body, tt.method, tt.wantPath, tt.wantRaw, query, tt.body)
			}
			h := got.Header
			facadeHost := strings.TrimPrefix(srv.URL, "http://")
			for name, want := range map[string]string{
				"Content-Type":      "application/x-www-form-urlencoded",
				"User-Agent":        "OPConsole/2.19 (Android)",
				"X-Forwarded-For":   "203.0.113.7, 127.0.0.1",
				"X-Forwarded-Host":  facadeHost,
				"X-Forwarded-Proto": "http",
			} {
				if h.Get(name) != want {
					t.Errorf("%s: %q, want %q", name, h.Get(name), want)
				}
			}
			if !slices.Equal(h.Values("X-Console"), []string{"one", "two"}) {
				t.Errorf("X-Console %q", h.Values("X-Console"))
			}
			for _, hop := range []string{"X-Hop-Request", "Keep-Alive", "Upgrade"} {
				if h.Get(hop) != "" {
					t.Errorf("hop-by-hop header %s passed: %q", hop, h.Get(hop))
				}
			}
			if got.Host != old.URL.Host {
				t.Errorf("Host %q, want the old service's %q", got.Host, old.URL.Host)
			}
		})
	}
}

func TestForwardPassesStatuses(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	srv, reg := facade(t, db, old)
	for _, code := range []int{201, 204, 301, 400, 404, 418, 500, 502, 503} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/status/"+fmt.Sprint(code), nil)
			res, err := srv.Client().Transport.RoundTrip(req) // no redirect followed
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != code || res.Header.Get("Retry-After") != "7" {
				t.Fatalf("HTTP %d, Retry-After %q, want %d as the old service answered", res.StatusCode, res.Header.Get("Retry-After"), code)
			}
			want := old.lastAnswer()
			if code == http.StatusNoContent {
				want = nil // the old service's server sends no body with it
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("body %q, want %q", raw, want)
			}
		})
	}
	if got := counters(t, reg, migrate.UpstreamFailuresMetric)[""]; got != 0 {
		t.Errorf("%s = %v: the old service's own errors are no failures to reach it", migrate.UpstreamFailuresMetric, got)
	}
}

// TestForwardTargetIsFixed sends a request in absolute form naming
// another host, with that host in Host: it still goes to the old service
// alone, as every request does.
func TestForwardTargetIsFixed(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	srv, _ := facade(t, db, old)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST http://elsewhere.example:9999/op/v2/sendMessage?x=1 HTTP/1.1\r\nHost: elsewhere.example:9999\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	var got seen
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &got) != nil {
		t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
	}
	if got.Host != old.URL.Host || got.Path != "/op/v2/sendMessage" || got.Query != "x=1" || got.Body != "abc" || got.Header.Get("X-Forwarded-Host") != "elsewhere.example:9999" {
		t.Errorf("the old service got %+v", got)
	}
}

// TestForwardStreams: the old service's answer reaches the caller while
// it is still being written, and a request body reaches the old service
// while the caller is still sending it.
func TestForwardStreams(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	srv, _ := facade(t, db, old)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a proxy that buffers would hang here
	defer cancel()

	t.Run("answer", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/op/v2/stream", nil)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		first := make([]byte, streamPart)
		if _, err := io.ReadFull(res.Body, first); err != nil {
			t.Fatalf("the first part did not come before the old service wrote the second: %v", err)
		}
		close(old.streamGo)
		rest, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, pattern(0, streamPart)) || !bytes.Equal(rest, pattern(1, streamPart)) {
			t.Error("the streamed answer changed on its way")
		}
	})

	t.Run("request", func(t *testing.T) {
		pr, pw := io.Pipe()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/op/v2/upload", pr)
		req.ContentLength = uploadPart1 + uploadPart2
		body := append(pattern(2, uploadPart1), pattern(3, uploadPart2)...)
		go func() {
			if _, err := pw.Write(body[:uploadPart1]); err != nil {
				return
			}
			select {
			case <-old.uploadGot:
				_, _ = pw.Write(body[uploadPart1:])
				_ = pw.Close()
			case <-ctx.Done():
				_ = pw.CloseWithError(ctx.Err())
			}
		}()
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("the old service did not get the first part while the rest was unsent: %v", err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		sum := sha256.Sum256(body)
		if want := fmt.Sprintf("%d %s", len(body), hex.EncodeToString(sum[:])); string(raw) != want {
			t.Errorf("the old service got %q, want %q", raw, want)
		}
	})
}

func TestForwardUpstreamDownOrSlow(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	t.Run("down", func(t *testing.T) {
		old := newOldService(t, db)
		old.Close() // nothing listens there any more
		srv, reg := facade(t, db, old, serve(migrate.ServeUpstream))
		for _, path := range []string{"/op/v2/sendMessage", "/op/v2/receives"} {
			res, raw := srv.Do(t, postForm(t, srv.URL+path, apptest.Signed(apptest.TokenLi).Encode()))
			wantBusy(t, res, raw)
		}
		if got := counters(t, reg, migrate.UpstreamFailuresMetric)[""]; got != 2 {
			t.Errorf("%s = %v, want 2", migrate.UpstreamFailuresMetric, got)
		}
		lines := logLines(srv.Logs.String(), "the legacy upstream did not answer")
		if len(lines) == 0 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "failures=1") {
			t.Errorf("want a WARN line for the outage, got %q", lines) // at most one every 10s: TestThrottle
		}
		if strings.Contains(srv.Logs.String(), apptest.TokenLi) {
			t.Error("the log holds the token")
		}
	})
	t.Run("slow", func(t *testing.T) {
		old := newOldService(t, db)
		srv, _ := facade(t, db, old, tuning(migrate.Tuning{ResponseHeaderTimeout: 50 * time.Millisecond}))
		res, raw := srv.Do(t, postForm(t, srv.URL+"/op/v2/slow", "a=1"))
		wantBusy(t, res, raw)
		if calls := old.otherCalls(); len(calls) != 1 || calls[0].Path != "/op/v2/slow" {
			t.Errorf("the old service got %v", calls)
		}
	})
}

// TestForwardBodyLimit: the contract's 64 KiB limit holds before
// anything is passed on, whether the body's length is declared or not.
func TestForwardBodyLimit(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	tooLong := "x=" + strings.Repeat("a", legacy.DefaultMaxBody)
	for _, mode := range []string{migrate.ServeReceives, migrate.ServeUpstream} {
		t.Run(mode, func(t *testing.T) {
			srv, _ := facade(t, db, old, serve(mode), shadowRate(1))
			for _, path := range []string{"/op/v2/sendMessage", "/op/v2/receives"} {
				for _, chunked := range []bool{false, true} {
					req := postForm(t, srv.URL+path, tooLong)
					if chunked {
						req.ContentLength = -1
					}
					res, raw := srv.Do(t, req)
					e := readEnvelope(t, raw)
					if res.StatusCode != http.StatusOK || e.Code != 413 || e.Message != "请求过大" {
						t.Errorf("%s, chunked %v: HTTP %d %.200s, want 413 请求过大", path, chunked, res.StatusCode, raw)
					}
				}
			}
			if n := len(old.otherCalls()) + len(old.receivesCalls()); n != 0 {
				t.Errorf("the old service got %d requests over the limit", n)
			}
		})
	}
	t.Run("within the limit, chunked", func(t *testing.T) {
		srv, _ := facade(t, db, old)
		req := postForm(t, srv.URL+"/op/v2/sendMessage", "x=1&y=2")
		req.ContentLength = -1
		res, raw := srv.Do(t, req)
		var got seen
		if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &got) != nil || got.Body != "x=1&y=2" {
			t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
		}
		if cl := got.Header.Get("Content-Length"); cl != "7" {
			t.Errorf("Content-Length %q, want 7: the body read whole is passed on with its length", cl)
		}
	})
}

// TestWithoutUpstream: with no old service configured, the v2 paths the
// facade does not serve answer 404 as they always did; with one, the
// facade's OpenAPI description stays the facade's.
func TestWithoutUpstream(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	srv, _ := facade(t, db, nil)
	for _, target := range []string{"/op/v2/sendMessage", "/op/v2/", "/op/v2", "/op/v2/receives/x"} {
		if code, raw := srv.RawDo(t, http.MethodPost, target, nil, strings.NewReader("a=1")); code != http.StatusNotFound {
			t.Errorf("POST %s: HTTP %d, want 404: %s", target, code, raw)
		}
	}
	if code, raw := srv.RawDo(t, http.MethodGet, "/op/v2/openapi.json", nil, nil); code != http.StatusOK || !bytes.Equal(raw, legacy.OpenAPI) {
		t.Errorf("GET /op/v2/openapi.json: HTTP %d", code)
	}

	old := newOldService(t, db)
	srv, _ = facade(t, db, old)
	if code, raw := srv.RawDo(t, http.MethodGet, "/op/v2/openapi.json", nil, nil); code != http.StatusOK || !bytes.Equal(raw, legacy.OpenAPI) {
		t.Errorf("with an upstream, GET /op/v2/openapi.json: HTTP %d", code)
	}
	if code, _ := srv.RawDo(t, http.MethodGet, "/op/v2", nil, nil); code != http.StatusNotFound {
		t.Errorf("with an upstream, GET /op/v2: HTTP %d, want 404: it is not under /op/v2/", code)
	}
	if calls := old.otherCalls(); len(calls) != 0 {
		t.Errorf("the old service got %v", calls)
	}
}

func TestServeModes(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	old.setEdit(func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"isOnline":false`), []byte(`"isOnline":true`), 1)
	})

	t.Run("receives", func(t *testing.T) {
		srv, _ := facade(t, db, old) // the default
		_, raw := receives(t, srv, apptest.Signed(apptest.TokenLi))
		if e := readEnvelope(t, raw); e.Code != 200 || e.Foot.Host == oldHost || bytes.Contains(raw, []byte(`"isOnline":true`)) {
			t.Errorf("want the facade's answer, got %s", raw)
		}
		if n := len(old.receivesCalls()); n != 0 {
			t.Errorf("the old service got %d receives calls", n)
		}
	})
	t.Run("upstream", func(t *testing.T) {
		srv, _ := facade(t, db, old, serve(migrate.ServeUpstream))
		res, raw := receives(t, srv, apptest.Signed(apptest.TokenLi))
		if e := readEnvelope(t, raw); e.Code != 200 || e.Foot.Host != oldHost || !bytes.Equal(raw, old.lastAnswer()) {
			t.Errorf("want the old service's answer byte for byte, got %s", raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if n := len(old.receivesCalls()); n != 1 {
			t.Errorf("the old service got %d receives calls, want 1", n)
		}
	})
}

func TestSettings(t *testing.T) {
	up, _ := migrate.ParseUpstream("http://old:8080")
	tests := []struct {
		name string
		s    migrate.Settings
		ok   bool
	}{
		{"none", migrate.Settings{}, true},
		{"proxy", migrate.Settings{Upstream: up}, true},
		{"serve upstream", migrate.Settings{Upstream: up, Serve: migrate.ServeUpstream, Shadow: 1}, true},
		{"serve upstream without one", migrate.Settings{Serve: migrate.ServeUpstream}, false},
		{"shadow without upstream", migrate.Settings{Shadow: 0.1}, false},
		{"unknown serve", migrate.Settings{Upstream: up, Serve: "both"}, false},
		{"shadow over 1", migrate.Settings{Upstream: up, Shadow: 1.5}, false},
		{"shadow under 0", migrate.Settings{Upstream: up, Shadow: -0.1}, false},
		{"upstream with a path", migrate.Settings{Upstream: &url.URL{Scheme: "http", Host: "old", Path: "/v2"}}, false},
	}
	for _, tt := range tests {
		if err := tt.s.Check(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	for s, ok := range map[string]bool{
		"http://old:8080": true, "https://old.internal": true, "http://old/": true, "http://[::1]:8080": true,
		"old:8080": false, "ftp://old": false, "http://": false, "http://u:p@old": false,
		"http://old/op": false, "http://old?x=1": false, "http://old#f": false, "": false,
	} {
		if _, err := migrate.ParseUpstream(s); (err == nil) != ok {
			t.Errorf("ParseUpstream(%q): %v", s, err)
		}
	}
	for s, ok := range map[string]bool{"0": true, "0.01": true, "1": true, "1.5": false, "-0": true, "NaN": false, "x": false, "": false} {
		if _, err := migrate.ParseShadow(s); (err == nil) != ok {
			t.Errorf("ParseShadow(%q): %v", s, err)
		}
	}

	// app.Open refuses what Check refuses, before it opens anything.
	cfg := apptest.Config(t, apptest.NewSQLiteDB(t), func(c *app.Config) { c.LegacyServe = migrate.ServeUpstream })
	if a, err := app.Open(context.Background(), cfg); err == nil {
		_ = a.Close()
		t.Error("app.Open served receives from no upstream")
	}
}

func postForm(t *testing.T, target, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
