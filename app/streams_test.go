package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"opfacade/app/apptest"
)

// TestStreamsLoggedAndCounted: a live stream, a WebSocket or an event
// stream, is one long request. While open it counts among the streams,
// not the requests in flight; when it ends, it logs one access line with
// its transport, duration and the answers it sent, and is counted in
// opfacade_request_duration_seconds as the operation subscription, with
// the code of the error that ended it, when one did.
func TestStreamsLoggedAndCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := apptest.NewJSONLogServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast, withMetrics(reg)))
	value := func(name string, labels map[string]string) float64 { return sum(samples(t, reg, name, labels)) }
	open := func(transport string) float64 {
		return value("opfacade_streams_open", map[string]string{"transport": transport})
	}
	inFlight := func() float64 { return value("opfacade_requests_in_flight", map[string]string{"door": "graphql"}) }
	const query = `subscription Live { me { isOnline } }`
	auth := http.Header{"Authorization": {"Bearer " + apptest.TokenLi}}

	ws := srv.DialWS(t, nil)
	ws.Init(apptest.TokenLi)
	ws.Subscribe("1", query, nil)
	ws.Next("1")
	sse := srv.StreamSSE(t, auth, query)
	if ev, err := sse.Next(); err != nil || ev.Name != "next" {
		t.Fatalf("the event stream's first answer: %+v, %v", ev, err)
	}
	if open("websocket") != 1 || open("sse") != 1 || inFlight() != 0 {
		t.Errorf("two streams open: websocket %v, sse %v, requests in flight %v; want 1, 1, 0", open("websocket"), open("sse"), inFlight())
	}
	if _, err := srv.Store.DB().ExecContext(context.Background(), `UPDATE op_staff SET online = 1 WHERE staff_id = '`+apptest.StaffLi+`'`); err != nil {
		t.Fatal(err)
	}
	ws.Next("1")
	if _, err := sse.Next(); err != nil {
		t.Fatal(err)
	}
	_ = ws.C.Close(websocket.StatusNormalClosure, "")
	_ = sse.Res.Body.Close()

	// Refused: an event stream without a token, a WebSocket with an
	// unknown one.
	refused := srv.StreamSSE(t, nil, query)
	if ev, err := refused.Next(); err != nil || ev.Name != "next" {
		t.Fatalf("the refused event stream: %+v, %v", ev, err)
	}
	bad := srv.DialWS(t, nil)
	bad.InitOnly("o0001nosuchtoken")
	if _, err := bad.Read(); websocket.CloseStatus(err) != 4403 {
		t.Fatalf("an unknown token: %v, want 4403", err)
	}

	streams := func() []map[string]any {
		var out []map[string]any
		for _, l := range accessLines(t, srv.Logs.String()) {
			if l["stream"] != nil {
				out = append(out, l)
			}
		}
		return out
	}
	deadline := time.Now().Add(time.Minute)
	for len(streams()) < 4 || open("websocket")+open("sse")+inFlight() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the streams' ends: %d lines; open websocket %v, sse %v, in flight %v", len(streams()), open("websocket"), open("sse"), inFlight())
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := map[string]map[string]any{ // by stream and code ("" without an error)
		"websocket ":                {"door": "graphql", "status": float64(101), "messages": float64(2), "level": "INFO"},
		"sse ":                      {"door": "graphql", "status": float64(200), "messages": float64(2), "operation": "Live", "level": "INFO"},
		"sse UNAUTHENTICATED":       {"status": float64(200), "messages": float64(1)},
		"websocket UNAUTHENTICATED": {"status": float64(101), "messages": float64(0)},
	}
	for _, l := range streams() {
		key := l["stream"].(string) + " " + l["code"].(string)
		w, ok := want[key]
		if !ok {
			t.Errorf("an access line of a stream not opened: %v", l)
			continue
		}
		delete(want, key)
		wantFields(t, l, w)
		if d, _ := l["duration_ms"].(float64); d <= 0 {
			t.Errorf("%s: duration_ms %v", key, l["duration_ms"])
		}
	}
	for key := range want {
		t.Errorf("no access line for the stream %s", key)
	}
	for code, n := range map[string]float64{"OK": 2, "UNAUTHENTICATED": 2} {
		if got := value("opfacade_request_duration_seconds", map[string]string{"door": "graphql", "operation": "subscription", "code": code}); got != n {
			t.Errorf("streams counted as subscription %s: %v, want %v", code, got, n)
		}
	}
	lint(t, reg)
}
