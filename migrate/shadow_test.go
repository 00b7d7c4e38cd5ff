package migrate_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/legacydb"
	"opfacade/migrate"
)

// calls are receives calls of every outcome the contract defines: each
// is compared, errors included.
func calls() map[string][]string {
	wrongSign := apptest.Signed(apptest.TokenLi)
	wrongSign.Set("sign", "0123456789abcdef0123456789abcdef")
	return map[string][]string{
		"Li":            {apptest.Signed(apptest.TokenLi).Encode()},
		"Wang":          {apptest.Signed(apptest.TokenWang).Encode()},
		"admin for Li":  {apptest.Signed(apptest.TokenAdmin, "staffId", apptest.StaffLi).Encode()},
		"unknown token": {apptest.Signed("nope").Encode()},
		"wrong sign":    {wrongSign.Encode()},
	}
}

func TestShadowMatches(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		db := e.NewDB(t, apptest.FixtureScripts()...)
		for _, mode := range []string{migrate.ServeReceives, migrate.ServeUpstream} {
			t.Run(mode, func(t *testing.T) {
				old := newOldService(t, db)
				srv, reg := facade(t, db, old, serve(mode), shadowRate(1))
				n := 0
				for name, body := range calls() {
					req := postForm(t, srv.URL+"/op/v2/receives", body[0])
					req.Header.Set("X-Console", "android")
					req.Header.Set("Connection", "X-Hop-Request")
					req.Header.Set("X-Hop-Request", "for the next hop only")
					res, raw := srv.Do(t, req)
					if res.StatusCode != http.StatusOK {
						t.Fatalf("%s: HTTP %d: %s", name, res.StatusCode, raw)
					}
					n++
				}
				waitShadow(t, reg, shadowCounts{match: float64(n)})
				// Each call reached the old service once: as the answer or
				// as the shadow's copy, with the caller's headers.
				got := old.receivesCalls()
				if len(got) != n {
					t.Fatalf("the old service got %d receives calls, want %d", len(got), n)
				}
				for _, c := range got {
					if c.Header.Get("X-Console") != "android" || c.Header.Get("X-Hop-Request") != "" || c.Header.Get("X-Forwarded-For") == "" || c.Method != http.MethodPost || c.Body == "" {
						t.Errorf("the old service got %+v", c)
					}
				}
				if lines := logLines(srv.Logs.String(), "legacy shadow"); len(lines) != 0 {
					t.Errorf("logged %q", lines)
				}
			})
		}
	})
}

// TestShadowFindsMismatches changes the old service's answer in each way
// the contract cares about: each is a mismatch, logged once with the
// request id and the JSON paths that differ, and never with the request's
// token, signature or client secret.
func TestShadowFindsMismatches(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				panic("no " + old + " in " + string(b))
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	tests := []struct {
		name  string
		mode  string
		edit  func([]byte) []byte
		paths []string
	}{
		{"a changed count", migrate.ServeReceives, replace(`"userGradeChatCount":3`, `"userGradeChatCount":4`), []string{"data.chats[0].userGradeChatCount"}},
		{"empty string for null", migrate.ServeReceives, replace(`"nickName":null`, `"nickName":""`), []string{"data.chats[1].nickName"}},
		{"an escaped &", migrate.ServeReceives, replace(`?attname=&`, `?attname=\u0026`), []string{"data.chats[0].userIcon"}},
		{"a number written otherwise", migrate.ServeReceives, replace(`"userGradeOrderCount":2`, `"userGradeOrderCount":2.0`), []string{"data.chats[0].userGradeOrderCount"}},
		{"a reordered chat", migrate.ServeReceives, swapChats, []string{"data.chats[0].chatId", "data.chats[1].chatId"}},
		{"a missing member", migrate.ServeReceives, replace(`"page":null,`, ``), []string{"page"}},
		{"the service phone", migrate.ServeReceives, replace(`"servicePhone":"400800400"`, `"servicePhone":"400800401"`), []string{"foot.servicePhone"}},
		{"a changed count, the old service answering", migrate.ServeUpstream, replace(`"userGradeChatCount":3`, `"userGradeChatCount":4`), []string{"data.chats[0].userGradeChatCount"}},
		{"a reordered chat, the old service answering", migrate.ServeUpstream, swapChats, []string{"data.chats[0].chatId", "data.chats[1].chatId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := newOldService(t, db)
			old.setEdit(tt.edit)
			srv, reg := facade(t, db, old, serve(tt.mode), shadowRate(1))
			params := apptest.Signed(apptest.TokenLi)
			id := "req-" + strings.ReplaceAll(tt.name, " ", "-")
			_, raw := receives(t, srv, params, "X-Request-ID", id)
			if e := readEnvelope(t, raw); e.Code != 200 {
				t.Fatalf("code %d", e.Code)
			}
			waitShadow(t, reg, shadowCounts{mismatch: 1})
			logs := srv.Logs.String()
			lines := logLines(logs, "legacy shadow mismatch")
			if len(lines) != 1 {
				t.Fatalf("want one mismatch line, got %q", lines)
			}
			line := lines[0]
			if m := requestIDAttr.FindStringSubmatch(line); m == nil || m[1] != id {
				t.Errorf("request id: %q", line)
			}
			paths := pathsOf(line)
			for _, p := range tt.paths {
				if !strings.Contains(" "+paths+" ", " "+p+" ") {
					t.Errorf("no path %s in %q", p, line)
				}
			}
			if !strings.Contains(line, "answered_by="+map[string]string{migrate.ServeReceives: "facade", migrate.ServeUpstream: "upstream"}[tt.mode]) {
				t.Errorf("the line does not say who answered: %q", line)
			}
			for _, secret := range []string{apptest.TokenLi, params.Get("sign"), apptest.ClientSecret, "阿洋"} {
				if strings.Contains(logs, secret) {
					t.Errorf("the log holds %q", secret)
				}
			}
		})
	}
}

// pathsOf is the paths attribute of a mismatch line.
func pathsOf(line string) string {
	_, rest, ok := strings.Cut(line, `paths="`)
	if !ok {
		_, rest, _ = strings.Cut(line, "paths=")
		p, _, _ := strings.Cut(rest, " ")
		return p
	}
	p, _, _ := strings.Cut(rest, `"`)
	return p
}

// swapChats swaps a receives answer's first two chats, their bytes as
// they are.
func swapChats(b []byte) []byte {
	var env struct {
		Data struct {
			Chats []json.RawMessage `json:"chats"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil || len(env.Data.Chats) < 2 {
		panic("swapChats: " + string(b))
	}
	c0, c1 := env.Data.Chats[0], env.Data.Chats[1]
	pair := append(append(append([]byte{}, c0...), ','), c1...)
	swapped := append(append(append([]byte{}, c1...), ','), c0...)
	return bytes.Replace(b, pair, swapped, 1)
}

func TestShadowRequestID(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	old.setEdit(func(b []byte) []byte { return bytes.Replace(b, []byte(`"code":200`), []byte(`"code":201`), 1) })
	srv, reg := facade(t, db, old, shadowRate(1))
	for i, id := range []string{"", "has space", strings.Repeat("x", 65), "ünïcode"} {
		receives(t, srv, apptest.Signed(apptest.TokenLi), "X-Request-ID", id)
		waitShadow(t, reg, shadowCounts{mismatch: float64(i + 1)})
		lines := logLines(srv.Logs.String(), "legacy shadow mismatch")
		m := requestIDAttr.FindStringSubmatch(lines[len(lines)-1])
		if m == nil || m[1] == "" || strings.Contains(lines[len(lines)-1], id) && id != "" || len(m[1]) > 64 {
			t.Errorf("X-Request-ID %q: logged %q", id, lines[len(lines)-1])
		}
		if !strings.Contains(lines[len(lines)-1], `paths=code`) {
			t.Errorf("paths: %q", lines[len(lines)-1])
		}
	}
}

// TestShadowSkipsWhenQueueFull holds the old service's answers to the
// shadow's copies with one worker and a queue of one: the first copy is
// under way, the second waits, the third is skipped, and each caller is
// answered meanwhile, never delayed.
func TestShadowSkipsWhenQueueFull(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	srv, reg := facade(t, db, old, shadowRate(1), tuning(migrate.Tuning{ShadowQueue: 1, ShadowWorkers: 1}))
	entered, release := old.holdReceives()
	defer release()

	receives(t, srv, apptest.Signed(apptest.TokenLi))
	select {
	case <-entered: // the worker's copy is at the old service, held
	case <-time.After(30 * time.Second):
		t.Fatal("the shadow's copy never reached the old service")
	}
	for range 2 {
		if _, raw := receives(t, srv, apptest.Signed(apptest.TokenLi)); readEnvelope(t, raw).Code != 200 {
			t.Fatalf("the caller was not served: %s", raw)
		}
	}
	waitShadow(t, reg, shadowCounts{skipped: 1})
	release()
	waitShadow(t, reg, shadowCounts{match: 2, skipped: 1})
	if n := len(old.receivesCalls()); n != 2 {
		t.Errorf("the old service got %d copies, want 2", n)
	}
}

// TestShadowRate: at 0 nothing is shadowed, at 1 every receives call is,
// and only receives, a read, ever is.
func TestShadowRate(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	const n = 6
	t.Run("0", func(t *testing.T) {
		old := newOldService(t, db)
		srv, reg := facade(t, db, old, shadowRate(0))
		for range n {
			receives(t, srv, apptest.Signed(apptest.TokenLi))
		}
		if got := readShadow(t, reg); got != (shadowCounts{}) {
			t.Errorf("%s: %v", migrate.ShadowMetric, got)
		}
		if c := old.receivesCalls(); len(c) != 0 {
			t.Errorf("the old service got %d receives calls", len(c))
		}
	})
	for _, mode := range []string{migrate.ServeReceives, migrate.ServeUpstream} {
		t.Run("1, "+mode, func(t *testing.T) {
			old := newOldService(t, db)
			srv, reg := facade(t, db, old, serve(mode), shadowRate(1))
			for range n {
				receives(t, srv, apptest.Signed(apptest.TokenLi))
			}
			res, raw := srv.Do(t, postForm(t, srv.URL+"/op/v2/sendMessage", "text=hi"))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("sendMessage: HTTP %d: %s", res.StatusCode, raw)
			}
			waitShadow(t, reg, shadowCounts{match: n})
			if c := old.receivesCalls(); len(c) != n {
				t.Errorf("the old service got %d receives calls, want %d", len(c), n)
			}
			if c := old.otherCalls(); len(c) != 1 {
				t.Errorf("the old service got sendMessage %d times, want once: never shadowed", len(c))
			}
		})
	}
}

// TestShadowErrors: the other side down is counted as an error, and the
// callers are served as usual by the side that answers.
func TestShadowErrors(t *testing.T) {
	db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture)
	old := newOldService(t, db)
	old.Close()
	t.Run("the old service as the shadow", func(t *testing.T) {
		srv, reg := facade(t, db, old, shadowRate(1))
		for range 2 {
			if _, raw := receives(t, srv, apptest.Signed(apptest.TokenLi)); readEnvelope(t, raw).Code != 200 {
				t.Fatalf("the facade did not serve the caller: %s", raw)
			}
		}
		waitShadow(t, reg, shadowCounts{error: 2})
		if lines := logLines(srv.Logs.String(), "legacy shadow: no answer to compare"); len(lines) == 0 || !strings.Contains(lines[0], "asked=upstream") {
			t.Errorf("want a line, at most one every 10s (TestThrottle), got %q", lines)
		}
	})
	t.Run("the old service answering", func(t *testing.T) {
		srv, reg := facade(t, db, old, serve(migrate.ServeUpstream), shadowRate(1))
		res, raw := receives(t, srv, apptest.Signed(apptest.TokenLi))
		wantBusy(t, res, raw)
		waitShadow(t, reg, shadowCounts{error: 1})
	})
}
