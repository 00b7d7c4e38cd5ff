package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"opfacade/app"
	"opfacade/app/apptest"
)

const liveQuery = `subscription { me { name isOnline chats { id title message user { nickName grade { chatCount } } } } }`

// exec runs a statement on the server's database from another
// connection, as the platform would change it.
func exec(t *testing.T, srv *apptest.Server, q string) {
	t.Helper()
	if _, err := srv.Store.DB().ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

type liveAnswer struct {
	Me struct {
		Name     string
		IsOnline bool
		Chats    []struct {
			ID, Title, Message string
		}
	}
}

func decodeLive(t *testing.T, r apptest.GraphQLResponse) liveAnswer {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	var a liveAnswer
	if err := json.Unmarshal(r.Data, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSubscriptionOverWebSocket subscribes as graphql-transport-ws
// clients do and changes the database underneath: the OP's answer comes
// at once, then again after each change of their chats or their row, and
// a change of nothing it shows sends nothing.
func TestSubscriptionOverWebSocket(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), apptest.LiveFast))
		ws := srv.DialWS(t, nil)
		ws.Init(apptest.TokenLi)
		ws.Subscribe("1", liveQuery, nil)
		first := decodeLive(t, ws.Next("1"))
		if first.Me.Name != "小李" || len(first.Me.Chats) == 0 {
			t.Fatalf("first answer: %+v", first)
		}
		exec(t, srv, `UPDATE op_chat SET title = 'retitled' WHERE chat_id = '`+first.Me.Chats[0].ID+`'`)
		if a := decodeLive(t, ws.Next("1")); a.Me.Chats[0].Title != "retitled" {
			t.Fatalf("after the retitle: %+v", a)
		}
		// A chat of another status changes nothing this answer shows.
		exec(t, srv, `UPDATE op_chat SET title = 'elsewhere' WHERE staff_id = '`+apptest.StaffWang+`'`)
		exec(t, srv, `UPDATE op_staff SET online = 1 - online WHERE staff_id = '`+apptest.StaffLi+`'`)
		if a := decodeLive(t, ws.Next("1")); a.Me.IsOnline == first.Me.IsOnline {
			t.Fatalf("after the OP signed in or out: %+v", a)
		}
		// The client ends it; the connection stays, and answers a ping.
		ws.Send("complete", "1", nil)
		ws.Send("ping", "", nil)
		got := map[string]bool{}
		for range 2 { // in either order
			m, err := ws.Read()
			if err != nil {
				t.Fatal(err)
			}
			got[m.Type+m.ID] = true
		}
		if !got["complete1"] || !got["pong"] {
			t.Fatalf("after complete and ping: %v, want complete of 1 and pong", got)
		}
	})
}

// TestSubscriptionOverSSE subscribes as GraphQL-over-SSE clients do.
func TestSubscriptionOverSSE(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LiveFast))
	st := srv.StreamSSE(t, http.Header{"Authorization": {"Bearer " + apptest.TokenLi}}, liveQuery)
	if ct := st.Res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	ev, err := st.Next()
	if err != nil || ev.Name != "next" {
		t.Fatalf("first event %+v, %v", ev, err)
	}
	var r apptest.GraphQLResponse
	_ = json.Unmarshal([]byte(ev.Data), &r)
	first := decodeLive(t, r)
	exec(t, srv, `UPDATE op_chat SET last_message = 'news' WHERE chat_id = '`+first.Me.Chats[0].ID+`'`)
	ev, err = st.Next()
	if err != nil || !strings.Contains(ev.Data, `"news"`) {
		t.Fatalf("after the new message %+v, %v", ev, err)
	}
}

var _ = app.Config{}
