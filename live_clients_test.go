package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/store"
)

// liveClients is where the npm clients are locked (package-lock.json);
// .ci/run installs them with npm ci.
const liveClients = "scripts/live-clients"

// TestLiveClients runs the clients frontends use, graphql-ws over
// WebSocket and graphql-sse over server-sent events, against the built
// binary, and changes the database underneath from another connection,
// as the platform does: a chat added, closed and retitled, the OP coming
// online and going offline. Each change reaches the client as an answer
// of the subscription's selection, and nothing else does.
func TestLiveClients(t *testing.T) {
	node := nodeForClients(t)
	bin := buildCommand(t)
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		for _, transport := range []string{"ws", "sse"} {
			t.Run(transport, func(t *testing.T) {
				db := e.NewDB(t, apptest.FixtureScripts()...)
				s := startCommand(t, bin, t.TempDir(), nil, "-db", db, "-live-interval", "50ms")
				liveClient(t, node, transport, s.base+"/query", db)
				s.stop(t, 0)
			})
		}
	})
}

// nodeForClients returns node, skipping t when it or the npm clients are
// not installed.
func nodeForClients(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (.ci/run installs it)")
	}
	if _, err := os.Stat(filepath.Join(liveClients, "node_modules", "graphql-ws")); err != nil {
		t.Skipf("the npm clients are not installed: run npm ci in %s (.ci/run does)", liveClients)
	}
	return node
}

// nodeClient is scripts/live-clients/subscribe.mjs subscribed: each line
// it prints is a message it got.
type nodeClient struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *apptest.LockedBuffer
	lines  chan string
}

// startNodeClient subscribes to query at url with the npm client of
// transport (ws or sse), as 小李.
func startNodeClient(t *testing.T, node, transport, url, query string) *nodeClient {
	t.Helper()
	cmd := exec.Command(node, "subscribe.mjs", transport, url, apptest.TokenLi, query)
	cmd.Dir = liveClients
	c := &nodeClient{cmd: cmd, stderr: &apptest.LockedBuffer{}, lines: make(chan string)}
	c.stdin, _ = cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c
}

// message reads the next message the client printed.
func (c *nodeClient) message(t *testing.T, what string) liveAnswer {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("%s: the client ended; stderr:\n%s", what, c.stderr.String())
		}
		var a liveAnswer
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%s: the client printed %s", what, l)
		}
		a.line = l
		return a
	case <-time.After(time.Minute):
		t.Fatalf("%s: no message within a minute", what)
	}
	return liveAnswer{}
}

// next reads the next message, which must be an answer without errors.
func (c *nodeClient) next(t *testing.T, what string) liveAnswer {
	t.Helper()
	a := c.message(t, what)
	if a.Next == nil || len(a.Next.Errors) > 0 {
		t.Fatalf("%s: the client printed %s", what, a.line)
	}
	return a
}

// liveAnswer is the subscription's answer, as the client printed it.
type liveAnswer struct {
	Next *struct {
		Data struct {
			Me struct {
				IsOnline bool
				Chats    []struct{ ID, Title, Status string }
			}
		}
		Errors []any
	}
	// Error is how the client reports a connection that failed: for a
	// WebSocket closed, its close code and reason.
	Error *struct {
		Code    int
		Reason  string
		Message string
	}
	Complete bool
	line     string
}

// liveClient subscribes with the client of transport and walks the
// database through the changes, reading an answer after each.
func liveClient(t *testing.T, node, transport, url, db string) {
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	change := func(q string) {
		t.Helper()
		if _, err := st.DB().ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	c := startNodeClient(t, node, transport, url, "subscription Live { me { isOnline chats { id title status } } }")
	next := func(what string) liveAnswer {
		t.Helper()
		return c.next(t, what)
	}
	titles := func(a liveAnswer) string {
		var s []string
		for _, c := range a.Next.Data.Me.Chats {
			s = append(s, c.ID+"="+c.Title)
		}
		return strings.Join(s, " ")
	}

	first := next("the first answer")
	if n := len(first.Next.Data.Me.Chats); n != 4 || first.Next.Data.Me.IsOnline {
		t.Fatalf("the first answer: %d chats, online %t; want 小李's 4 chats in service, offline", n, first.Next.Data.Me.IsOnline)
	}
	change(`INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time)
VALUES ('live-new-chat', 'u00013058217037704c358367f6e1fd1da545', '` + apptest.StaffLi + `', 'g-live', '新的会话', 'Service', '', '你好', '2030-01-01 00:00:00')`)
	if a := next("a chat added"); len(a.Next.Data.Me.Chats) != 5 || a.Next.Data.Me.Chats[0].ID != "live-new-chat" {
		t.Fatalf("after a chat was added: %s", titles(a))
	}
	change(`UPDATE op_chat SET title = '改了标题' WHERE chat_id = 'live-new-chat'`)
	if a := next("a chat retitled"); a.Next.Data.Me.Chats[0].Title != "改了标题" {
		t.Fatalf("after the retitle: %s", titles(a))
	}
	change(`UPDATE op_chat SET status = 'Closed' WHERE chat_id = 'live-new-chat'`)
	if a := next("a chat closed"); len(a.Next.Data.Me.Chats) != 4 {
		t.Fatalf("after the chat was closed: %s", titles(a))
	}
	change(`UPDATE op_chat SET title = '别人的' WHERE staff_id = '` + apptest.StaffWang + `'`) // shows nowhere here
	change(`UPDATE op_staff SET online = 1 WHERE staff_id = '` + apptest.StaffLi + `'`)
	if a := next("the OP online"); !a.Next.Data.Me.IsOnline || titles(a) != titles(first) {
		t.Fatalf("after the OP came online: online %t, %s", a.Next.Data.Me.IsOnline, titles(a))
	}
	change(`UPDATE op_staff SET online = 0 WHERE staff_id = '` + apptest.StaffLi + `'`)
	if a := next("the OP offline"); a.Next.Data.Me.IsOnline {
		t.Fatal("after the OP went offline: still online")
	}
	_ = c.stdin.Close()
	for l := range c.lines {
		t.Errorf("the client printed more than the changes: %s", l)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("the client: %v; stderr:\n%s", err, c.stderr.String())
	}
}
