package api_test

import (
	"net/http"
	"strings"
	"testing"

	"opfacade/app/apptest"
)

// TestUnsupportedTransport checks that a request no GraphQL transport
// serves is answered as JSON with a code, as every other error: a method
// other than GET and POST is 405 (checked first, so even one a CSRF check
// would refuse), a POST body that is not JSON 415, unless it is one a
// browser may send cross-site, which stays CSRF_PREVENTED.
func TestUnsupportedTransport(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)))
	const body = `{"query":"{ me { id } }"}`
	tests := []struct {
		name, method, contentType, body string
		header                          map[string]string
		status                          int
		code                            string // "" when the query must run
	}{
		{"application/graphql", "POST", "application/graphql", `{ me { id } }`, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"application/jsonx", "POST", "application/jsonx", body, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"a Content-Type that does not parse", "POST", "application/json;;", body, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"text/plain with a preflight header", "POST", "text/plain", body, map[string]string{"Apollo-Require-Preflight": "true"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"text/plain", "POST", "text/plain", body, nil, 400, "CSRF_PREVENTED"},
		{"PUT", "PUT", "application/json", body, nil, 405, "METHOD_NOT_ALLOWED"},
		{"PUT without Content-Type", "PUT", "", body, nil, 405, "METHOD_NOT_ALLOWED"},
		{"DELETE", "DELETE", "", "", nil, 405, "METHOD_NOT_ALLOWED"},
		{"PATCH", "PATCH", "application/json", body, nil, 405, "METHOD_NOT_ALLOWED"},
		{"OPTIONS", "OPTIONS", "", "", nil, 405, "METHOD_NOT_ALLOWED"},
		// gqlgen's HTTP transports refuse a request that asks to upgrade
		// the protocol; the server ignores the header instead.
		{"POST with Upgrade: h2c", "POST", "application/json", body, map[string]string{"Upgrade": "h2c", "Connection": "Upgrade"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+"/query", strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, raw := srv.Do(t, req)
			if tt.code == "" {
				if res.StatusCode != 200 || !strings.Contains(string(raw), apptest.StaffLi) {
					t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
				}
				return
			}
			apptest.WantGraphQLError(t, res, raw, tt.status, tt.code)
			if allow := res.Header.Get("Allow"); tt.status == 405 && allow != "GET, POST" {
				t.Errorf("Allow %q, want GET, POST", allow)
			}
		})
	}
}
