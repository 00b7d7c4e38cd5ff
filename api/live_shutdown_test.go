package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"opfacade/app/apptest"
)

// TestShutdownClosesStreams: as the replica shuts down, each WebSocket,
// subscribed, idle or still before connection_init, is closed with 1001
// (going away) and SERVICE_UNAVAILABLE, which graphql-ws clients retry
// elsewhere; an event stream ends with a last answer saying so, then
// complete; the shutdown waits for them all, and refuses new handshakes.
func TestShutdownClosesStreams(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast))
	subscribed := srv.DialWS(t, nil)
	subscribed.Init(apptest.TokenLi)
	subscribed.Subscribe("1", liveQuery, nil)
	subscribed.Next("1")
	idle := srv.DialWS(t, nil)
	idle.Init(apptest.TokenWang)
	before := srv.DialWS(t, nil) // no connection_init yet
	sse := srv.StreamSSE(t, http.Header{"Authorization": {"Bearer " + apptest.TokenLi}}, liveQuery)
	if ev, err := sse.Next(); err != nil || ev.Name != "next" {
		t.Fatalf("the event stream's first answer: %+v, %v", ev, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Live.Shutdown(ctx) }()

	for name, ws := range map[string]*apptest.WS{"subscribed": subscribed, "idle": idle, "before connection_init": before} {
		m, err := ws.Read()
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || !strings.HasPrefix(ce.Reason, "SERVICE_UNAVAILABLE: ") {
			t.Errorf("%s WebSocket: %+v, %v; want closed with 1001 and SERVICE_UNAVAILABLE", name, m, err)
		}
	}
	ev, err := sse.Next()
	if err != nil || ev.Name != "next" || !strings.Contains(ev.Data, `"code":"SERVICE_UNAVAILABLE"`) {
		t.Errorf("the event stream's last answer: %+v, %v", ev, err)
	}
	if ev, err := sse.Next(); err != nil || ev.Name != "complete" {
		t.Errorf("the event stream's end: %+v, %v; want complete", ev, err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if srv.Live.Count() != 0 {
		t.Errorf("%d subscriptions after the shutdown", srv.Live.Count())
	}

	_, res, err := srv.TryDialWS(nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a handshake after the shutdown: %v, %v; want 503", res, err)
	}
}
