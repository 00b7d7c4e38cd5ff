package resolvers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/resolvers"
)

// The paging OP ('s-page', token 'tok-page') serves pagedChats chats:
// 20 opened in one second, then 10 a minute apart, then 18 in another
// second, with ids whose order differs between bytes and MySQL's
// case-folding collation ('p-B…' sorts before 'p-a…' by bytes). Chat i
// has a user of its own, 'pu-i', with i%3 orders and i%2 service orders;
// user 5 has no app_user row. Four closed chats follow the ones in service.
const (
	pagedChats = 48
	tokenPage  = "tok-page"
	staffPage  = "s-page"
)

type pagedChat struct{ id, created, user string }

// pagingOP returns the paging OP's script and their chats in service as
// the list orders them: created descending, then the id's bytes.
func pagingOP() (string, []pagedChat) {
	prefixes := []string{"p-a", "p-B", "p-c", "p-D", "p-Z", "p-y"}
	var chats []pagedChat
	var b strings.Builder
	b.WriteString(`INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES ('s-page', '翻页', 1, 'OP', '2016-01-01 00:00:00');
INSERT INTO op_token (token, staff_id, expire_time) VALUES ('tok-page', 's-page', '2099-01-01 00:00:00');
`)
	var chatRows, userRows, orderRows, serviceRows []string
	for i := range pagedChats {
		c := pagedChat{id: fmt.Sprintf("%s%02d", prefixes[i%len(prefixes)], i), user: fmt.Sprintf("pu-%02d", i)}
		switch {
		case i < 20:
			c.created = "2016-03-01 12:00:00"
		case i < 30:
			c.created = fmt.Sprintf("2016-03-01 11:%02d:00", 59-(i-20))
		default:
			c.created = "2016-03-01 09:30:00"
		}
		chats = append(chats, c)
		chatRows = append(chatRows, fmt.Sprintf("('%s', '%s', 's-page', 'g%d', '第%d', 'Service', '', '', '%s')", c.id, c.user, i, i, c.created))
		if i != 5 {
			userRows = append(userRows, fmt.Sprintf("('%s', '用户%d', NULL, '2015-01-01 00:00:00')", c.user, i))
		}
		for k := range i % 3 {
			orderRows = append(orderRows, fmt.Sprintf("('po-%02d-%d', '%s', 1, 'Paid', '2015-06-01 00:00:00')", i, k, c.user))
		}
		if i%2 == 1 {
			serviceRows = append(serviceRows, fmt.Sprintf("('ps-%02d', '%s', NULL, 'Done', '2015-06-01 00:00:00')", i, c.user))
		}
	}
	for k := range 4 {
		chatRows = append(chatRows, fmt.Sprintf("('p-closed-%d', 'pu-closed', 's-page', 'g', '', 'Closed', '', '', '2015-12-0%d 10:00:00')", k, k+1))
	}
	fmt.Fprintf(&b, "INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES\n  %s;\n", strings.Join(chatRows, ",\n  "))
	fmt.Fprintf(&b, "INSERT INTO app_user (user_id, nick_name, icon_url, create_time) VALUES\n  %s;\n", strings.Join(userRows, ",\n  "))
	fmt.Fprintf(&b, "INSERT INTO user_order (order_id, user_id, amount_fen, status, create_time) VALUES\n  %s;\n", strings.Join(orderRows, ",\n  "))
	fmt.Fprintf(&b, "INSERT INTO service_order (service_id, user_id, chat_id, status, create_time) VALUES\n  %s;\n", strings.Join(serviceRows, ",\n  "))
	slices.SortStableFunc(chats, func(a, b pagedChat) int {
		if a.created != b.created {
			return strings.Compare(b.created, a.created)
		}
		return strings.Compare(a.id, b.id)
	})
	return b.String(), chats
}

// wantGrade is the grade of the paging OP's user of chat id.
func wantGrade(id string) [3]int {
	var i int
	fmt.Sscanf(id[len(id)-2:], "%d", &i)
	return [3]int{1, i % 3, i % 2}
}

// pageQuery asks for a page with everything a page has.
const pageQuery = `query($s: [ChatStatus!]! = [SERVICE], $first: Int, $after: String) {
  me {
    chatsConnection(status: $s, first: $first, after: $after) {
      edges { cursor node { id createTime user { id grade { chatCount orderCount serviceCount } } } }
      nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
}`

type chatPage struct {
	Edges []struct {
		Cursor string
		Node   struct {
			ID         string
			CreateTime string
			User       struct {
				ID    string
				Grade struct{ ChatCount, OrderCount, ServiceCount int }
			}
		}
	}
	Nodes    []struct{ ID string }
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	TotalCount int
}

// ids are the page's chat ids, from its edges.
func (p chatPage) ids() []string {
	var ids []string
	for _, e := range p.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids
}

// readPage asks srv for a page as token and returns it with the SQL
// statements the request ran.
func readPage(t *testing.T, srv *apptest.Server, token string, vars map[string]any) (chatPage, int64) {
	t.Helper()
	before := srv.Store.Statements()
	res, raw := srv.GraphQL(t, token, pageQuery, vars)
	n := srv.Store.Statements() - before
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %.500s", raw)
	}
	var data struct {
		Me struct{ ChatsConnection chatPage }
	}
	if err := apptest.StrictJSON(res.Data, &data); err != nil {
		t.Fatalf("data: %v: %.500s", err, res.Data)
	}
	return data.Me.ChatsConnection, n
}

// checkPage checks what every page holds: nodes as edges, its cursors at
// its ends, no previous page, and each user's grade.
func checkPage(t *testing.T, p chatPage) {
	t.Helper()
	var nodes []string
	for _, n := range p.Nodes {
		nodes = append(nodes, n.ID)
	}
	if !slices.Equal(nodes, p.ids()) {
		t.Errorf("nodes %v, edges %v", nodes, p.ids())
	}
	if p.PageInfo.HasPreviousPage {
		t.Errorf("hasPreviousPage is true")
	}
	if len(p.Edges) == 0 {
		if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil || p.PageInfo.HasNextPage {
			t.Errorf("empty page: pageInfo %+v", p.PageInfo)
		}
		return
	}
	if s, e := p.PageInfo.StartCursor, p.PageInfo.EndCursor; s == nil || e == nil || *s != p.Edges[0].Cursor || *e != p.Edges[len(p.Edges)-1].Cursor {
		t.Errorf("pageInfo cursors %v, %v are not the page's ends", s, e)
	}
	for _, e := range p.Edges {
		if !strings.HasPrefix(e.Node.ID, "p-") || strings.HasPrefix(e.Node.ID, "p-closed-") {
			continue // not of the paging OP's chats in service
		}
		u := e.Node.User
		if got, want := [3]int{u.Grade.ChatCount, u.Grade.OrderCount, u.Grade.ServiceCount}, wantGrade(e.Node.ID); got != want {
			t.Errorf("chat %s: user %s grade %v, want %v", e.Node.ID, u.ID, got, want)
		}
	}
}

// readAll pages through the paging OP's chats first at a time, checking
// each page, and returns the chat ids in the order read.
func readAll(t *testing.T, srv *apptest.Server, first int) []string {
	t.Helper()
	var all []string
	var after any
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > pagedChats+2 {
			t.Fatalf("first %d: more pages than chats", first)
		}
		p, statements := readPage(t, srv, tokenPage, map[string]any{"first": first, "after": after})
		checkPage(t, p)
		// The token, the page with its users, their grades, the count:
		// on every page alike.
		if statements != 4 {
			t.Errorf("first %d, page %d: %d statements, want 4", first, page, statements)
		}
		if p.TotalCount != pagedChats {
			t.Errorf("first %d, page %d: totalCount %d, want %d", first, page, p.TotalCount, pagedChats)
		}
		if want := min(first, pagedChats-len(all)); len(p.Edges) != want {
			t.Fatalf("first %d, page %d: %d chats, want %d", first, page, len(p.Edges), want)
		}
		for _, e := range p.Edges {
			if seen[e.Cursor] {
				t.Fatalf("first %d: cursor %s repeats", first, e.Cursor)
			}
			seen[e.Cursor] = true
		}
		all = append(all, p.ids()...)
		if want := len(all) < pagedChats; p.PageInfo.HasNextPage != want {
			t.Fatalf("first %d, page %d: hasNextPage %v with %d of %d chats read", first, page, p.PageInfo.HasNextPage, len(all), pagedChats)
		}
		if !p.PageInfo.HasNextPage {
			return all
		}
		after = *p.PageInfo.EndCursor
	}
}

func chatIDs(chats []pagedChat) []string {
	ids := make([]string, len(chats))
	for i, c := range chats {
		ids[i] = c.id
	}
	return ids
}

func pagingServer(t *testing.T, e apptest.Engine, script string) *apptest.Server {
	t.Helper()
	// Paging by one chat sends more requests than a token's fair share.
	return apptest.NewServer(t, apptest.Config(t, e.NewDB(t, append(apptest.FixtureScripts(), script)...), apptest.NoRateLimit))
}

// TestChatsConnectionPages pages through an OP's 48 chats in service,
// with ties on createTime whose ids sort differently by bytes and by
// MySQL's collation, by pages of every kind of size: one chat, a size
// that leaves a short last page, exact divisors (no empty page at the
// end), the whole list, and more than the list. The pages read the list
// of Staff.chats, each chat once, in the same statements per page.
func TestChatsConnectionPages(t *testing.T) {
	script, chats := pagingOP()
	want := chatIDs(chats)
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := pagingServer(t, e, script)
		res, raw := srv.GraphQL(t, tokenPage, `{ me { chats { id } } }`, nil)
		var list struct {
			Me struct{ Chats []struct{ ID string } }
		}
		if err := apptest.StrictJSON(res.Data, &list); err != nil || len(res.Errors) > 0 {
			t.Fatalf("chats: %v: %.300s", err, raw)
		}
		var listed []string
		for _, c := range list.Me.Chats {
			listed = append(listed, c.ID)
		}
		if !slices.Equal(listed, want) {
			t.Fatalf("chats lists\n %v, want\n %v", listed, want)
		}
		for _, first := range []int{1, 7, 12, 16, 24, 47, 48, 49, 100} {
			t.Run(fmt.Sprint("first ", first), func(t *testing.T) {
				if got := readAll(t, srv, first); !slices.Equal(got, want) {
					t.Errorf("pages read\n %v, want\n %v", got, want)
				}
			})
		}
	})
}

// TestChatsConnectionEdges reads the pages at the list's edges: an OP
// with no chats, the page after the last chat, statuses that select
// nothing, the default size, and the closed chats.
func TestChatsConnectionEdges(t *testing.T) {
	script, chats := pagingOP()
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := pagingServer(t, e, script)

		// An OP with no chats: an empty page, counted, and no grades read.
		p, statements := readPage(t, srv, apptest.TokenZhao, nil)
		checkPage(t, p)
		if len(p.Edges) != 0 || len(p.Nodes) != 0 || p.TotalCount != 0 || statements != 3 {
			t.Errorf("an OP with no chats: %+v in %d statements, want an empty page in 3", p, statements)
		}

		// The default size, and the page after the last chat.
		p, _ = readPage(t, srv, tokenPage, nil)
		checkPage(t, p)
		if len(p.Edges) != resolvers.DefaultPageSize || !p.PageInfo.HasNextPage {
			t.Fatalf("default page: %d chats, hasNextPage %v", len(p.Edges), p.PageInfo.HasNextPage)
		}
		p, _ = readPage(t, srv, tokenPage, map[string]any{"first": pagedChats})
		last := *p.PageInfo.EndCursor
		p, statements = readPage(t, srv, tokenPage, map[string]any{"after": last})
		checkPage(t, p)
		if len(p.Edges) != 0 || p.TotalCount != pagedChats || statements != 3 {
			t.Errorf("after the last chat: %+v in %d statements, want an empty page in 3", p, statements)
		}

		// Statuses that select nothing read nothing.
		p, statements = readPage(t, srv, tokenPage, map[string]any{"s": []string{}})
		checkPage(t, p)
		if len(p.Edges) != 0 || p.TotalCount != 0 || statements != 1 {
			t.Errorf("no statuses: %+v in %d statements, want an empty page in 1", p, statements)
		}

		// The closed chats, by two, and the list of every status.
		var closed []string
		var after any
		for {
			p, _ := readPage(t, srv, tokenPage, map[string]any{"s": []string{"CLOSED"}, "first": 2, "after": after})
			checkPage(t, p)
			closed = append(closed, p.ids()...)
			if p.TotalCount != 4 {
				t.Errorf("closed: totalCount %d, want 4", p.TotalCount)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = *p.PageInfo.EndCursor
		}
		if want := []string{"p-closed-3", "p-closed-2", "p-closed-1", "p-closed-0"}; !slices.Equal(closed, want) {
			t.Errorf("closed chats %v, want %v", closed, want)
		}
		p, _ = readPage(t, srv, tokenPage, map[string]any{"s": []string{"UNKNOWN", "CLOSED", "WAIT", "SERVICE", "CLOSED"}, "first": 100})
		if want := append(chatIDs(chats), closed...); !slices.Equal(p.ids(), want) || p.TotalCount != len(want) || p.PageInfo.HasNextPage {
			t.Errorf("every status: %v (%d), want %v", p.ids(), p.TotalCount, want)
		}
	})
}

// TestChatsConnectionWhileChatsChange changes the list between the pages
// a client reads: new chats at its head (one newer than all, one in the
// same second as the first page's last chat but before it), and the
// chat the client's cursor names closed. The pages still to read are
// those the client would have read: nothing shifts, repeats or is
// skipped, and the count follows the list.
func TestChatsConnectionWhileChatsChange(t *testing.T) {
	script, chats := pagingOP()
	want := chatIDs(chats)
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := pagingServer(t, e, script)
		p, _ := readPage(t, srv, tokenPage, map[string]any{"first": 10})
		if !slices.Equal(p.ids(), want[:10]) {
			t.Fatalf("first page %v, want %v", p.ids(), want[:10])
		}
		cursor := *p.PageInfo.EndCursor
		exec := func(q string) {
			t.Helper()
			if _, err := srv.Store.DB().ExecContext(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
		// want[9] is of the first tie group ('2016-03-01 12:00:00'); p-A
		// sorts before every id of it.
		exec(`INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES
  ('p-new-newest', 'pu-00', 's-page', 'g', '', 'Service', '', '', '2016-03-02 08:00:00'),
  ('p-A-same-second', 'pu-01', 's-page', 'g', '', 'Service', '', '', '2016-03-01 12:00:00')`)
		exec(`UPDATE op_chat SET status = 'Closed' WHERE chat_id = '` + want[9] + `'`)
		var rest []string
		after := cursor
		for {
			p, _ := readPage(t, srv, tokenPage, map[string]any{"first": 10, "after": after})
			rest = append(rest, p.ids()...)
			if p.TotalCount != pagedChats+1 { // two opened, one closed
				t.Errorf("totalCount %d, want %d", p.TotalCount, pagedChats+1)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = *p.PageInfo.EndCursor
		}
		if !slices.Equal(rest, want[10:]) {
			t.Errorf("the pages after the first\n %v, want\n %v", rest, want[10:])
		}
		// Read from the start again, the list has its new head.
		p, _ = readPage(t, srv, tokenPage, map[string]any{"first": 2})
		if got := p.ids(); !slices.Equal(got, []string{"p-new-newest", "p-A-same-second"}) {
			t.Errorf("new first page %v", got)
		}
	})
}

// TestChatsConnectionStatements counts the statements of a page by what
// the operation selects of it: the page and the count are read only when
// asked for, the grades only when a user's grade is, however the
// operation reaches them; none grows with the page.
func TestChatsConnectionStatements(t *testing.T) {
	script, _ := pagingOP()
	tests := []struct {
		name, query string
		statements  int64 // the token's included
	}{
		{"the count alone", `{ me { chatsConnection { totalCount } } }`, 2},
		{"the page info alone", `{ me { chatsConnection { pageInfo { hasNextPage endCursor } } } }`, 2},
		{"the type name alone", `{ me { chatsConnection { __typename } } }`, 1},
		{"chats without grades", `{ me { chatsConnection(first: 100) { edges { cursor node { id user { nickName } } } } } }`, 2},
		{"grades through nodes", `{ me { chatsConnection(first: 100) { nodes { user { grade { chatCount } } } } } }`, 3},
		{"grades through edges", `{ me { chatsConnection(first: 5) { edges { node { user { grade { chatCount } } } } } } }`, 3},
		{"grades aliased", `{ me { c: chatsConnection { e: edges { n: node { u: user { g: grade { chatCount } } } } } } }`, 3},
		{"grades in a fragment", `{ me { chatsConnection { ...P } } } fragment P on ChatConnection { nodes { user { ...G } } } fragment G on User { grade { chatCount } }`, 3},
		{"grades skipped", `{ me { chatsConnection { nodes { user { id grade @skip(if: true) { chatCount } } } } } }`, 2},
		{"the count included by a directive", `{ me { chatsConnection { nodes { id } ... @include(if: true) { totalCount } } } }`, 3},
		{"the count skipped", `{ me { chatsConnection { nodes { id } totalCount @skip(if: true) } } }`, 2},
		{"everything", `{ me { chatsConnection(first: 100) { edges { cursor node { user { grade { chatCount } } } } nodes { id } pageInfo { hasNextPage } totalCount } } }`, 4},
	}
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := pagingServer(t, e, script)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := srv.Store.Statements()
				res, raw := srv.GraphQL(t, tokenPage, tt.query, nil)
				if got := srv.Store.Statements() - before; got != tt.statements {
					t.Errorf("%d statements, want %d", got, tt.statements)
				}
				if len(res.Errors) > 0 {
					t.Fatalf("errors: %s", raw)
				}
				if strings.Contains(tt.query, "totalCount") && !strings.Contains(tt.query, "@skip") && !strings.Contains(string(raw), fmt.Sprintf(`"totalCount":%d`, pagedChats)) {
					t.Errorf("no right count: %.300s", raw)
				}
				if strings.Contains(tt.query, "grade {") && tt.statements == 3 && strings.Contains(string(raw), `"chatCount":0`) {
					t.Errorf("a grade not read: %.300s", raw)
				}
			})
		}
	})
}

// TestChatsConnectionRefusals sends arguments a page cannot take: a
// first out of 1..100, and after cursors that are malformed, of another
// encoding, or of another list. Each is BAD_USER_INPUT at the field,
// before anything is read but the caller's token.
func TestChatsConnectionRefusals(t *testing.T) {
	script, _ := pagingOP()
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := pagingServer(t, e, script)
		p, _ := readPage(t, srv, tokenPage, map[string]any{"first": 3})
		good := *p.PageInfo.EndCursor
		raw, err := base64.RawURLEncoding.DecodeString(good)
		if err != nil {
			t.Fatalf("a cursor is not unpadded base64url: %q", good)
		}
		// What a cursor holds, as cursor.go writes it: version, list,
		// create_time's length, create_time, chat id.
		made := func(change func(b []byte) []byte) string {
			return base64.RawURLEncoding.EncodeToString(change(slices.Clone(raw)))
		}
		withTime := func(created string) string {
			return made(func(b []byte) []byte {
				n := int(b[9])
				return append(append(append(b[:9:9], byte(len(created))), created...), b[10+n:]...)
			})
		}
		closed, _ := readPage(t, srv, tokenPage, map[string]any{"s": []string{"CLOSED"}, "first": 1})
		// Another OP's cursor, as an ADMIN (who may read both lists) sends it.
		var other struct {
			Staff struct {
				ChatsConnection struct{ PageInfo struct{ EndCursor string } }
			}
		}
		res, body := srv.GraphQL(t, apptest.TokenAdmin, `{ staff(id: "`+apptest.StaffLi+`") { chatsConnection(first: 1) { pageInfo { endCursor } } } }`, nil)
		if err := apptest.StrictJSON(res.Data, &other); err != nil || other.Staff.ChatsConnection.PageInfo.EndCursor == "" {
			t.Fatalf("another OP's cursor: %v: %s", err, body)
		}
		tests := []struct {
			name  string
			token string
			query string
			vars  map[string]any
		}{
			// Each request runs the token's statement, and the ADMIN's
			// the OP's lookup too, then stops.
			{"first 0", tokenPage, pageQuery, map[string]any{"first": 0}},
			{"first -1", tokenPage, pageQuery, map[string]any{"first": -1}},
			{"first 101", tokenPage, pageQuery, map[string]any{"first": 101}},
			{"first the largest Int", tokenPage, pageQuery, map[string]any{"first": 1<<31 - 1}},
			{"first 0, the count alone", tokenPage, `{ me { chatsConnection(first: 0) { totalCount } } }`, nil},
			{"an empty cursor", tokenPage, pageQuery, map[string]any{"after": ""}},
			{"not base64", tokenPage, pageQuery, map[string]any{"after": "not a cursor!"}},
			{"padded base64", tokenPage, pageQuery, map[string]any{"after": base64.URLEncoding.EncodeToString(raw)}},
			{"standard base64", tokenPage, pageQuery, map[string]any{"after": strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+"}},
			{"too short", tokenPage, pageQuery, map[string]any{"after": good[:8]}},
			{"cut before the chat id", tokenPage, pageQuery, map[string]any{"after": made(func(b []byte) []byte { return b[:10+int(b[9])] })}},
			{"a length past the end", tokenPage, pageQuery, map[string]any{"after": made(func(b []byte) []byte { b[9] = 200; return b })}},
			{"another version", tokenPage, pageQuery, map[string]any{"after": made(func(b []byte) []byte { b[0] = 2; return b })}},
			{"not UTF-8", tokenPage, pageQuery, map[string]any{"after": made(func(b []byte) []byte { return append(b, 0xff) })}},
			{"a time that is none", tokenPage, pageQuery, map[string]any{"after": withTime("yesterday")}},
			{"a time of SQL", tokenPage, pageQuery, map[string]any{"after": withTime("0' OR '1'='1")}},
			{"a very long cursor", tokenPage, pageQuery, map[string]any{"after": strings.Repeat("A", 4000)}},
			{"another list's: other statuses", tokenPage, pageQuery, map[string]any{"after": *closed.PageInfo.EndCursor}},
			{"another list's: another OP", apptest.TokenAdmin, `query($after: String) { staff(id: "s-page") { chatsConnection(after: $after) { nodes { id } } } }`, map[string]any{"after": other.Staff.ChatsConnection.PageInfo.EndCursor}},
			{"another list's, with the count alone", tokenPage, `query($after: String) { me { chatsConnection(status: [CLOSED], after: $after) { totalCount } } }`, map[string]any{"after": good}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := srv.Store.Statements()
				res, raw := srv.GraphQL(t, tt.token, tt.query, tt.vars)
				want := int64(1)
				if tt.token == apptest.TokenAdmin {
					want = 2
				}
				if got := srv.Store.Statements() - before; got != want {
					t.Errorf("%d statements, want %d", got, want)
				}
				if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
					t.Fatalf("want one BAD_USER_INPUT error, got %.500s", raw)
				}
				if path := fmt.Sprint(res.Errors[0].Path); !strings.HasSuffix(path, " chatsConnection]") {
					t.Errorf("error at %s, want at chatsConnection", path)
				}
				t.Logf("%s", res.Errors[0].Message)
			})
		}
		// The bounds themselves, a null first (the default), and the
		// cursor the refusals were made from, are taken.
		for _, vars := range []map[string]any{{"first": 1}, {"first": 100}, {"first": nil}, {"after": good}, {"after": nil}} {
			if res, raw := srv.GraphQL(t, tokenPage, pageQuery, vars); len(res.Errors) > 0 {
				t.Errorf("%v: %.300s", vars, raw)
			}
		}
	})
}

// TestChatsConnectionComplexity checks what the complexity limit admits:
// the consoles' whole selection on a page of 100, and not a page under a
// chat list or under another page's chats, which would run its
// statements once for every chat.
func TestChatsConnectionComplexity(t *testing.T) {
	script, _ := pagingOP()
	srv := pagingServer(t, apptest.Engine{Name: "sqlite", NewDB: apptest.NewSQLiteDB}, script)
	const chat = `id groupId title status storedStatus address message createTime user { id nickName icon grade { chatCount orderCount serviceCount } } staff { id name }`
	tests := []struct {
		name     string
		query    string
		wantCode string
	}{
		{"the consoles' selection, 100 to a page", `{ me { id name role isOnline chatsConnection(first: 100) { edges { cursor node { ` + chat + ` } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } } }`, ""},
		{"the same, as nodes", `{ me { id name role isOnline chatsConnection(first: 100) { nodes { ` + chat + ` } pageInfo { hasNextPage endCursor } totalCount } } }`, ""},
		{"a page under a chat list", `{ me { chats { staff { chatsConnection(first: 1) { totalCount } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"a page under a page's chats", `{ me { chatsConnection(first: 100) { nodes { staff { chatsConnection(first: 1) { nodes { id } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"a chat list under a page's chats", `{ me { chatsConnection(first: 100) { nodes { staff { chats { id } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": tt.query})
			status, raw := srv.RawDo(t, http.MethodPost, "/query", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tokenPage}, bytes.NewReader(body))
			var res apptest.GraphQLResponse
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatalf("HTTP %d, not JSON: %v: %s", status, err, raw)
			}
			if tt.wantCode == "" {
				if status != 200 || len(res.Errors) > 0 {
					t.Fatalf("HTTP %d: %.500s", status, raw)
				}
				return
			}
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != tt.wantCode || len(res.Data) != 0 && string(res.Data) != "null" {
				t.Fatalf("want one %s error and no data, got %.300s", tt.wantCode, raw)
			}
			t.Logf("%s", res.Errors[0].Message)
		})
	}
}

// TestChatsListMaximum gives an OP more chats in service than Staff.chats
// lists: the list holds the newest resolvers.MaxChats, the connection
// pages through them all and counts them, and the legacy path, whose
// contract has no paging, still renders every one.
func TestChatsListMaximum(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a few thousand chats")
	}
	const n = resolvers.MaxChats + 5
	var b strings.Builder
	b.WriteString(`INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES ('s-max', '满满', 1, 'OP', '2016-01-01 00:00:00');
INSERT INTO op_token (token, staff_id, expire_time) VALUES ('tok-max', 's-max', '2099-01-01 00:00:00');
INSERT INTO app_user (user_id, nick_name, icon_url, create_time) VALUES ('u-max', '满', NULL, '2015-01-01 00:00:00');
`)
	want := make([]string, n)
	newest := time.Date(2016, 3, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 500 {
		var rows []string
		for i := start; i < min(start+500, n); i++ {
			// Chat i is the i-th newest, a minute older than the one before.
			want[i] = fmt.Sprintf("m-%05d", i)
			rows = append(rows, fmt.Sprintf("('%s', 'u-max', 's-max', 'g', '', 'Service', '', '', '%s')", want[i], newest.Add(-time.Duration(i)*time.Minute).Format(time.DateTime)))
		}
		fmt.Fprintf(&b, "INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES\n  %s;\n", strings.Join(rows, ",\n  "))
	}
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, append(apptest.FixtureScripts(), b.String())...), apptest.LegacyExample, apptest.NoRateLimit))
		before := srv.Store.Statements()
		res, raw := srv.GraphQL(t, "tok-max", `{ me { chats { id user { grade { chatCount } } } } }`, nil)
		var data struct {
			Me struct {
				Chats []struct {
					ID   string
					User struct{ Grade struct{ ChatCount int } }
				}
			}
		}
		if err := apptest.StrictJSON(res.Data, &data); err != nil || len(res.Errors) > 0 {
			t.Fatalf("%v: %.300s", err, raw)
		}
		var listed []string
		for _, c := range data.Me.Chats {
			listed = append(listed, c.ID)
			if c.User.Grade.ChatCount != n {
				t.Fatalf("chat %s: the user's chatCount %d, want %d", c.ID, c.User.Grade.ChatCount, n)
			}
		}
		if !slices.Equal(listed, want[:resolvers.MaxChats]) {
			t.Errorf("chats lists %d chats, want the newest %d", len(listed), resolvers.MaxChats)
		}
		if got := srv.Store.Statements() - before; got != 3 {
			t.Errorf("chats: %d statements, want 3", got)
		}

		// The pages hold every chat, those past the list's maximum too.
		var paged []string
		var after any
		for {
			p, _ := readPage(t, srv, "tok-max", map[string]any{"first": resolvers.MaxPageSize, "after": after})
			paged = append(paged, p.ids()...)
			if p.TotalCount != n {
				t.Fatalf("totalCount %d, want %d", p.TotalCount, n)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = *p.PageInfo.EndCursor
		}
		if !slices.Equal(paged, want) {
			t.Errorf("the pages hold %d chats, want all %d in order", len(paged), n)
		}

		lres, lraw := srv.LegacyForm(t, apptest.Signed("tok-max"))
		var l struct {
			Chats []struct {
				ChatID string `json:"chatId"`
			} `json:"chats"`
		}
		if err := json.Unmarshal(lres.Data, &l); lres.Code != 200 || err != nil {
			t.Fatalf("legacy: %v: %.300s", err, lraw)
		}
		var rendered []string
		for _, c := range l.Chats {
			rendered = append(rendered, c.ChatID)
		}
		if !slices.Equal(rendered, want) {
			t.Errorf("legacy renders %d chats, want all %d in order", len(rendered), n)
		}
	})
}
