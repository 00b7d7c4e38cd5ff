package legacy_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/legacydb"
)

func TestLegacyExampleGolden(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, legacydb.ExampleFixture), apptest.LegacyExample))
		params := apptest.Signed(apptest.TokenLi)
		if got := params.Get("sign"); got != "98a1e4ee75534faa59c7cffaa81d98db" {
			t.Fatalf("sign of the contract's example = %s", got)
		}
		res, raw := srv.LegacyForm(t, params)
		if res.Code != 200 {
			t.Fatalf("code %d: %s", res.Code, raw)
		}
		// The contract's example is not ours to rewrite: no -update here.
		apptest.SameJSONFile(t, "testdata/receives-example.golden.json", raw)
		for _, escaped := range []string{`\u0026`, `\u003c`, `\u003e`, `\u963f`} {
			if bytes.Contains(raw, []byte(escaped)) {
				t.Errorf("response escapes %s; legacy apps need UTF-8 and &<> as is", escaped)
			}
		}
		if !bytes.Contains(raw, []byte(`"nickName":"阿洋"`)) || !bytes.Contains(raw, []byte(`?attname=&imageView2`)) {
			t.Errorf("response is not written as is: %s", raw)
		}
	})
}

// TestLegacyExampleIsTheContracts keeps the repository's copy of the
// contract's example equal to the platform's, where that is at hand.
func TestLegacyExampleIsTheContracts(t *testing.T) {
	shared, err := os.ReadFile("../../shared/legacy/examples/receives-example.json")
	if err != nil {
		t.Skip("the platform's shared/legacy folder is not beside this checkout")
	}
	ours, err := os.ReadFile("testdata/receives-example.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, ours) {
		t.Fatal("legacy/testdata/receives-example.golden.json differs from shared/legacy/examples/receives-example.json")
	}
}

func TestLegacyParameterSources(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, legacydb.ExampleFixture), apptest.LegacyExample))
	form := apptest.Signed(apptest.TokenLi)
	jsonBody, _ := json.Marshal(map[string]string{"apiVersion": "01", "client": apptest.ClientID, "token": apptest.TokenLi, "sign": form.Get("sign")})
	tests := []struct {
		name        string
		query       string
		contentType string
		body        string
	}{
		{"query string", form.Encode(), "", ""},
		{"form body", "", "application/x-www-form-urlencoded", form.Encode()},
		{"form body with charset", "", "application/x-www-form-urlencoded; charset=UTF-8", form.Encode()},
		{"JSON body", "", "application/json", string(jsonBody)},
		{"JSON body with charset", "", "application/json;charset=UTF-8", string(jsonBody)},
		{"body wins over query string", "token=nope&client=nope", "application/x-www-form-urlencoded", form.Encode()},
		{"split between query and body", "apiVersion=01&client=" + apptest.ClientID, "application/x-www-form-urlencoded", url.Values{"token": {apptest.TokenLi}, "sign": {form.Get("sign")}}.Encode()},
		{"JSON null is absent", "", "application/json", `{"apiVersion":null,"client":"` + apptest.ClientID + `","token":"` + apptest.TokenLi + `","sign":"` + apptest.Sign(url.Values{"client": {apptest.ClientID}, "token": {apptest.TokenLi}}, apptest.ClientSecret).Get("sign") + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives?"+tt.query, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			res, raw := srv.LegacyDo(t, req)
			if res.Code != 200 || !bytes.Contains(raw, []byte("u0001d68d5da979194a4b831097de49db3dd2")) {
				t.Fatalf("want the OP's chats, got %s", raw)
			}
		})
	}
}

func TestLegacyErrors(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), apptest.LegacyExample))
		form := func(v url.Values) func() *http.Request {
			return func() *http.Request {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(v.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			}
		}
		raw := func(method, contentType, body string) func() *http.Request {
			return func() *http.Request {
				req, _ := http.NewRequest(method, srv.URL+"/op/v2/receives", strings.NewReader(body))
				if contentType != "" {
					req.Header.Set("Content-Type", contentType)
				}
				return req
			}
		}
		wrongSign := apptest.Signed(apptest.TokenLi)
		wrongSign.Set("sign", "0123456789abcdef0123456789abcdef")
		upperSign := apptest.Signed(apptest.TokenLi)
		upperSign.Set("sign", strings.ToUpper(upperSign.Get("sign")))
		noSign := apptest.Signed(apptest.TokenLi)
		noSign.Del("sign")
		noClient := apptest.Sign(url.Values{"apiVersion": {"01"}, "token": {apptest.TokenLi}}, apptest.ClientSecret)
		unknownClient := apptest.Sign(url.Values{"client": {"nope"}, "token": {apptest.TokenLi}}, apptest.ClientSecret)
		disabledClient := apptest.Sign(url.Values{"client": {apptest.ClientDisabled}, "token": {apptest.TokenLi}}, "00000000000000000000000000000000")
		tamperedAfterSigning := apptest.Signed(apptest.TokenLi)
		tamperedAfterSigning.Set("staffId", apptest.StaffWang)

		tests := []struct {
			name     string
			req      func() *http.Request
			wantCode int
			wantMsg  string
		}{
			{"success", form(apptest.Signed(apptest.TokenLi)), 200, "成功"},
			{"GET", raw(http.MethodGet, "", ""), 405, "请求方式错误"},
			{"PUT with a valid body", raw(http.MethodPut, "application/x-www-form-urlencoded", apptest.Signed(apptest.TokenLi).Encode()), 405, "请求方式错误"},
			{"oversized body", raw(http.MethodPost, "application/x-www-form-urlencoded", "x="+strings.Repeat("a", 70<<10)), 413, "请求过大"},
			{"malformed form", raw(http.MethodPost, "application/x-www-form-urlencoded", "token=%zz"), 400, "参数错误"},
			{"malformed JSON", raw(http.MethodPost, "application/json", `{"token":`), 400, "参数错误"},
			{"JSON array", raw(http.MethodPost, "application/json", `["token"]`), 400, "参数错误"},
			{"JSON number for a string", raw(http.MethodPost, "application/json", `{"staffId":42}`), 400, "参数错误"},
			{"unsupported content type", raw(http.MethodPost, "text/plain", "token=x"), 400, "参数错误"},
			{"unsupported apiVersion", form(apptest.Signed(apptest.TokenLi, "apiVersion", "02")), 400, "参数错误"},
			{"apiVersion checked before the sign", form(url.Values{"apiVersion": {"02"}}), 400, "参数错误"},
			{"missing sign", form(noSign), 403, "签名错误"},
			{"wrong sign", form(wrongSign), 403, "签名错误"},
			{"uppercase sign", form(upperSign), 200, "成功"},
			{"parameter changed after signing", form(tamperedAfterSigning), 403, "签名错误"},
			{"missing client", form(noClient), 403, "签名错误"},
			{"unknown client", form(unknownClient), 403, "签名错误"},
			{"disabled client", form(disabledClient), 403, "签名错误"},
			{"sign checked before the token", form(apptest.Sign(url.Values{"client": {apptest.ClientID}}, "wrong secret")), 403, "签名错误"},
			{"missing token", form(apptest.Sign(url.Values{"client": {apptest.ClientID}}, apptest.ClientSecret)), 401, "token无效或已过期"},
			{"unknown token", form(apptest.Signed("nope")), 401, "token无效或已过期"},
			{"expired token", form(apptest.Signed(apptest.TokenExpired)), 401, "token无效或已过期"},
			{"token of no OP", form(apptest.Signed(apptest.TokenGhost)), 401, "token无效或已过期"},
			{"an OP asks for another OP", form(apptest.Signed(apptest.TokenLi, "staffId", apptest.StaffWang)), 403, "无权查看该OP"},
			{"an OP asks for an id that names no one", form(apptest.Signed(apptest.TokenLi, "staffId", "u0001nobody")), 403, "无权查看该OP"},
			{"an OP asks for themself", form(apptest.Signed(apptest.TokenLi, "staffId", apptest.StaffLi)), 200, "成功"},
			{"an ADMIN asks for another OP", form(apptest.Signed(apptest.TokenAdmin, "staffId", apptest.StaffWang)), 200, "成功"},
			{"an ADMIN asks for no one", form(apptest.Signed(apptest.TokenAdmin, "staffId", "u0001nobody")), 404, "OP不存在"},
			{"an ADMIN sends an injection-shaped staffId", form(apptest.Signed(apptest.TokenAdmin, "staffId", "' OR 1=1 -- ")), 404, "OP不存在"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, body := srv.LegacyDo(t, tt.req())
				if res.Code != tt.wantCode || res.Message != tt.wantMsg {
					t.Fatalf("got %d %q, want %d %q: %s", res.Code, res.Message, tt.wantCode, tt.wantMsg, body)
				}
				if tt.wantCode != 200 && string(res.Data) != "null" {
					t.Fatalf("data = %s on error, want null", res.Data)
				}
				if res.Foot.OperationTime != "2016-01-08 14:41:38" || res.Foot.ServicePhone != "400800400" || res.Foot.Host != "DESKTOP-CG59P88" {
					t.Fatalf("foot = %+v", res.Foot)
				}
			})
		}
	})
}

func TestLegacyEmptyAndOtherOPs(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LegacyExample))
	res, raw := srv.LegacyForm(t, apptest.Signed(apptest.TokenZhao))
	if res.Code != 200 || string(res.Data) != `{"isOnline":true,"chats":[]}` {
		t.Fatalf("an OP with no chats: want chats [], got %s", raw)
	}
	res, raw = srv.LegacyForm(t, apptest.Signed(apptest.TokenAdmin, "staffId", apptest.StaffWang))
	if res.Code != 200 || !bytes.Contains(raw, []byte(`"userId":"u0001dddd00000000000000000000000orphan","userIcon":"`+app.DefaultIcon+`","chatId":"u0001eeee0000000000000000000000000001","nickName":null`)) {
		t.Fatalf("a chat whose user has no profile: %s", raw)
	}
	if bytes.Contains(raw, []byte("Transfer")) {
		t.Fatalf("only chats in service are listed: %s", raw)
	}
}

func TestLegacySignatureSwitchedOff(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LegacyExample, func(c *app.Config) { c.CheckSign = false }))
	res, raw := srv.LegacyForm(t, url.Values{"token": {apptest.TokenLi}})
	if res.Code != 200 {
		t.Fatalf("with signatures off, a token alone must do: %s", raw)
	}
	res, raw = srv.LegacyForm(t, url.Values{"token": {"nope"}})
	if res.Code != 401 {
		t.Fatalf("with signatures off, the token is still checked: %s", raw)
	}
}

// TestLegacyInternalErrorHidden breaks the database under the server: the
// client gets 系统错误 and nothing of the cause.
func TestLegacyInternalErrorHidden(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, db, apptest.LegacyExample))
	if _, err := srv.Store.DB().Exec("ALTER TABLE app_user RENAME TO app_user_gone"); err != nil {
		t.Fatal(err)
	}
	res, raw := srv.LegacyForm(t, apptest.Signed(apptest.TokenLi))
	if res.Code != 500 || res.Message != "系统错误" {
		t.Fatalf("want 500 系统错误, got %s", raw)
	}
	for _, leak := range []string{"app_user", "SQL", "sql", "SELECT", "no such table"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Fatalf("the response shows internals (%q): %s", leak, raw)
		}
	}
	if !strings.Contains(srv.Logs.String(), "no such table") {
		t.Fatalf("the cause must reach the log; log:\n%s", srv.Logs.String())
	}
}

// TestLegacyMatchesGraphQL checks, for every OP of the fixtures and of the
// generated demo data, that the legacy data is the GraphQL answer mapped
// field by field: the whole data member, every chat and every field, nulls
// and numbers as they are. Each OP is asked for by an ADMIN, and by
// themself when they have a token.
func TestLegacyMatchesGraphQL(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		db := e.NewDB(t, apptest.FixtureScripts()...)
		gen := apptest.GenerateDemo(t, db)
		srv := apptest.NewServer(t, apptest.Config(t, db, apptest.LegacyExample))

		type ask struct{ token, staffID string } // staffID "": the caller's own chats
		asks := []ask{{apptest.TokenLi, ""}, {apptest.TokenWang, ""}, {apptest.TokenZhao, ""}, {apptest.TokenAdmin, ""}}
		for _, s := range gen.Staff {
			asks = append(asks, ask{s.Token, ""})
		}
		var everyone []string
		if err := srv.Store.DB().Select(&everyone, `SELECT staff_id FROM op_staff ORDER BY staff_id`); err != nil {
			t.Fatal(err)
		}
		if len(everyone) != 4+len(gen.Staff) {
			t.Fatalf("%d OPs in op_staff, want the fixtures' 4 and %d generated", len(everyone), len(gen.Staff))
		}
		for _, id := range everyone {
			asks = append(asks, ask{apptest.TokenAdmin, id})
		}

		const q = `query($id: ID!) { staff(id: $id) { isOnline chats(status: [SERVICE]) { id groupId title storedStatus address message createTime
			user { id nickName icon grade { chatCount orderCount serviceCount } } } } }`
		chats, nulls := 0, 0
		for _, a := range asks {
			id := a.staffID
			var params url.Values
			if id == "" {
				me, _ := srv.GraphQL(t, a.token, `{ me { id } }`, nil)
				var who struct{ Me struct{ ID string } }
				if err := apptest.StrictJSON(me.Data, &who); err != nil || who.Me.ID == "" {
					t.Fatalf("who is %s: %v: %s %v", a.token, err, me.Data, me.Errors)
				}
				id = who.Me.ID
				params = apptest.Signed(a.token)
			} else {
				params = apptest.Signed(a.token, "staffId", id)
			}
			gres, graw := srv.GraphQL(t, a.token, q, map[string]any{"id": id})
			if len(gres.Errors) > 0 {
				t.Fatalf("graphql for %s: %s", id, graw)
			}
			want, n := legacyDataOf(t, gres.Data)
			lres, lraw := srv.LegacyForm(t, params)
			if lres.Code != 200 || lres.Message != "成功" {
				t.Fatalf("legacy for %s: %s", id, lraw)
			}
			got := decodeNumbers(t, lres.Data)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s asked by %s: legacy data is not the GraphQL answer (-graphql mapped +legacy):\n%s", id, a.token, d)
			}
			chats += n
			nulls += strings.Count(string(lres.Data), `"nickName":null`)
		}
		// The comparison saw enough to mean something: the demo data's
		// chats in service, some of users with no nickname.
		if chats < 30 || nulls == 0 {
			t.Fatalf("compared %d chats, %d with a null nickName; the data is too thin to show anything", chats, nulls)
		}
		t.Logf("%d requests, %d chats compared", len(asks), chats)
	})
}

// legacyDataOf maps the data of the GraphQL query of
// TestLegacyMatchesGraphQL to the legacy v2 data member it must become,
// field by field, as a JSON value; every field must be there. It returns
// the number of chats too.
func legacyDataOf(t *testing.T, data json.RawMessage) (any, int) {
	t.Helper()
	d := decodeNumbers(t, data).(map[string]any)
	staff := member[map[string]any](t, d, "staff")
	var chats []any
	for _, c := range member[[]any](t, staff, "chats") {
		chat := c.(map[string]any)
		user := member[map[string]any](t, chat, "user")
		grade := member[map[string]any](t, user, "grade")
		created, err := time.Parse(time.RFC3339, member[string](t, chat, "createTime"))
		if err != nil {
			t.Fatalf("createTime: %v", err)
		}
		var nick any // null stays null
		if v, ok := user["nickName"]; !ok {
			t.Fatalf("no nickName in %v", user)
		} else if v != nil {
			nick = v.(string)
		}
		chats = append(chats, map[string]any{
			"userId":                member[string](t, user, "id"),
			"userIcon":              member[string](t, user, "icon"),
			"chatId":                member[string](t, chat, "id"),
			"nickName":              nick,
			"message":               member[string](t, chat, "message"),
			"groupId":               member[string](t, chat, "groupId"),
			"title":                 member[string](t, chat, "title"),
			"status":                member[string](t, chat, "storedStatus"),
			"address":               member[string](t, chat, "address"),
			"createTime":            created.Format(time.DateTime), // the wall clock in its own offset
			"userGradeChatCount":    member[json.Number](t, grade, "chatCount"),
			"userGradeOrderCount":   member[json.Number](t, grade, "orderCount"),
			"userGradeServiceCount": member[json.Number](t, grade, "serviceCount"),
		})
	}
	if chats == nil {
		chats = []any{} // [] when none, never null
	}
	return map[string]any{"isOnline": member[bool](t, staff, "isOnline"), "chats": chats}, len(chats)
}

// member returns m[name], which must be there and be a T.
func member[T any](t *testing.T, m map[string]any, name string) T {
	t.Helper()
	v, ok := m[name].(T)
	if !ok {
		t.Fatalf("member %q is %#v, want a %T, in %v", name, m[name], v, m)
	}
	return v
}

// decodeNumbers decodes a JSON value keeping numbers as written.
func decodeNumbers(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value: %s", raw)
	}
	return v
}

// TestLegacyStatementsConstant: the legacy path's SQL does not grow with
// the chats either: client, token, chats with users, grades.
func TestLegacyStatementsConstant(t *testing.T) {
	for _, n := range []int{1, 20, 500} {
		db := apptest.NewSQLiteDB(t, legacydb.ExampleFixture, apptest.OPWithChats(n))
		srv := apptest.NewServer(t, apptest.Config(t, db, apptest.LegacyExample))
		before := srv.Store.Statements()
		res, raw := srv.LegacyForm(t, apptest.Signed("tok-many"))
		got := srv.Store.Statements() - before
		if res.Code != 200 || bytes.Count(raw, []byte(`"chatId"`)) != n {
			t.Fatalf("%d chats: %.300s", n, raw)
		}
		if got != 4 {
			t.Fatalf("%d chats: %d statements, want 4", n, got)
		}
	}
}
