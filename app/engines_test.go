package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/legacydb"
)

// The tests of this file hold the facade to answering the same on MySQL as
// on SQLite, and on two replicas.

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
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, tieScript)))
		res, raw := srv.GraphQL(t, "tok-tie", `{ me { chats { id } } }`, nil)
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %s", raw)
		}
		// Newest first; ties by the bytes of the id: B (0x42) < _ (0x5f) < a < f < é (0xc3 0xa9).
		apptest.AssertJSON(t, `{"me":{"chats":[{"id":"tie-newer"},{"id":"tie-B"},{"id":"tie-_"},{"id":"tie-a"},{"id":"tie-f"},{"id":"tie-é"}]}}`, res.Data)
	})
}

func TestCredentialsMatchExactly(t *testing.T) {
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		srv := apptest.NewServer(t, apptest.Config(t, e.NewDB(t, apptest.FixtureScripts()...)))
		for _, tok := range []string{
			strings.ToUpper(apptest.TokenLi),
			strings.Replace(apptest.TokenLi, "be22c", "bE22c", 1), // one letter's case
		} {
			res, raw := srv.GraphQL(t, tok, `{ me { id } }`, nil)
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || string(res.Data) != "null" && len(res.Data) != 0 {
				t.Errorf("token %s: want UNAUTHENTICATED and no data, got %s", tok, raw)
			}
		}
		// HTTP trims header values, so trailing spaces are tried on the store:
		// MySQL's PAD SPACE collations would match them.
		ctx := context.Background()
		if _, err := srv.Store.StaffByToken(ctx, apptest.TokenLi+" "); domain.Code(err) != domain.EUNAUTHENTICATED {
			t.Errorf("token with a trailing space: want EUNAUTHENTICATED, got %v", err)
		}
		if _, err := srv.Store.StaffByToken(ctx, apptest.TokenLi); err != nil {
			t.Errorf("the exact token: %v", err)
		}
		for _, id := range []string{strings.ToUpper(apptest.ClientID), apptest.ClientID + " "} {
			if _, err := srv.Store.ClientByID(ctx, id); domain.Code(err) != domain.ENOTFOUND {
				t.Errorf("client %q: want ENOTFOUND, got %v", id, err)
			}
		}
		if c, err := srv.Store.ClientByID(ctx, apptest.ClientID); err != nil || c.Secret != apptest.ClientSecret {
			t.Errorf("the exact client id: %+v, %v", c, err)
		}
	})
}

// TestMySQLTimesWhateverTheDSNSays reads the stored wall clock in the
// platform's zone whatever the DSN's author wrote about times.
func TestMySQLTimesWhateverTheDSNSays(t *testing.T) {
	apptest.NeedMySQL(t)
	db := apptest.NewMySQLDB(t, apptest.FixtureScripts()...)
	for _, params := range []string{
		"loc=Local&parseTime=false",
		"loc=America%2FNew_York&parseTime=false",
		"parseTime=true&loc=Asia%2FTokyo&time_zone=%27-07%3A00%27",
	} {
		t.Run(params, func(t *testing.T) {
			srv := apptest.NewServer(t, apptest.Config(t, withParams(db, params)))
			res, raw := srv.GraphQL(t, apptest.TokenLi, `{ me { chats { id createTime } } }`, nil)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %s", raw)
			}
			apptest.AssertJSON(t, `{"me":{"chats":[
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
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		db := e.NewDB(t, script)
		if e.Name == "mysql" {
			db = withParams(db, "charset=latin1")
		}
		srv := apptest.NewServer(t, apptest.Config(t, db))
		res, raw := srv.GraphQL(t, "tok-emoji", `{ me { name chats { title message user { nickName } } } }`, nil)
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %s", raw)
		}
		apptest.AssertJSON(t, `{"me":{"name":"表情😀","chats":[{"title":"🔧 维修","message":"好的👌","user":{"nickName":"`+nick+`"}}]}}`, res.Data)
	})
}

// TestMySQLReplicasAgree serves one database from two servers, as replicas
// do in production: every answer, GraphQL and legacy v2, is the same, byte
// for byte.
func TestMySQLReplicasAgree(t *testing.T) {
	apptest.NeedMySQL(t)
	db := apptest.NewMySQLDB(t, apptest.FixtureScripts()...)
	gen := apptest.GenerateDemo(t, db)
	// The legacy foot carries the clock and the host: both stopped alike.
	a := apptest.NewServer(t, apptest.Config(t, db, apptest.LegacyExample))
	b := apptest.NewServer(t, apptest.Config(t, db, apptest.LegacyExample))
	compareAnswers(t, "replica a", a, "replica b", b, agreementQueries(gen), legacyAgreement(gen))
}

// TestEnginesAgree loads the same rows into SQLite and MySQL: every answer,
// GraphQL and legacy v2, is the same, byte for byte.
func TestEnginesAgree(t *testing.T) {
	apptest.NeedMySQL(t)
	lite := apptest.NewSQLiteDB(t, append(apptest.FixtureScripts(), tieScript)...)
	my := apptest.NewMySQLDB(t, append(apptest.FixtureScripts(), tieScript)...)
	gen := apptest.GenerateDemo(t, lite)
	if g := apptest.GenerateDemo(t, my); g.Staff[len(g.Staff)-1].Token != gen.Staff[len(gen.Staff)-1].Token {
		t.Fatal("the generator made different rows")
	}
	a := apptest.NewServer(t, apptest.Config(t, lite, apptest.LegacyExample))
	b := apptest.NewServer(t, apptest.Config(t, my, apptest.LegacyExample))
	compareAnswers(t, "sqlite", a, "mysql", b,
		append(agreementQueries(gen), agreementQuery{"ties", "tok-tie", apptest.MeChatsQuery}),
		append(legacyAgreement(gen), apptest.Signed("tok-tie")))
}

// compareAnswers asks a and b the same GraphQL queries and legacy requests
// and reports every answer that differs by a byte.
func compareAnswers(t *testing.T, aName string, a *apptest.Server, bName string, b *apptest.Server, queries []agreementQuery, legacyReqs []url.Values) {
	t.Helper()
	succeeded := 0 // so that agreeing on errors alone does not pass
	for _, q := range queries {
		res, ra := a.GraphQL(t, q.token, q.query, nil)
		_, rb := b.GraphQL(t, q.token, q.query, nil)
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
		res, ra := a.LegacyForm(t, params)
		_, rb := b.LegacyForm(t, params)
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

type agreementQuery struct{ name, token, query string }

// agreementQueries are the main query as each fixture and generated OP, an
// ADMIN's look at every OP's chats of every status, and some errors.
func agreementQueries(gen legacydb.Generated) []agreementQuery {
	qs := []agreementQuery{
		{"小李", apptest.TokenLi, apptest.MeChatsQuery},
		{"小王 every status", apptest.TokenWang, strings.Replace(apptest.MeChatsQuery, "chats {", "chats(status: [WAIT, SERVICE, CLOSED, UNKNOWN]) {", 1)},
		{"expired", apptest.TokenExpired, apptest.MeChatsQuery},
		{"forbidden", apptest.TokenLi, `{ staff(id: "` + apptest.StaffWang + `") { id } }`},
	}
	for _, s := range gen.Staff {
		qs = append(qs, agreementQuery{s.Name + " " + s.StaffID, s.Token, apptest.MeChatsQuery})
		qs = append(qs, agreementQuery{"admin on " + s.StaffID, apptest.TokenAdmin,
			`{ staff(id: "` + s.StaffID + `") { id name role isOnline chats(status: [WAIT, SERVICE, CLOSED, UNKNOWN]) { id status storedStatus createTime user { id nickName icon grade { chatCount orderCount serviceCount } } } } }`})
	}
	return qs
}

// legacyAgreement are legacy v2 requests: each fixture and generated OP's
// own chats, an ADMIN's look at each OP, and some refusals.
func legacyAgreement(gen legacydb.Generated) []url.Values {
	reqs := []url.Values{
		apptest.Signed(apptest.TokenLi),
		apptest.Signed(apptest.TokenWang),
		apptest.Signed(apptest.TokenExpired),
		apptest.Signed(strings.ToUpper(apptest.TokenLi)),
		apptest.Signed(apptest.TokenLi, "staffId", apptest.StaffWang),
	}
	for _, s := range gen.Staff {
		reqs = append(reqs, apptest.Signed(s.Token), apptest.Signed(apptest.TokenAdmin, "staffId", s.StaffID))
	}
	return reqs
}
