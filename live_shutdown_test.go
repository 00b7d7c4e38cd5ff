package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/store"
)

// TestLiveStreamsAtShutdown runs the binary with a drain, and 小李
// subscribed with graphql-ws over a WebSocket and with graphql-sse over
// an event stream, then sends SIGTERM. While it drains, the streams go
// on: a change reaches both. A second SIGTERM ends the drain: the
// WebSocket is closed with 1001 (going away) and SERVICE_UNAVAILABLE,
// which graphql-ws retries, reaching another replica; the event stream
// ends with an answer saying SERVICE_UNAVAILABLE, then complete. The
// binary exits 0: it did not run out of -shutdown-grace waiting for them
// (that would be an error, and status 1).
func TestLiveStreamsAtShutdown(t *testing.T) {
	node := nodeForClients(t)
	bin := buildCommand(t)
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	s := startCommand(t, bin, t.TempDir(), nil, "-db", db, "-live-interval", "50ms", "-drain", "1h", "-shutdown-grace", "30s")
	const query = "subscription Live { me { isOnline chats { id title status } } }"
	clients := map[string]*nodeClient{
		"ws":  startNodeClient(t, node, "ws", s.base+"/query", query),
		"sse": startNodeClient(t, node, "sse", s.base+"/query", query),
	}
	for name, c := range clients {
		if a := c.next(t, name+": the first answer"); a.Next.Data.Me.IsOnline {
			t.Fatalf("%s: 小李 online in the first answer", name)
		}
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the draining line", func() bool { return strings.Contains(s.stderr.String(), `"msg":"draining`) })
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB().ExecContext(context.Background(), `UPDATE op_staff SET online = 1 WHERE staff_id = '`+apptest.StaffLi+`'`); err != nil {
		t.Fatal(err)
	}
	for name, c := range clients {
		if a := c.next(t, name+": a change while draining"); !a.Next.Data.Me.IsOnline {
			t.Fatalf("%s: while draining, 小李 online did not arrive: %s", name, a.line)
		}
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws := clients["ws"].message(t, "ws: the shutdown")
	if ws.Error == nil || ws.Error.Code != 1001 || !strings.HasPrefix(ws.Error.Reason, "SERVICE_UNAVAILABLE: ") {
		t.Errorf("ws: at the shutdown the client printed %s; want the socket closed with 1001 and SERVICE_UNAVAILABLE", ws.line)
	}
	sse := clients["sse"].message(t, "sse: the shutdown")
	if sse.Next == nil || len(sse.Next.Errors) != 1 || !strings.Contains(sse.line, `"code":"SERVICE_UNAVAILABLE"`) {
		t.Errorf("sse: at the shutdown the client printed %s; want an answer with SERVICE_UNAVAILABLE", sse.line)
	}
	if end := clients["sse"].message(t, "sse: the stream's end"); !end.Complete {
		t.Errorf("sse: after the last answer the client printed %s; want complete", end.line)
	}
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatal("the command did not stop after the second SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", code, s.stderr)
	}
	wantPhases(t, s.stderr.String(), `"msg":"draining`, `"msg":"drain cut short`, `"msg":"shutting down`, `"msg":"shut down"`)
}
