package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/store"
)

// eventually polls cond until it holds, failing the test after a minute:
// a deadline for a test that cannot hang, not a measure of speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebSocketAuthentication: connection_init without a token, with an
// unknown one or an expired one closes the socket with 4403 and the
// code queries get, UNAUTHENTICATED; a good one is acknowledged.
func TestWebSocketAuthentication(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast))
	for name, token := range map[string]string{"none": "", "unknown": "o0001nosuchtoken", "expired": apptest.TokenExpired} {
		t.Run(name, func(t *testing.T) {
			ws := srv.DialWS(t, nil)
			ws.InitOnly(token)
			_, err := ws.Read()
			if websocket.CloseStatus(err) != 4403 {
				t.Fatalf("closed with %v, want 4403", err)
			}
			var ce websocket.CloseError
			if !errors.As(err, &ce) || !strings.HasPrefix(ce.Reason, "UNAUTHENTICATED: ") {
				t.Errorf("close reason %q, want UNAUTHENTICATED: …", ce.Reason)
			}
		})
	}
	t.Run("SSE without a token", func(t *testing.T) {
		st := srv.StreamSSE(t, nil, liveQuery)
		ev, err := st.Next()
		if err != nil || !strings.Contains(ev.Data, `"code":"UNAUTHENTICATED"`) {
			t.Fatalf("%+v, %v", ev, err)
		}
	})
	srv.DialWS(t, nil).Init(apptest.TokenLi)
}

// TestWebSocketOrigins: a browser's handshake from a page of another
// origin is refused as a CORS preflight from it is; the server's own
// origin, the configured ones and clients without Origin are served.
func TestWebSocketOrigins(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), func(c *app.Config) {
		c.CORSOrigins = []string{"http://localhost:3000"}
	}))
	_, res, err := srv.TryDialWS(http.Header{"Origin": {"https://elsewhere.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("another origin: %v, %v", res, err)
	}
	body, _ := io.ReadAll(res.Body)
	var out apptest.GraphQLResponse
	if json.Unmarshal(body, &out) != nil || len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "CORS_ORIGIN_NOT_ALLOWED" {
		t.Errorf("another origin's answer: %s", body)
	}
	for _, origin := range []string{"http://localhost:3000", srv.URL, ""} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		srv.DialWS(t, h).Init(apptest.TokenLi)
	}
}

// TestSubscriptionTokenExpires: a token whose expiry passes ends its
// subscriptions at the next tick with UNAUTHENTICATED, unless the
// platform extended the session meanwhile.
func TestSubscriptionTokenExpires(t *testing.T) {
	clock := apptest.NewClock() // 2016
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast, func(c *app.Config) { c.Now = clock.Now }))
	ws := srv.DialWS(t, nil)
	ws.Init(apptest.TokenLi) // expires at the end of 2099
	ws.Subscribe("1", liveQuery, nil)
	first := decodeLive(t, ws.Next("1"))

	exec(t, srv, `UPDATE op_token SET expire_time = '2150-01-01 00:00:00' WHERE token = '`+apptest.TokenLi+`'`)
	clock.Advance(100 * 365 * 24 * time.Hour) // 2115: past the expiry known, not the new one
	ticks := srv.Live.Ticks()
	eventually(t, "two ticks", func() bool { return srv.Live.Ticks() > ticks+1 })
	exec(t, srv, `UPDATE op_chat SET title = 'still live' WHERE chat_id = '`+first.Me.Chats[0].ID+`'`)
	if a := decodeLive(t, ws.Next("1")); a.Me.Chats[0].Title != "still live" {
		t.Fatalf("after the session was extended: %+v", a)
	}

	clock.Advance(40 * 365 * 24 * time.Hour) // 2155
	r := ws.Next("1")
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "expired") {
		t.Fatalf("after the expiry: %+v", r)
	}
	if m := ws.Must("complete"); m.ID != "1" {
		t.Fatalf("complete of %q", m.ID)
	}
	eventually(t, "the subscription to be gone", func() bool { return srv.Live.Count() == 0 })
}

// TestSubscriptionLimits: the token's and the replica's limits refuse
// the subscription past them with their own codes (TestErrorCodes sends
// each code, the connection's too), and a subscription ended gives its
// place back.
func TestSubscriptionLimits(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast, func(c *app.Config) {
		c.Live.MaxPerToken, c.Live.MaxPerReplica = 2, 4
	}))
	refused := func(ws *apptest.WS, id, token, code string) {
		t.Helper()
		ws.Subscribe(id, "subscription { me { id } }", nil)
		r := ws.Next(id)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != code {
			t.Fatalf("subscription %s of %s: %+v, want %s", id, token[:8], r, code)
		}
		ws.Must("complete")
	}
	served := func(ws *apptest.WS, id string) {
		t.Helper()
		ws.Subscribe(id, "subscription { me { id } }", nil)
		if r := ws.Next(id); len(r.Errors) > 0 {
			t.Fatalf("subscription %s: %+v", id, r.Errors)
		}
	}
	li := srv.DialWS(t, nil)
	li.Init(apptest.TokenLi)
	served(li, "1")
	served(li, "2")
	refused(li, "3", apptest.TokenLi, "TOO_MANY_SUBSCRIPTIONS_FOR_TOKEN")

	wang := srv.DialWS(t, nil)
	wang.Init(apptest.TokenWang)
	served(wang, "1")
	admin := srv.DialWS(t, nil)
	admin.Init(apptest.TokenAdmin)
	served(admin, "1")
	refused(admin, "2", apptest.TokenAdmin, "TOO_MANY_SUBSCRIPTIONS_ON_REPLICA")

	li.Send("complete", "1", nil)
	li.Must("complete")
	eventually(t, "the place to be given back", func() bool { return srv.Live.Count() == 3 })
	served(admin, "3")
}

// TestSlowConsumerDropped: a client that subscribes and then reads
// nothing while its chats keep changing is dropped once its connection
// has not taken an update within the send timeout: the server keeps no
// queue for it, and its subscription is gone.
func TestSlowConsumerDropped(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, db, apptest.LiveFast, func(c *app.Config) { c.Live.SendTimeout = 200 * time.Millisecond }))
	exec(t, srv, apptest.OPWithChats(300)) // answers of some 40 KB
	ws := srv.DialWS(t, nil)
	ws.Init("tok-many")
	ws.Subscribe("1", `subscription { me { chats { id title message createTime user { id nickName icon } } } }`, nil)
	ws.Next("1")
	// Read no more; change a chat's title at every tick until the server
	// gives up on the client.
	for i := 0; srv.Live.Count() > 0; i++ {
		if i > 100_000 {
			t.Fatal("the slow client was never dropped")
		}
		exec(t, srv, fmt.Sprintf(`UPDATE op_chat SET title = 'change %d' WHERE chat_id = 'c-00000'`, i))
		ticks := srv.Live.Ticks()
		eventually(t, "a tick", func() bool { return srv.Live.Ticks() > ticks || srv.Live.Count() == 0 })
	}
	if !strings.Contains(srv.Logs.String(), "live: a client that does not read its updates was dropped") {
		t.Errorf("no log line says why the client was dropped:\n%s", srv.Logs)
	}
	// What the client had been sent ends with the socket's end.
	for {
		if _, err := ws.Read(); err != nil {
			break
		}
	}
}

// TestSubscriptionsDoNotLeak opens and ends thousands of subscriptions,
// over WebSockets and event streams, and checks that the server's
// goroutines and heap come back to where they were: nothing a
// subscription holds outlives it, and the poller stops with the last.
func TestSubscriptionsDoNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of subscriptions")
	}
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast, func(c *app.Config) {
		c.Live.MaxPerToken, c.Live.MaxPerConnection, c.Live.MaxPerReplica = 10_000, 10_000, 10_000
		c.Live.SendTimeout = time.Hour // a machine busy with -race is no slow client
	}))
	round := func(conns, perConn int) {
		var wg sync.WaitGroup
		for c := range conns {
			wg.Go(func() {
				c2, _, err := srv.TryDialWS(nil) // kept by nothing once closed, unlike DialWS's
				if err != nil {
					t.Error(err)
					return
				}
				ws := &apptest.WS{T: t, C: c2}
				ws.Init([]string{apptest.TokenLi, apptest.TokenWang, apptest.TokenAdmin}[c%3])
				for i := range perConn {
					ws.Subscribe(fmt.Sprint(i), `subscription { me { id isOnline chats { id } } }`, nil)
				}
				for range perConn {
					ws.Must("next")
				}
				for i := range perConn / 2 { // half ended by the client, half by the socket's end
					ws.Send("complete", fmt.Sprint(i), nil)
				}
				_ = ws.C.Close(websocket.StatusNormalClosure, "")
			})
		}
		for range conns / 5 {
			wg.Go(func() { sseOnce(t, srv) })
		}
		wg.Wait()
		eventually(t, "every subscription to end and the poller to stop", func() bool {
			return srv.Live.Count() == 0 && !srv.Live.Polling()
		})
	}
	round(4, 10) // the pools and caches a first subscription fills
	goroutines, heap := settle()
	for range 4 {
		round(10, 50) // 500 over WebSockets, 2 over event streams
	}
	eventually(t, "the goroutines and the heap to come back", func() bool {
		g, h := settle()
		t.Logf("goroutines %d (were %d), heap %d KB (was %d KB)", g, goroutines, h>>10, heap>>10)
		return g <= goroutines+2 && h <= heap+heap/10+512<<10
	})
}

// sseOnce subscribes over SSE, reads the first event and hangs up.
func sseOnce(t *testing.T, srv *apptest.Server) {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", strings.NewReader(`{"query":"subscription { me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	defer res.Body.Close()
	buf := make([]byte, 4096)
	var got []byte
	for !strings.Contains(string(got), "event: next") {
		n, err := res.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Errorf("SSE: %v after %q", err, got)
			return
		}
	}
}

// settle collects garbage and returns the goroutines and the live heap.
func settle() (int, uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

// TestIdleConnectionClosed: a WebSocket that has said connection_init
// and subscribes to nothing is closed after the idle timeout; one whose
// subscription is still being opened, its session waiting for a busy
// database, is not idle however long that takes, and gets its answer.
func TestIdleConnectionClosed(t *testing.T) {
	gated := &gatedSessions{gate: make(chan struct{}), waiting: make(chan struct{}, 1)}
	srv := apptest.NewServerOver(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast, func(c *app.Config) {
		c.Live.IdleTimeout = 50 * time.Millisecond
	}), func(st *store.Store) app.Backend { gated.Backend = st; return gated })

	opening := srv.DialWS(t, nil)
	opening.Init(apptest.TokenLi)
	opening.Subscribe("1", "subscription { me { id } }", nil)
	<-gated.waiting // its session is being read

	// A connection idle from after the first's start: once it is closed,
	// the first's idle timer, had it run, would have fired too.
	idle := srv.DialWS(t, nil)
	idle.Init(apptest.TokenWang)
	if _, err := idle.Read(); websocket.CloseStatus(err) == -1 {
		t.Fatalf("the idle connection: %v, want it closed", err)
	}

	close(gated.gate)
	if r := opening.Next("1"); len(r.Errors) > 0 {
		t.Fatalf("the subscription opened slowly: %+v", r.Errors)
	}
}

// gatedSessions holds every session read until gate closes, signalling
// waiting as the first starts.
type gatedSessions struct {
	app.Backend
	gate    chan struct{}
	waiting chan struct{}
}

func (g *gatedSessions) SessionByToken(ctx context.Context, token string) (domain.Session, error) {
	select {
	case g.waiting <- struct{}{}:
	default:
	}
	<-g.gate
	return g.Backend.SessionByToken(ctx, token)
}
