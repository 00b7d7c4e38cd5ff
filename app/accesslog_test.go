package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"opfacade/app/apptest"
	"opfacade/documents"
)

// accessLines are the access lines of a JSON log.
func accessLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range apptest.JSONLines(t, log) {
		if l["msg"] == "access" {
			out = append(out, l)
		}
	}
	return out
}

// oneAccessLine is the one access line logged since off, checked for the
// fields every access line has.
func oneAccessLine(t *testing.T, srv *apptest.Server, off int, res *http.Response) map[string]any {
	t.Helper()
	log, _ := srv.Logs.Since(off)
	lines := accessLines(t, log)
	if len(lines) != 1 {
		t.Fatalf("%d access lines, want 1:\n%s", len(lines), log)
	}
	l := lines[0]
	for _, f := range []string{"time", "level", "request_id", "door", "code", "status", "duration_ms", "bytes", "statements"} {
		if _, ok := l[f]; !ok {
			t.Errorf("the access line lacks %s: %v", f, l)
		}
	}
	if d, ok := l["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms = %v", l["duration_ms"])
	}
	if id := res.Header.Get("X-Request-ID"); id == "" || l["request_id"] != id {
		t.Errorf("request_id %v, X-Request-ID %q: want the same", l["request_id"], id)
	}
	if l["status"] != float64(res.StatusCode) {
		t.Errorf("status %v, want %d", l["status"], res.StatusCode)
	}
	return l
}

// wantFields checks fields of an access line (numbers as JSON decodes
// them: float64).
func wantFields(t *testing.T, l map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %#v, want %#v (line %v)", k, l[k], v, l)
		}
	}
}

var randomID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// TestAccessLog: each request at either front door logs one access line,
// through the real server, with its request id (the caller's when sane,
// echoed in X-Request-ID), door, operation, outcome code, status,
// duration, bytes and SQL statements.
func TestAccessLog(t *testing.T) {
	srv := apptest.NewJSONLogServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.NoRateLimit))

	t.Run("graphql: the consoles' query", func(t *testing.T) {
		_, off := srv.Logs.Since(0)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", strings.NewReader(`{"query":`+quote(documents.MyChats)+`}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
		req.Header.Set("X-Request-ID", "console-7f3a:42")
		res, raw := srv.Do(t, req)
		if res.StatusCode != http.StatusOK || strings.Contains(string(raw), `"errors"`) {
			t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
		}
		l := oneAccessLine(t, srv, off, res)
		wantFields(t, l, map[string]any{"level": "INFO", "request_id": "console-7f3a:42", "door": "graphql", "operation": "MyChats",
			"code": "", "status": 200.0, "bytes": float64(len(raw)), "statements": 3.0})
	})

	t.Run("legacy: receives", func(t *testing.T) {
		_, off := srv.Logs.Since(0)
		params := apptest.Signed(apptest.TokenLi)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Request-ID", "not sane: has spaces")
		res, raw := srv.Do(t, req)
		l := oneAccessLine(t, srv, off, res)
		if id := res.Header.Get("X-Request-ID"); !randomID.MatchString(id) {
			t.Errorf("X-Request-ID %q, want 16 random hex digits in place of an insane one", id)
		}
		wantFields(t, l, map[string]any{"level": "INFO", "door": "legacy", "code": 200.0, "status": 200.0, "bytes": float64(len(raw)), "statements": 4.0})
		if _, ok := l["operation"]; ok {
			t.Errorf("a legacy line names an operation: %v", l)
		}
		log, _ := srv.Logs.Since(off)
		noSecrets(t, log, params)
	})

	t.Run("an X-Request-ID over 64 characters is replaced", func(t *testing.T) {
		_, off := srv.Logs.Since(0)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-ID", strings.Repeat("a", 65))
		res, _ := srv.Do(t, req)
		oneAccessLine(t, srv, off, res)
		if id := res.Header.Get("X-Request-ID"); !randomID.MatchString(id) {
			t.Errorf("X-Request-ID %q, want a random one", id)
		}
	})

	// Requests the front doors' guards refuse are logged with their code.
	refused := []struct {
		name      string
		method    string
		path      string
		ctype     string
		body      string
		status    int
		fields    map[string]any
		operation string
	}{
		{"graphql: a method no transport serves", http.MethodPut, "/query", "application/json", `{"query":"{ me { name } }"}`, 405,
			map[string]any{"door": "graphql", "code": "METHOD_NOT_ALLOWED", "statements": 0.0}, ""},
		{"graphql: a body over the limit", http.MethodPost, "/query", "application/json", `{"query":"` + strings.Repeat(" ", 70000) + `"}`, 413,
			map[string]any{"door": "graphql", "code": "PAYLOAD_TOO_LARGE", "statements": 0.0}, ""},
		{"graphql: no token", http.MethodPost, "/query", "application/json", `{"query":"query Who { me { name } }","operationName":"Who"}`, 200,
			map[string]any{"door": "graphql", "code": "UNAUTHENTICATED", "operation": "Who", "statements": 0.0}, "Who"},
		{"graphql: a document that does not parse, its name as sent", http.MethodPost, "/query", "application/json", `{"query":"query Broken { me {","operationName":"Broken"}`, 200,
			map[string]any{"door": "graphql", "code": "GRAPHQL_PARSE_FAILED", "operation": "Broken"}, "Broken"},
		{"legacy: a wrong method", http.MethodGet, "/op/v2/receives", "", "", 200,
			map[string]any{"door": "legacy", "code": 405.0, "statements": 0.0}, ""},
		{"legacy: a body over the limit", http.MethodPost, "/op/v2/receives", "application/x-www-form-urlencoded", "a=" + strings.Repeat("x", 70000), 200,
			map[string]any{"door": "legacy", "code": 413.0, "statements": 0.0}, ""},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, off := srv.Logs.Since(0)
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			res, _ := srv.Do(t, req)
			if res.StatusCode != tt.status {
				t.Errorf("HTTP %d, want %d", res.StatusCode, tt.status)
			}
			l := oneAccessLine(t, srv, off, res)
			wantFields(t, l, tt.fields)
			if tt.fields["door"] == "graphql" && l["operation"] != tt.operation {
				t.Errorf("operation %v, want %q", l["operation"], tt.operation)
			}
		})
	}
}

// TestLegacyRefusalReasons: a signature or token the legacy path refuses
// is answered as the contract says, whatever the reason, and the reason
// is logged (at DEBUG, with the request's id), never a token, a signature
// or a secret.
func TestLegacyRefusalReasons(t *testing.T) {
	srv := apptest.NewJSONLogServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.NoRateLimit))
	without := func(v url.Values, name string) url.Values { v.Del(name); return v }
	tests := []struct {
		name   string
		params url.Values
		code   int
		reason string
	}{
		{"no client", without(apptest.Signed(apptest.TokenLi), "client"), 403, "signature refused: missing parameter client"},
		{"no sign", without(apptest.Signed(apptest.TokenLi), "sign"), 403, "signature refused: missing parameter sign"},
		{"unknown client", apptest.Sign(url.Values{"apiVersion": {"01"}, "client": {"c0ffee"}, "token": {apptest.TokenLi}}, apptest.ClientSecret), 403, "signature refused: unknown client"},
		{"disabled client", apptest.Sign(url.Values{"apiVersion": {"01"}, "client": {apptest.ClientDisabled}, "token": {apptest.TokenLi}}, apptest.ClientSecret), 403, "signature refused: disabled client"},
		{"signature mismatch", apptest.Sign(url.Values{"apiVersion": {"01"}, "client": {apptest.ClientID}, "token": {apptest.TokenLi}}, "not-the-secret"), 403, "signature refused: signature mismatch"},
		{"no token", without(apptest.Signed(""), "token"), 401, "token refused: missing parameter token"},
		{"unknown token", apptest.Signed("o0001unknown0000000000000000000000000"), 401, "token refused: unknown token"},
		{"expired token", apptest.Signed(apptest.TokenExpired), 401, "token refused: expired token"},
	}
	messages := map[int]string{403: "签名错误", 401: "token无效或已过期"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, off := srv.Logs.Since(0)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(tt.params.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, raw := srv.Do(t, req)
			var env apptest.LegacyResponse
			if err := json.Unmarshal(raw, &env); err != nil || env.Code != tt.code || env.Message != messages[tt.code] || string(env.Data) != "null" {
				t.Fatalf("answer %s, want code %d %s", raw, tt.code, messages[tt.code])
			}
			l := oneAccessLine(t, srv, off, res)
			wantFields(t, l, map[string]any{"door": "legacy", "code": float64(tt.code)})
			log, _ := srv.Logs.Since(off)
			var found bool
			for _, line := range apptest.JSONLines(t, log) {
				if line["msg"] == "legacy request refused" {
					found = true
					wantFields(t, line, map[string]any{"level": "DEBUG", "reason": tt.reason, "code": float64(tt.code), "request_id": l["request_id"]})
				}
			}
			if !found {
				t.Errorf("no reason logged:\n%s", log)
			}
			noSecrets(t, log, tt.params)
		})
	}
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// noSecrets fails when log shows a token, a signature or a client secret
// of params, or the example client's secret.
func noSecrets(t *testing.T, log string, params url.Values) {
	t.Helper()
	for _, s := range []string{params.Get("token"), params.Get("sign"), apptest.ClientSecret, apptest.TokenLi} {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the log shows %q:\n%s", s, log)
		}
	}
}
