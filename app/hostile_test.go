package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/store"
)

// hostileValues are ids, tokens and parameters shaped to break SQL, JSON,
// headers or text handling.
var hostileValues = []string{
	`' OR '1'='1`,
	`' OR 1=1 -- `,
	`'; DROP TABLE op_staff; --`,
	`"; DELETE FROM op_token; --`,
	`1) UNION SELECT client_secret, client_id, enabled FROM api_client --`,
	`%' OR staff_id LIKE '%`,
	`\'; SELECT 1; --`,
	"nul\x00byte",
	"\x00",
	"\xff\xfe invalid UTF-8 \xc3\x28",
	"😀 ' 小李 \u202e",
	strings.Repeat("A'", 5000),
	"o0001403351be22c648efa24c20e842fd7351' --", // a real token, with a tail
	"o0001403351be22c648efa24c20e842fd7351;",
	// A real token and client id but for case or a trailing space, which
	// MySQL's usual collations ignore: credentials match byte for byte.
	"O0001403351BE22C648EFA24C20E842FD7351",
	"o0001403351be22c648efa24c20e842fd7351 ",
	"B2736195B38346639463EE889D6B8FF4",
	"b2736195b38346639463ee889d6b8ff4 ",
	"",
}

// tableFingerprint is every table of the database and every row it
// holds, in a fixed order, on either engine.
func tableFingerprint(t testing.TB, s *store.Store) string {
	t.Helper()
	list := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if s.Engine() == "mysql" {
		list = `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`
	}
	var tables []string
	if err := s.DB().Select(&tables, list); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 7 {
		t.Fatalf("tables %q: want the legacy schema's seven", tables)
	}
	var b strings.Builder
	for _, tb := range tables {
		rows, err := s.DB().Queryx(`SELECT * FROM ` + tb + ` ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			row, err := rows.SliceScan()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range row {
				if raw, ok := v.([]byte); ok {
					row[i] = string(raw)
				}
			}
			fmt.Fprintf(&b, "%s%q\n", tb, row)
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		fmt.Fprintf(&b, "%s: %d rows\n", tb, n)
	}
	return b.String()
}

// TestHostileInputs sends injection-shaped values through every input of
// both front doors: each gets the contract's answer for a value that
// names nothing, and the tables are as they were.
func TestHostileInputs(t *testing.T) {
	apptest.EachEngine(t, testHostileInputs)
}

func testHostileInputs(t *testing.T, e apptest.Engine) {
	// Hundreds of requests of a few tokens: the limiters stay in the way
	// of the hostile keys, at a rate this test does not reach.
	srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...), apptest.LegacyExample,
		func(c *app.Config) { c.RateLimit.PerSecond, c.RateLimit.ClientPerSecond = 1e6, 1e6 }))
	before := tableFingerprint(t, srv.Store)

	gqlVar := func(token, query string, vars map[string]any) apptest.GraphQLResponse {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		status, raw := srv.RawDo(t, "POST", "/query", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, bytes.NewReader(b))
		var res apptest.GraphQLResponse
		if status != 200 || json.Unmarshal(raw, &res) != nil {
			t.Fatalf("HTTP %d: %.300s", status, raw)
		}
		return res
	}
	code := func(res apptest.GraphQLResponse) string {
		if len(res.Errors) == 0 {
			return ""
		}
		c, _ := res.Errors[0].Extensions["code"].(string)
		return c
	}
	for _, v := range hostileValues {
		name := fmt.Sprintf("%.30q", v)
		// staff(id:) as an ADMIN: nobody has that id.
		res := gqlVar(apptest.TokenAdmin, `query($id: ID!) { staff(id: $id) { id } }`, map[string]any{"id": v})
		if code(res) != "" || string(res.Data) != `{"staff":null}` {
			t.Errorf("GraphQL staff(id: %s) as ADMIN: %s %v", name, res.Data, res.Errors)
		}
		// staff(id:) as an OP: someone else, FORBIDDEN.
		res = gqlVar(apptest.TokenLi, `query($id: ID!) { staff(id: $id) { id } }`, map[string]any{"id": v})
		if code(res) != "FORBIDDEN" {
			t.Errorf("GraphQL staff(id: %s) as OP: %v", name, res.Errors)
		}
		// The bearer token, where a header can carry it.
		if validHeader(v) {
			res = gqlVar(v, `{ me { id } }`, nil)
			if code(res) != "UNAUTHENTICATED" {
				t.Errorf("GraphQL bearer %s: %v", name, res.Errors)
			}
		}
		// Legacy: token, client, staffId, sign and apiVersion.
		legacyCases := []struct {
			params   url.Values
			wantCode int
		}{
			{apptest.Signed(v), 401},
			{apptest.Signed(apptest.TokenAdmin, "staffId", v), 404},
			{apptest.Signed(apptest.TokenLi, "staffId", v), 403},
			{apptest.Sign(url.Values{"client": {v}, "token": {apptest.TokenLi}}, apptest.ClientSecret), 403},
			{url.Values{"client": {apptest.ClientID}, "token": {apptest.TokenLi}, "sign": {v}}, 403},
			{apptest.Signed(apptest.TokenLi, "apiVersion", v), 400},
		}
		for i, c := range legacyCases {
			if v == "" && i != 3 && i != 4 { // empty: the defaults apply
				continue
			}
			for _, asJSON := range []bool{false, true} {
				var req *http.Request
				if asJSON {
					flat := map[string]string{}
					for k := range c.params {
						flat[k] = c.params.Get(k)
					}
					b, _ := json.Marshal(flat)
					req, _ = http.NewRequest("POST", srv.URL+"/op/v2/receives", bytes.NewReader(b))
					req.Header.Set("Content-Type", "application/json")
				} else {
					req, _ = http.NewRequest("POST", srv.URL+"/op/v2/receives", strings.NewReader(c.params.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				lres, raw := srv.LegacyDo(t, req)
				want := c.wantCode
				if asJSON && !validUTF8(v) && (i == 0 || i == 1 || i == 2 || i == 3) {
					// JSON carries the value with U+FFFD for the invalid
					// bytes, so the signature over the raw value fails.
					want = 403
				}
				if lres.Code != want {
					t.Errorf("legacy case %d (json %v) with %s: got %d, want %d: %.200s", i, asJSON, name, lres.Code, want, raw)
				}
			}
		}
	}

	// A NUL byte or a line break in a header never reaches a handler.
	for _, tok := range []string{"a\x00b", "a\r\nX-Injected: 1"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		body := `{"query":"{ me { id } }"}`
		fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", tok, len(body), body)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		conn.Close()
		if res.StatusCode == 200 && bytes.Contains(raw, []byte(`"data":{`)) {
			t.Errorf("bearer %q: HTTP %d %s", tok, res.StatusCode, raw)
		}
	}

	if after := tableFingerprint(t, srv.Store); after != before {
		t.Fatalf("the tables changed:\nbefore %s\nafter  %s", before, after)
	}
	// The server still serves.
	res := gqlVar(apptest.TokenLi, `{ me { id } }`, nil)
	if code(res) != "" {
		t.Fatalf("after the hostile inputs: %v", res.Errors)
	}
}

func validHeader(v string) bool {
	if v == "" || len(v) > 8<<10 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(v) == v
}

func validUTF8(v string) bool { return strings.ToValidUTF8(v, "\uFFFD") == v }

// TestSecretsStayOut sends a mix of good, bad and failing requests and
// then looks for the tokens and the client secret in everything the
// server said: its answers and its log.
func TestSecretsStayOut(t *testing.T) {
	apptest.EachEngine(t, testSecretsStayOut)
}

func testSecretsStayOut(t *testing.T, e apptest.Engine) {
	db := e.NewDB(t, apptest.FixtureScripts()...)
	srv := apptest.NewServer(t, apptest.Config(t, db, apptest.LegacyExample))
	secrets := []string{apptest.TokenLi, apptest.TokenWang, apptest.TokenAdmin, apptest.TokenExpired, apptest.TokenGhost, apptest.ClientSecret, "unknown-token-a1b2c3d4e5"}
	var said bytes.Buffer
	record := func(status int, h http.Header, raw []byte) {
		fmt.Fprintf(&said, "%d %v %s\n", status, h, raw)
	}
	gql := func(auth, body string) {
		req, _ := http.NewRequest("POST", srv.URL+"/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		record(res.StatusCode, res.Header, raw)
	}
	legacyPost := func(params url.Values) {
		req, _ := http.NewRequest("POST", srv.URL+"/op/v2/receives?"+params.Encode(), strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, raw := srv.LegacyDo(t, req)
		record(res.Code, nil, raw)
	}
	round := func() {
		for _, tok := range secrets {
			gql("Bearer "+tok, `{"query":"{ me { id name chats { id user { nickName } } } }"}`)
			gql("Bearer "+tok, `{"query":"{ me { nope } }"}`)
			gql("Bearer "+tok, `{"query":"{ me { id } ", "variables": {"t": "`+tok+`"}`) // malformed JSON
			gql("Bearer "+tok, `{"query":"query($id: ID!) { staff(id: $id) { id } }","variables":{"id":"`+tok+`"}}`)
			legacyPost(apptest.Signed(tok))
			legacyPost(apptest.Signed(tok, "staffId", apptest.StaffWang))
			bad := apptest.Signed(tok)
			bad.Set("sign", apptest.ClientSecret)
			legacyPost(bad)
		}
	}
	round()
	// The same with the database failing: errors that are logged.
	if _, err := srv.Store.DB().Exec("ALTER TABLE app_user RENAME TO app_user_gone"); err != nil {
		t.Fatal(err)
	}
	round()
	if _, err := srv.Store.DB().Exec("ALTER TABLE op_token RENAME TO op_token_gone"); err != nil {
		t.Fatal(err)
	}
	round()
	logs := srv.Logs.String()
	missing := "no such table" // the database's word for the renamed tables
	if e.Name == "mysql" {
		missing = "doesn't exist"
	}
	if !strings.Contains(logs, missing) {
		t.Fatalf("the failures did not reach the log:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log shows %s:\n%s", s, logs)
		}
		if i := strings.Index(said.String(), s); i >= 0 {
			t.Errorf("an answer shows %s: …%s…", s, said.String()[max(0, i-200):min(said.Len(), i+100)])
		}
	}
	t.Logf("%d bytes of answers and %d bytes of log searched", said.Len(), len(logs))
}
