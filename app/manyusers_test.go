package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"opfacade/app/apptest"
)

// manyUsersOP is an OP ('s-wide', token 'tok-wide') with n chats in
// service, each with a user of its own: more users than one IN list holds
// (the store's maxInList is 1,024). User i has an app_user row unless
// i%6 == 5, a nickname unless i%4 == 3, i%3 more chats (closed, with
// another OP), i%4 orders and i%5 service orders.
func manyUsersOP(n int) (script string, grades map[string][3]int, nicks map[string]*string) {
	grades = map[string][3]int{}
	nicks = map[string]*string{}
	var users, chats, orders, services []string
	for i := range n {
		u := fmt.Sprintf("u-wide-%05d", i)
		if i%6 != 5 {
			nick := "NULL"
			if i%4 != 3 {
				name := fmt.Sprintf("用户%d", i)
				nicks[u] = &name
				nick = "'" + name + "'"
			}
			users = append(users, fmt.Sprintf("('%s', %s, NULL, '2015-01-01 00:00:00')", u, nick))
		}
		created := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(time.DateTime)
		chats = append(chats, fmt.Sprintf("('c-wide-%05d', '%s', 's-wide', 'g%d', '', 'Service', '', '', '%s')", i, u, i, created))
		for k := range i % 3 {
			chats = append(chats, fmt.Sprintf("('c-wide-%05d-%d', '%s', '%s', 'g', '', 'Closed', '', '', '2015-06-01 00:00:00')", i, k, u, apptest.StaffWang))
		}
		for k := range i % 4 {
			orders = append(orders, fmt.Sprintf("('o-wide-%05d-%d', '%s', 100, 'Paid', '2015-06-01 00:00:00')", i, k, u))
		}
		for k := range i % 5 {
			services = append(services, fmt.Sprintf("('s-wide-%05d-%d', '%s', NULL, 'Done', '2015-06-01 00:00:00')", i, k, u))
		}
		grades[u] = [3]int{1 + i%3, i % 4, i % 5}
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES ('s-wide', '广广', 1, 'OP', '2016-01-01 00:00:00');
INSERT INTO op_token (token, staff_id, expire_time) VALUES ('tok-wide', 's-wide', '2099-01-01 00:00:00');
`)
	insert := func(head string, rows []string) {
		for len(rows) > 0 {
			k := min(300, len(rows))
			fmt.Fprintf(&b, "INSERT INTO %s VALUES\n  %s;\n", head, strings.Join(rows[:k], ",\n  "))
			rows = rows[k:]
		}
	}
	insert("app_user (user_id, nick_name, icon_url, create_time)", users)
	insert("op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time)", chats)
	insert("user_order (order_id, user_id, amount_fen, status, create_time)", orders)
	insert("service_order (service_id, user_id, chat_id, status, create_time)", services)
	return b.String(), grades, nicks
}

// TestOPWithMoreUsersThanAnINList asks, through the real server, for the
// chats of an OP whose 1,300 chats name 1,300 distinct users, with their
// grades: the users' lookups take more than one IN list, and every chat
// must come back with its own user's name and counts, on both front doors.
func TestOPWithMoreUsersThanAnINList(t *testing.T) {
	const n = 1300
	script, grades, nicks := manyUsersOP(n)
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, append(apptest.FixtureScripts(), script)...), apptest.LegacyExample))
		before := srv.Store.Statements()
		res, raw := srv.GraphQL(t, "tok-wide", `{ me { chats { id user { id nickName grade { chatCount orderCount serviceCount } } } } }`, nil)
		t.Logf("GraphQL: %d statements for %d chats", srv.Store.Statements()-before, n)
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %.500s", raw)
		}
		var g struct {
			Me struct {
				Chats []struct {
					ID   string
					User struct {
						ID       string
						NickName *string
						Grade    struct{ ChatCount, OrderCount, ServiceCount int }
					}
				}
			}
		}
		if err := apptest.StrictJSON(res.Data, &g); err != nil {
			t.Fatalf("data: %v: %.300s", err, res.Data)
		}
		if len(g.Me.Chats) != n {
			t.Fatalf("%d chats, want %d", len(g.Me.Chats), n)
		}
		seen := map[string]bool{}
		for _, c := range g.Me.Chats {
			u := c.User
			if want := "c-wide-" + strings.TrimPrefix(u.ID, "u-wide-"); c.ID != want || seen[u.ID] {
				t.Fatalf("chat %s has user %s (seen before: %v)", c.ID, u.ID, seen[u.ID])
			}
			seen[u.ID] = true
			if got := [3]int{u.Grade.ChatCount, u.Grade.OrderCount, u.Grade.ServiceCount}; got != grades[u.ID] {
				t.Errorf("user %s: grade %v, want %v", u.ID, got, grades[u.ID])
			}
			if want := nicks[u.ID]; (u.NickName == nil) != (want == nil) || want != nil && *u.NickName != *want {
				t.Errorf("user %s: nickName %v, want %v", u.ID, deref(u.NickName), deref(want))
			}
		}

		// The legacy path reads the same through the same resolvers.
		lres, lraw := srv.LegacyForm(t, apptest.Signed("tok-wide"))
		if lres.Code != 200 {
			t.Fatalf("legacy: %.300s", lraw)
		}
		var l struct {
			IsOnline bool `json:"isOnline"`
			Chats    []struct {
				UserID                string `json:"userId"`
				UserGradeChatCount    int    `json:"userGradeChatCount"`
				UserGradeOrderCount   int    `json:"userGradeOrderCount"`
				UserGradeServiceCount int    `json:"userGradeServiceCount"`
			} `json:"chats"`
		}
		if err := json.Unmarshal(lres.Data, &l); err != nil || len(l.Chats) != n {
			t.Fatalf("legacy data: %v, %d chats: %.300s", err, len(l.Chats), lraw)
		}
		for _, c := range l.Chats {
			if got := [3]int{c.UserGradeChatCount, c.UserGradeOrderCount, c.UserGradeServiceCount}; got != grades[c.UserID] {
				t.Errorf("legacy user %s: grade %v, want %v", c.UserID, got, grades[c.UserID])
			}
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *s)
}
