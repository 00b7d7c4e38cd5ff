package main

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"opfacade/domain"
	"opfacade/legacydb"
	"opfacade/store"
)

// The tests of this file hold the facade to answering the same on MySQL as
// on SQLite, and on two replicas.

// needMySQL skips t when MYSQL_TEST_DSN is not set.
func needMySQL(t testing.TB) {
	t.Helper()
	if os.Getenv("MYSQL_TEST_DSN") == "" {
		t.Skip("MYSQL_TEST_DSN is not set: skipping this MariaDB/MySQL test (set it to e.g. root@tcp(127.0.0.1:3306)/test)")
	}
}

// withParams appends DSN parameters ("a=b&c=d") to a mysql:// DSN.
func withParams(dsn, params string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + params
	}
	return dsn + "?" + params
}

// tieScript is an OP (token tok-tie) with five chats created in the same
// second, whose ids sort differently by bytes than by utf8mb4_general_ci
// (which folds case and accents: a < B < é < f < _). Ids that differ only
// in case cannot both exist under a _ci primary key, so case shows in
// tie-B against tie-a.
const tieScript = `INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES ('s-tie', '平平', 1, 'OP', '2016-01-01 00:00:00');
INSERT INTO op_token (token, staff_id, expire_time) VALUES ('tok-tie', 's-tie', '2099-01-01 00:00:00');
INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES
  ('tie-a', 'u-1', 's-tie', 'g', '', 'Service', '', '', '2016-01-01 10:00:00'),
  ('tie-f', 'u-1', 's-tie', 'g', '', 'Service', '', '', '2016-01-01 10:00:00'),
  ('tie-_', 'u-1', 's-tie', 'g', '', 'Service', '', '', '2016-01-01 10:00:00'),
  ('tie-é', 'u-1', 's-tie', 'g', '', 'Service', '', '', '2016-01-01 10:00:00'),
  ('tie-B', 'u-1', 's-tie', 'g', '', 'Service', '', '', '2016-01-01 10:00:00'),
  ('tie-newer', 'u-1', 's-tie', 'g', '', 'Service', '', '', '2016-01-01 10:00:01');`

func TestGraphQLChatTiesInByteOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		srv := newServer(t, testConfig(t, e.newDB(t, tieScript)), store.Options{})
		res, raw := srv.graphql(t, "tok-tie", `{ me { chats { id } } }`, nil)
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %s", raw)
		}
		// Newest first; ties by the bytes of the id: B (0x42) < _ (0x5f) < a < f < é (0xc3 0xa9).
		assertJSON(t, `{"me":{"chats":[{"id":"tie-newer"},{"id":"tie-B"},{"id":"tie-_"},{"id":"tie-a"},{"id":"tie-f"},{"id":"tie-é"}]}}`, res.Data)
	})
}

func TestCredentialsMatchExactly(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		srv := newServer(t, testConfig(t, e.newDB(t, fixtureScripts(t)...)), store.Options{})
		for _, tok := range []string{
			strings.ToUpper(tokenLi),
			strings.Replace(tokenLi, "be22c", "bE22c", 1), // one letter's case
		} {
			res, raw := srv.graphql(t, tok, `{ me { id } }`, nil)
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || string(res.Data) != "null" && len(res.Data) != 0 {
				t.Errorf("token %s: want UNAUTHENTICATED and no data, got %s", tok, raw)
			}
		}
		// HTTP trims header values, so trailing spaces are tried on the store:
		// MySQL's PAD SPACE collations would match them.
		ctx := context.Background()
		if _, err := srv.store.StaffByToken(ctx, tokenLi+" "); domain.Code(err) != domain.EUNAUTHENTICATED {
			t.Errorf("token with a trailing space: want EUNAUTHENTICATED, got %v", err)
		}
		if _, err := srv.store.StaffByToken(ctx, tokenLi); err != nil {
			t.Errorf("the exact token: %v", err)
		}
		for _, id := range []string{strings.ToUpper(clientID), clientID + " "} {
			if _, err := srv.store.ClientByID(ctx, id); domain.Code(err) != domain.ENOTFOUND {
				t.Errorf("client %q: want ENOTFOUND, got %v", id, err)
			}
		}
		if c, err := srv.store.ClientByID(ctx, clientID); err != nil || c.Secret != clientSecret {
			t.Errorf("the exact client id: %+v, %v", c, err)
		}
	})
}

// TestMySQLTimesWhateverTheDSNSays reads the stored wall clock in the
// platform's zone whatever the DSN's author wrote about times.
func TestMySQLTimesWhateverTheDSNSays(t *testing.T) {
	needMySQL(t)
	db := newMySQLDB(t, fixtureScripts(t)...)
	for _, params := range []string{
		"loc=Local&parseTime=false",
		"loc=America%2FNew_York&parseTime=false",
		"parseTime=true&loc=Asia%2FTokyo&time_zone=%27-07%3A00%27",
	} {
		t.Run(params, func(t *testing.T) {
			srv := newServer(t, testConfig(t, withParams(db, params)), store.Options{})
			res, raw := srv.graphql(t, tokenLi, `{ me { chats { id createTime } } }`, nil)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %s", raw)
			}
			assertJSON(t, `{"me":{"chats":[
			  {"id":"u0001d68d5da979194a4b831097de49db3dd2","createTime":"2016-01-06T10:59:12+08:00"},
			  {"id":"u00010b2345fc76de44d5813389f2345647e8","createTime":"2015-12-02T18:12:57+08:00"},
			  {"id":"u00014cd5a734bb77459bbac5362728848107","createTime":"2015-12-02T11:15:33+08:00"},
			  {"id":"u00011e67202dd8fa4b0eb03d99d9b2513070","createTime":"2015-12-02T10:54:57+08:00"}]}}`, res.Data)
		})
	}
}

// TestGraphQLEmojiNickname round-trips text outside the Basic Multilingual
// Plane, which MySQL stores only in utf8mb4; on MySQL the server's DSN asks
// for latin1, which the store overrides.
func TestGraphQLEmojiNickname(t *testing.T) {
	const nick = "小美🐱‍👤 ✨𝒜"
	script := `INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES ('s-emoji', '表情😀', 1, 'OP', '2016-01-01 00:00:00');
INSERT INTO op_token (token, staff_id, expire_time) VALUES ('tok-emoji', 's-emoji', '2099-01-01 00:00:00');
INSERT INTO app_user (user_id, nick_name, icon_url, create_time) VALUES ('u-emoji', '` + nick + `', NULL, '2015-01-01 00:00:00');
INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES ('c-emoji', 'u-emoji', 's-emoji', 'g', '🔧 维修', 'Service', '', '好的👌', '2016-01-01 10:00:00');`
	eachEngine(t, func(t *testing.T, e engine) {
		db := e.newDB(t, script)
		if e.name == "mysql" {
			db = withParams(db, "charset=latin1")
		}
		srv := newServer(t, testConfig(t, db), store.Options{})
		res, raw := srv.graphql(t, "tok-emoji", `{ me { name chats { title message user { nickName } } } }`, nil)
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %s", raw)
		}
		assertJSON(t, `{"me":{"name":"表情😀","chats":[{"title":"🔧 维修","message":"好的👌","user":{"nickName":"`+nick+`"}}]}}`, res.Data)
	})
}

// TestMySQLReplicasAgree serves one database from two servers, as replicas
// do in production: every answer, GraphQL and legacy v2, is the same, byte
// for byte.
func TestMySQLReplicasAgree(t *testing.T) {
	needMySQL(t)
	db := newMySQLDB(t, fixtureScripts(t)...)
	gen := generateDemo(t, db)
	// The legacy foot carries the clock and the host: both stopped alike.
	a := newServer(t, legacyConfig(t, db), store.Options{})
	b := newServer(t, legacyConfig(t, db), store.Options{})
	compareAnswers(t, "replica a", a, "replica b", b, agreementQueries(gen), legacyAgreement(gen))
}

// TestEnginesAgree loads the same rows into SQLite and MySQL: every answer,
// GraphQL and legacy v2, is the same, byte for byte.
func TestEnginesAgree(t *testing.T) {
	needMySQL(t)
	lite := newSQLiteDB(t, append(fixtureScripts(t), tieScript)...)
	my := newMySQLDB(t, append(fixtureScripts(t), tieScript)...)
	gen := generateDemo(t, lite)
	if g := generateDemo(t, my); g.Staff[len(g.Staff)-1].Token != gen.Staff[len(gen.Staff)-1].Token {
		t.Fatal("the generator made different rows")
	}
	a := newServer(t, legacyConfig(t, lite), store.Options{})
	b := newServer(t, legacyConfig(t, my), store.Options{})
	compareAnswers(t, "sqlite", a, "mysql", b,
		append(agreementQueries(gen), agreementQuery{"ties", "tok-tie", meChatsQuery}),
		append(legacyAgreement(gen), signed("tok-tie")))
}

// compareAnswers asks a and b the same GraphQL queries and legacy requests
// and reports every answer that differs by a byte.
func compareAnswers(t *testing.T, aName string, a *testServer, bName string, b *testServer, queries []agreementQuery, legacyReqs []url.Values) {
	t.Helper()
	succeeded := 0 // so that agreeing on errors alone does not pass
	for _, q := range queries {
		res, ra := a.graphql(t, q.token, q.query, nil)
		_, rb := b.graphql(t, q.token, q.query, nil)
		if string(ra) != string(rb) {
			t.Errorf("GraphQL %s: the answers differ:\n  %s: %s\n  %s: %s", q.name, aName, ra, bName, rb)
		}
		if len(res.Errors) == 0 {
			succeeded++
		}
	}
	if succeeded < len(queries)/2 {
		t.Errorf("only %d of %d GraphQL queries succeeded", succeeded, len(queries))
	}
	succeeded = 0
	for _, params := range legacyReqs {
		res, ra := a.legacyForm(t, params)
		_, rb := b.legacyForm(t, params)
		if string(ra) != string(rb) {
			t.Errorf("legacy v2 %s: the answers differ:\n  %s: %s\n  %s: %s", params.Encode(), aName, ra, bName, rb)
		}
		if res.Code == 200 {
			succeeded++
		}
	}
	if succeeded < len(legacyReqs)/2 {
		t.Errorf("only %d of %d legacy requests succeeded", succeeded, len(legacyReqs))
	}
}

// generateDemo adds legacydb's demo rows to the database at dsn.
func generateDemo(t testing.TB, dsn string) legacydb.Generated {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen, err := legacydb.Generate(context.Background(), st.DB().DB, legacydb.DemoSizes(), 7)
	if err != nil {
		t.Fatal(err)
	}
	return gen
}

type agreementQuery struct{ name, token, query string }

// agreementQueries are the main query as each fixture and generated OP, an
// ADMIN's look at every OP's chats of every status, and some errors.
func agreementQueries(gen legacydb.Generated) []agreementQuery {
	qs := []agreementQuery{
		{"小李", tokenLi, meChatsQuery},
		{"小王 every status", tokenWang, strings.Replace(meChatsQuery, "chats {", "chats(status: [WAIT, SERVICE, CLOSED, UNKNOWN]) {", 1)},
		{"expired", tokenExpired, meChatsQuery},
		{"forbidden", tokenLi, `{ staff(id: "` + staffWang + `") { id } }`},
	}
	for _, s := range gen.Staff {
		qs = append(qs, agreementQuery{s.Name + " " + s.StaffID, s.Token, meChatsQuery})
		qs = append(qs, agreementQuery{"admin on " + s.StaffID, tokenAdmin,
			`{ staff(id: "` + s.StaffID + `") { id name role isOnline chats(status: [WAIT, SERVICE, CLOSED, UNKNOWN]) { id status storedStatus createTime user { id nickName icon grade { chatCount orderCount serviceCount } } } } }`})
	}
	return qs
}

// legacyAgreement are legacy v2 requests: each fixture and generated OP's
// own chats, an ADMIN's look at each OP, and some refusals.
func legacyAgreement(gen legacydb.Generated) []url.Values {
	reqs := []url.Values{
		signed(tokenLi),
		signed(tokenWang),
		signed(tokenExpired),
		signed(strings.ToUpper(tokenLi)),
		signed(tokenLi, "staffId", staffWang),
	}
	for _, s := range gen.Staff {
		reqs = append(reqs, signed(s.Token), signed(tokenAdmin, "staffId", s.StaffID))
	}
	return reqs
}
