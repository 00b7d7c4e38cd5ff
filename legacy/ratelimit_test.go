package legacy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/legacydb"
)

// reply is a legacy answer: HTTP status, and the envelope's code and
// message.
type reply struct {
	status  int
	code    int
	message string
	data    json.RawMessage
	raw     []byte
	err     error
}

// send POSTs params as a form, without the test's t: floods call it from
// goroutines of their own.
func send(srv *apptest.Server, params url.Values) reply {
	res, err := srv.Client().Post(srv.URL+"/op/v2/receives", "application/x-www-form-urlencoded", strings.NewReader(params.Encode()))
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, raw: raw, err: err}
	var env struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err == nil {
		r.err = json.Unmarshal(raw, &env)
	}
	r.code, r.message, r.data = env.Code, env.Message, env.Data
	return r
}

// floodLegacy sends params n times from 4 goroutines at once.
func floodLegacy(srv *apptest.Server, params url.Values, n int) []reply {
	out := make([]reply, n)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				out[i] = send(srv, params)
			}
		})
	}
	wg.Wait()
	return out
}

// wantBusy checks the contract's answer to a caller over its share: HTTP
// 200, 503 服务繁忙, data null.
func wantBusy(t *testing.T, r reply) {
	t.Helper()
	if r.err != nil || r.status != http.StatusOK || r.code != 503 || r.message != "服务繁忙" || string(r.data) != "null" {
		t.Fatalf("want HTTP 200 and 503 服务繁忙 with no data, got HTTP %d, %v: %s", r.status, r.err, r.raw)
	}
}

// served counts the successes among replies, which must otherwise be
// 503 服务繁忙.
func served(t *testing.T, replies []reply) int {
	t.Helper()
	n := 0
	for _, r := range replies {
		if r.err == nil && r.code == 200 {
			n++
			continue
		}
		wantBusy(t, r)
	}
	return n
}

// TestLegacyFairShare floods the legacy path with one token while
// another's requests go on: once its burst is spent the flooding token
// gets 503 服务繁忙 (HTTP 200, as every answer), without a statement, and
// the other token's answers stay the contract's example, byte for byte
// alike. The checks before the limit answer as they always did.
func TestLegacyFairShare(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		const burst = 5
		clock := apptest.NewClock()
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, legacydb.ExampleFixture), apptest.LegacyExample, apptest.RateLimit(1, burst, clock)))
		wang := apptest.Signed(apptest.TokenWang)

		var flooded []reply
		done := make(chan struct{})
		go func() {
			defer close(done)
			flooded = floodLegacy(srv, wang, 60)
		}()
		for range burst - 1 {
			r := send(srv, apptest.Signed(apptest.TokenLi))
			if r.err != nil || r.code != 200 {
				t.Fatalf("the other token: %v: %s", r.err, r.raw)
			}
			apptest.SameJSONFile(t, "testdata/receives-example.golden.json", r.raw)
		}
		<-done
		if n := served(t, flooded); n != burst {
			t.Fatalf("the flooding token was served %d times, want its burst of %d", n, burst)
		}

		before := srv.Store.Statements()
		for _, r := range floodLegacy(srv, wang, 20) {
			wantBusy(t, r)
		}
		if n := srv.Store.Statements() - before; n != 0 {
			t.Fatalf("refused requests ran %d statements", n)
		}
		// What the contract checks before the signature answers as before.
		if res, raw := srv.LegacyDo(t, mustRequest(t, http.MethodGet, srv.URL+"/op/v2/receives")); res.Code != 405 {
			t.Fatalf("GET: %s", raw)
		}
		if r := send(srv, apptest.Signed(apptest.TokenWang, "apiVersion", "02")); r.code != 400 || r.message != "参数错误" {
			t.Fatalf("apiVersion 02: %s", r.raw)
		}

		clock.Advance(time.Second)
		if r := send(srv, wang); r.code != 200 {
			t.Fatalf("after a second: %s", r.raw)
		}
		wantBusy(t, send(srv, wang))
	})
}

// TestLegacyClientShare: a client's share is drawn on by all its tokens
// together; a token refused by its own bucket spends nothing of its
// client's, and another client keeps its own share.
func TestLegacyClientShare(t *testing.T) {
	clock := apptest.NewClock()
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LegacyExample,
		func(c *app.Config) {
			c.RateLimit = app.RateLimit{PerSecond: 1, Burst: 5, ClientPerSecond: 1, ClientBurst: 8, Now: clock.Now}
		}))
	if n := served(t, floodLegacy(srv, apptest.Signed(apptest.TokenWang), 40)); n != 5 {
		t.Fatalf("the flooding token was served %d times, want its burst of 5", n)
	}
	// The client has 8 - 5 = 3 left, for any of its tokens.
	if n := served(t, floodLegacy(srv, apptest.Signed(apptest.TokenLi), 5)); n != 3 {
		t.Fatalf("another token of the client was served %d times, want the client's 3 left", n)
	}
	wantBusy(t, send(srv, apptest.Signed(apptest.TokenZhao)))
	// Another client has a share of its own (this one is disabled: 签名错误).
	other := apptest.Sign(url.Values{"client": {apptest.ClientDisabled}, "token": {apptest.TokenAdmin}}, "00000000000000000000000000000000")
	if r := send(srv, other); r.code != 403 || r.message != "签名错误" {
		t.Fatalf("another client: %s", r.raw)
	}
	clock.Advance(time.Second)
	if r := send(srv, apptest.Signed(apptest.TokenZhao)); r.code != 200 {
		t.Fatalf("a second later: %s", r.raw)
	}
	wantBusy(t, send(srv, apptest.Signed(apptest.TokenAdmin)))
}

func mustRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
