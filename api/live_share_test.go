package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
)

// selections counts the statements a store runs, but the poller's
// fingerprints: those of the subscriptions' selections.
type selections struct {
	mu sync.Mutex
	n  int
}

func (c *selections) StatementStarts(ctx context.Context, name string) context.Context {
	if name != "fingerprints" {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return ctx
}

func (c *selections) StatementEnds(context.Context, string, time.Duration, error) {}

func (c *selections) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestSubscribersOfOneOPShareTheirRun: after a change, the subscribers
// of one OP that run the same operation with the same variables run
// their selection once between them, over WebSockets and event streams
// alike, and each gets the same answer, the one a query of the same
// selection gets; another document, or other variables, on the same OP
// run theirs, and get their own answers. Four subscribers of each
// operation run as many statements as one.
func TestSubscribersOfOneOPShareTheirRun(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		stmts := &selections{}
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), apptest.LiveFast,
			func(c *app.Config) { c.Store.Observer = stmts }))
		const (
			other   = `subscription { me { chats { id title } } }`
			withVar = `subscription($t: Boolean!) { me { chats { id title @include(if: $t) message } } }`
		)
		type sub struct {
			ws          *apptest.WS
			id, query   string
			vars        map[string]any
			sameAnswers string // subscribers of one group get the same answer
		}
		dial := func() *apptest.WS {
			ws := srv.DialWS(t, nil)
			ws.Init(apptest.TokenLi)
			return ws
		}
		ws1, ws2, ws3 := dial(), dial(), dial()
		// One subscriber of each operation first, then three more of each.
		first := []sub{
			{ws1, "a1", liveQuery, nil, "live"},
			{ws2, "o1", other, nil, "other"},
			{ws2, "t1", withVar, map[string]any{"t": true}, "with title"},
			{ws3, "f1", withVar, map[string]any{"t": false}, "without title"},
		}
		more := []sub{
			{ws1, "a2", liveQuery, nil, "live"}, {ws2, "a3", liveQuery, nil, "live"},
			{ws3, "o2", other, nil, "other"}, {ws1, "o3", other, nil, "other"}, {ws3, "o4", other, nil, "other"},
			{ws1, "t2", withVar, map[string]any{"t": true}, "with title"}, {ws2, "t3", withVar, map[string]any{"t": true}, "with title"}, {ws3, "t4", withVar, map[string]any{"t": true}, "with title"},
			{ws1, "f2", withVar, map[string]any{"t": false}, "without title"}, {ws2, "f3", withVar, map[string]any{"t": false}, "without title"}, {ws3, "f4", withVar, map[string]any{"t": false}, "without title"},
		}
		// answers reads the next answer of each of subs, by id.
		answers := func(subs []sub) map[string]json.RawMessage {
			t.Helper()
			got := map[string]json.RawMessage{}
			for _, ws := range []*apptest.WS{ws1, ws2, ws3} {
				want := 0
				for _, s := range subs {
					if s.ws == ws {
						want++
					}
				}
				for range want { // in any order
					m := ws.Must("next")
					var r apptest.GraphQLResponse
					if err := json.Unmarshal(m.Payload, &r); err != nil || len(r.Errors) > 0 {
						t.Fatalf("%s: %s, %v", m.ID, m.Payload, err)
					}
					got[m.ID] = r.Data
				}
			}
			return got
		}
		subscribe := func(subs []sub) {
			t.Helper()
			for _, s := range subs {
				s.ws.Subscribe(s.id, s.query, s.vars)
			}
			answers(subs)
		}
		retitle := func(title string) {
			exec(t, srv, `UPDATE op_chat SET title = '`+title+`', last_message = '`+title+`' WHERE chat_id = (SELECT chat_id FROM (SELECT MIN(chat_id) AS chat_id FROM op_chat WHERE staff_id = '`+apptest.StaffLi+`' AND status = 'Service') x)`)
		}
		// change retitles a chat every selection shows, with a new
		// message, and returns the
		// answers of subs and the statements they ran.
		change := func(title string, subs []sub) (map[string]json.RawMessage, int) {
			t.Helper()
			before := stmts.count()
			retitle(title)
			got := answers(subs)
			return got, stmts.count() - before
		}

		subscribe(first)
		_, alone := change("once", first)
		if alone == 0 {
			t.Fatal("no statement ran for the answers after a change")
		}
		subscribe(more)
		// An event stream of the live query, too.
		sse := srv.StreamSSE(t, http.Header{"Authorization": {"Bearer " + apptest.TokenLi}}, liveQuery)
		if ev, err := sse.Next(); err != nil || ev.Name != "next" {
			t.Fatalf("the event stream's first answer: %+v, %v", ev, err)
		}
		all := append(append([]sub{}, first...), more...)
		got, shared := change("twice", all)
		ev, err := sse.Next()
		if err != nil || ev.Name != "next" {
			t.Fatalf("the event stream's answer: %+v, %v", ev, err)
		}
		var sseAnswer apptest.GraphQLResponse
		_ = json.Unmarshal([]byte(ev.Data), &sseAnswer)

		t.Logf("statements after a change: %d with one subscriber of each of 4 operations, %d with 4 of each and an event stream", alone, shared)
		if shared != alone {
			t.Errorf("statements after a change: %d with 4 subscribers of each operation, %d with one: want as many", shared, alone)
		}
		byGroup := map[string]json.RawMessage{}
		for _, s := range all {
			a := got[s.id]
			if b, ok := byGroup[s.sameAnswers]; !ok {
				byGroup[s.sameAnswers] = a
			} else if string(a) != string(b) {
				t.Errorf("%s (%s): %s, want the group's %s", s.id, s.sameAnswers, a, b)
			}
		}
		if string(sseAnswer.Data) != string(byGroup["live"]) {
			t.Errorf("the event stream's answer %s, want the WebSockets' %s", sseAnswer.Data, byGroup["live"])
		}
		for g, a := range byGroup {
			for h, b := range byGroup {
				if g < h && string(a) == string(b) {
					t.Errorf("the groups %s and %s got the same answer: %s", g, h, a)
				}
			}
		}
		// Each group's answer is what a query of its selection answers.
		for _, q := range []struct {
			group, query string
			vars         map[string]any
		}{
			{"live", liveQuery, nil}, {"other", other, nil},
			{"with title", withVar, map[string]any{"t": true}}, {"without title", withVar, map[string]any{"t": false}},
		} {
			res, raw := srv.GraphQL(t, apptest.TokenLi, "query"+q.query[len("subscription"):], q.vars)
			if len(res.Errors) > 0 {
				t.Fatalf("%s as a query: %s", q.group, raw)
			}
			var want, have any
			_ = json.Unmarshal(res.Data, &want)
			_ = json.Unmarshal(byGroup[q.group], &have)
			if !reflect.DeepEqual(want, have) {
				t.Errorf("%s: the subscribers' answer %s, a query's %s", q.group, byGroup[q.group], res.Data)
			}
		}
	})
}
