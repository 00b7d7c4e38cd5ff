package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"opfacade/app"
	"opfacade/app/apptest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got, a JSON document, with testdata/name as JSON values,
// or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var v any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		var pretty bytes.Buffer
		enc := json.NewEncoder(&pretty)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	apptest.SameJSONFile(t, path, got)
}

func TestGraphQLMeChatsGolden(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...)))
		res, raw := srv.GraphQL(t, apptest.TokenLi, apptest.MeChatsQuery, nil)
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %s", raw)
		}
		golden(t, "me-chats.golden.json", raw)
	})
}

func TestGraphQLAuth(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...)))
		tests := []struct {
			name     string
			header   string // Authorization header; "" sends none
			query    string
			wantCode string // "" when the query must succeed
		}{
			{"no token", "", `{ me { id } }`, "UNAUTHENTICATED"},
			{"unknown token", "Bearer nope", `{ me { id } }`, "UNAUTHENTICATED"},
			{"expired token", "Bearer " + apptest.TokenExpired, `{ me { id } }`, "UNAUTHENTICATED"},
			{"token of no OP", "Bearer " + apptest.TokenGhost, `{ me { id } }`, "UNAUTHENTICATED"},
			{"not a bearer", "Basic " + apptest.TokenLi, `{ me { id } }`, "UNAUTHENTICATED"},
			{"empty bearer", "Bearer ", `{ me { id } }`, "UNAUTHENTICATED"},
			{"introspection and data", "", `{ __typename me { id } }`, "UNAUTHENTICATED"},
			{"data behind a fragment", "", `query { ...F } fragment F on Query { me { id } }`, "UNAUTHENTICATED"},
			{"data included", "", `{ __typename me @include(if: true) { id } }`, "UNAUTHENTICATED"},
			{"data skipped needs no token", "", `{ __typename me @skip(if: true) { id } }`, ""},
			{"valid token", "Bearer " + apptest.TokenLi, `{ me { id } }`, ""},
			{"scheme in any case", "bearer " + apptest.TokenLi, `{ me { id } }`, ""},
			{"introspection needs no token", "", `{ __schema { queryType { name } } }`, ""},
			{"typename needs no token", "", `{ __typename }`, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, raw := srv.GraphQLAuth(t, tt.header, tt.query, nil)
				if tt.wantCode == "" {
					if len(res.Errors) > 0 || string(res.Data) == "null" {
						t.Fatalf("want data, got %s", raw)
					}
					return
				}
				if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != tt.wantCode {
					t.Fatalf("want one %s error, got %s", tt.wantCode, raw)
				}
				if len(res.Data) != 0 && string(res.Data) != "null" {
					t.Fatalf("want no data, got %s", raw)
				}
				if strings.Contains(string(raw), apptest.TokenLi) {
					t.Fatalf("the response repeats the token: %s", raw)
				}
			})
		}
	})
}

func TestGraphQLStaffAccess(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...)))
		const q = `query($id: ID!) { staff(id: $id) { id name role } }`
		tests := []struct {
			name     string
			token    string
			id       string
			want     string // data, as JSON
			wantCode string
		}{
			{"OP looks at themself", apptest.TokenLi, apptest.StaffLi, `{"staff":{"id":"` + apptest.StaffLi + `","name":"小李","role":"OP"}}`, ""},
			{"OP looks at another OP", apptest.TokenLi, apptest.StaffWang, `{"staff":null}`, "FORBIDDEN"},
			{"OP looks at an id that does not exist", apptest.TokenLi, "nobody", `{"staff":null}`, "FORBIDDEN"},
			{"ADMIN looks at another OP", apptest.TokenAdmin, apptest.StaffWang, `{"staff":{"id":"` + apptest.StaffWang + `","name":"小王","role":"OP"}}`, ""},
			{"ADMIN looks at themself", apptest.TokenAdmin, apptest.StaffAdmin, `{"staff":{"id":"` + apptest.StaffAdmin + `","name":"张主管","role":"ADMIN"}}`, ""},
			{"ADMIN looks for no one", apptest.TokenAdmin, "nobody", `{"staff":null}`, ""},
			{"ADMIN sends an injection-shaped id", apptest.TokenAdmin, "x' OR '1'='1", `{"staff":null}`, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, raw := srv.GraphQL(t, tt.token, q, map[string]any{"id": tt.id})
				apptest.AssertJSON(t, tt.want, res.Data)
				if tt.wantCode == "" {
					if len(res.Errors) > 0 {
						t.Fatalf("unexpected errors: %s", raw)
					}
					return
				}
				if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != tt.wantCode {
					t.Fatalf("want one %s error, got %s", tt.wantCode, raw)
				}
			})
		}
	})
}

func TestGraphQLChats(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...)))
		tests := []struct {
			name  string
			token string
			query string
			want  string
		}{
			{
				"a user with no app_user row still resolves",
				apptest.TokenWang, `{ me { chats { id user { id nickName icon grade { chatCount orderCount serviceCount } } } } }`,
				`{"me":{"chats":[
			  {"id":"u0001eeee0000000000000000000000000001","user":{"id":"u0001dddd00000000000000000000000orphan","nickName":null,"icon":"` + app.DefaultIcon + `","grade":{"chatCount":1,"orderCount":0,"serviceCount":0}}},
			  {"id":"u00017c3d4e5f60718293a4b5c6d7e8f9a0b1","user":{"id":"u0001e5b1f07a9c2d4e6f8a0b1c2d3e4f5a61","nickName":"老陈","icon":"` + app.DefaultIcon + `","grade":{"chatCount":2,"orderCount":1,"serviceCount":0}}}]}}`,
			},
			{
				"an unknown stored status is UNKNOWN, never an error",
				apptest.TokenWang, `{ me { chats(status: [UNKNOWN]) { id title status storedStatus } } }`,
				`{"me":{"chats":[{"id":"u0001eeee0000000000000000000000000002","title":"转接中","status":"UNKNOWN","storedStatus":"Transfer"}]}}`,
			},
			{
				"statuses combine",
				apptest.TokenWang, `{ me { chats(status: [SERVICE, UNKNOWN]) { id status } } }`,
				`{"me":{"chats":[{"id":"u0001eeee0000000000000000000000000001","status":"SERVICE"},{"id":"u0001eeee0000000000000000000000000002","status":"UNKNOWN"},{"id":"u00017c3d4e5f60718293a4b5c6d7e8f9a0b1","status":"SERVICE"}]}}`,
			},
			{
				"closed chats on request",
				apptest.TokenLi, `{ me { chats(status: [CLOSED]) { id title status message staff { name } } } }`,
				`{"me":{"chats":[{"id":"u00015a1b2c3d4e5f60718293a4b5c6d7e8f9","title":"空调维修","status":"CLOSED","message":"谢谢，已经修好了","staff":{"name":"小李"}}]}}`,
			},
			{
				"no statuses, no chats",
				apptest.TokenLi, `{ me { chats(status: []) { id } } }`,
				`{"me":{"chats":[]}}`,
			},
			{
				"an OP with no chats",
				apptest.TokenZhao, `{ me { name isOnline chats { id } } }`,
				`{"me":{"name":"小赵","isOnline":true,"chats":[]}}`,
			},
			{
				"an ADMIN sees another OP's chats",
				apptest.TokenAdmin, `{ staff(id: "` + apptest.StaffLi + `") { chats { id } } }`,
				`{"staff":{"chats":[{"id":"u0001d68d5da979194a4b831097de49db3dd2"},{"id":"u00010b2345fc76de44d5813389f2345647e8"},{"id":"u00014cd5a734bb77459bbac5362728848107"},{"id":"u00011e67202dd8fa4b0eb03d99d9b2513070"}]}}`,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, raw := srv.GraphQL(t, tt.token, tt.query, nil)
				if len(res.Errors) > 0 {
					t.Fatalf("unexpected errors: %s", raw)
				}
				apptest.AssertJSON(t, tt.want, res.Data)
			})
		}
	})
}

func TestGraphQLTimeZone(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		db := e.NewDB(t, apptest.FixtureScripts()...)
		tests := []struct {
			zone string
			want string
		}{
			{"Asia/Shanghai", "2016-01-06T10:59:12+08:00"},
			{"UTC", "2016-01-06T10:59:12Z"},
			{"America/New_York", "2016-01-06T10:59:12-05:00"},
		}
		for _, tt := range tests {
			t.Run(tt.zone, func(t *testing.T) {
				zone, err := time.LoadLocation(tt.zone)
				if err != nil {
					t.Fatal(err)
				}
				srv := apptest.NewServer(t, apptest.Config(t, db, func(c *app.Config) { c.Zone = zone }))
				res, raw := srv.GraphQL(t, apptest.TokenLi, `{ me { chats { createTime } } }`, nil)
				var data struct {
					Me struct{ Chats []struct{ CreateTime string } }
				}
				if err := json.Unmarshal(res.Data, &data); err != nil || len(data.Me.Chats) == 0 {
					t.Fatalf("bad response %s", raw)
				}
				if got := data.Me.Chats[0].CreateTime; got != tt.want {
					t.Errorf("createTime = %s, want %s (the stored wall clock, unshifted)", got, tt.want)
				}
			})
		}
	})
}

// TestGraphQLStatementsConstant counts the SQL statements the main query
// runs for OPs with 1, 20 and 500 chats: it must not grow with the chats.
func TestGraphQLStatementsConstant(t *testing.T) {
	const q = `{ me { chats { id user { nickName grade { chatCount orderCount serviceCount } } staff { id } } } }`
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		var counts []int64
		for _, n := range []int{1, 20, 500} {
			db := e.NewDB(t, apptest.OPWithChats(n))
			srv := apptest.NewServer(t, apptest.Config(t, db))
			before := srv.Store.Statements()
			res, raw := srv.GraphQL(t, "tok-many", q, nil)
			got := srv.Store.Statements() - before
			var data struct {
				Me struct {
					Chats []struct {
						User struct {
							Grade struct{ ChatCount, OrderCount int }
						}
					}
				}
			}
			if err := json.Unmarshal(res.Data, &data); err != nil || len(res.Errors) > 0 {
				t.Fatalf("%d chats: bad response %s", n, raw)
			}
			if len(data.Me.Chats) != n {
				t.Fatalf("%d chats: got %d", n, len(data.Me.Chats))
			}
			for _, c := range data.Me.Chats {
				if c.User.Grade.ChatCount != 1 || c.User.Grade.OrderCount != 2 {
					t.Fatalf("%d chats: wrong grade %+v", n, c.User.Grade)
				}
			}
			t.Logf("%d chats: %d statements", n, got)
			counts = append(counts, got)
		}
		// One for the token, one for the chats with their users, one for the grades.
		for _, c := range counts {
			if c != 3 {
				t.Fatalf("statements per request = %v, want 3 for every size", counts)
			}
		}
	})
}

// TestGraphQLGradesHoweverAsked checks that the grades come out right, in
// the same three statements, whichever way a query reaches them: the chats
// resolver looks ahead to read them all at once, and a shape it did not
// foresee would still be answered through the loaders, in a batch.
func TestGraphQLGradesHoweverAsked(t *testing.T) {
	tests := []struct {
		name, query string
		vars        map[string]any
		statements  int64
	}{
		{"plain", `{ me { chats { user { grade { chatCount orderCount } } } } }`, nil, 3},
		{"aliased", `{ me { c: chats { u: user { g: grade { chatCount orderCount } } } } }`, nil, 3},
		{"named fragment", `{ me { chats { user { ...G } } } } fragment G on User { grade { chatCount orderCount } }`, nil, 3},
		{"inline fragment", `{ me { chats { ... on Chat { user { ... on User { grade { chatCount orderCount } } } } } } }`, nil, 3},
		{"included by a variable", `query($g: Boolean!) { me { chats { user { grade @include(if: $g) { chatCount orderCount } } } } }`, map[string]any{"g": true}, 3},
		{"skipped by a variable", `query($g: Boolean!) { me { chats { user { grade @skip(if: $g) { chatCount orderCount } } } } }`, map[string]any{"g": true}, 2},
	}
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.OPWithChats(20))))
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := srv.Store.Statements()
				res, raw := srv.GraphQL(t, "tok-many", tt.query, tt.vars)
				if got := srv.Store.Statements() - before; got != tt.statements {
					t.Errorf("%d statements, want %d", got, tt.statements)
				}
				if len(res.Errors) > 0 {
					t.Fatalf("errors: %s", raw)
				}
				// Whatever the aliases, every grade asked for is chatCount 1
				// and orderCount 2, and a skipped one is absent.
				grades := strings.Count(string(raw), `{"chatCount":1,"orderCount":2}`)
				want := 20
				if tt.statements == 2 {
					want = 0
				}
				if grades != want || strings.Count(string(raw), "chatCount") != want {
					t.Fatalf("%d right grades of %d asked: %s", grades, want, raw)
				}
			})
		}
	})
}
