package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"opfacade/api"
	"opfacade/app"
	"opfacade/app/apptest"
)

const (
	devOrigin     = "http://localhost:3000"
	consoleOrigin = "https://console.example.com"
)

// corsServer serves the fixtures, allowing origins (none: CORS off) and
// whatever else opts configure.
func corsServer(t *testing.T, origins []string, opts ...func(*app.Config)) *apptest.Server {
	t.Helper()
	opts = append([]func(*app.Config){func(c *app.Config) { c.CORSOrigins = origins }}, opts...)
	return apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), opts...))
}

// corsHeaders are the Access-Control-* headers of an answer.
func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}

func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return true
			}
		}
	}
	return false
}

// TestCORS sends preflights and actual requests, from origins the server
// allows and from others, through the real routes: an allowed origin's
// preflight is answered 204 with what it may send, and every answer it
// gets, errors included, carries Access-Control-Allow-Origin; any other
// origin's preflight is refused with 403 CORS_ORIGIN_NOT_ALLOWED and no
// answer to it carries a CORS header. CSRF prevention holds for every
// origin.
func TestCORS(t *testing.T) {
	allowing := corsServer(t, []string{devOrigin, consoleOrigin})
	closed := corsServer(t, nil)
	const body = `{"query":"{ me { id } }"}`
	preflight := func(method, headers string) map[string]string {
		h := map[string]string{"Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}
	jsonPost := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + apptest.TokenLi}

	tests := []struct {
		name   string
		srv    *apptest.Server
		method string
		origin string // "" sends none
		header map[string]string
		body   string
		status int
		code   string // the error's code; "" for a preflight's 204 or an answer with the caller's data
		allow  bool   // the answer carries Access-Control-Allow-Origin: origin
	}{
		// Preflights.
		{"preflight of a JSON POST", allowing, "OPTIONS", devOrigin, preflight("POST", "authorization,content-type"), "", 204, "", true},
		{"preflight of the other allowed origin", allowing, "OPTIONS", consoleOrigin, preflight("POST", "authorization,content-type"), "", 204, "", true},
		{"preflight of an Apollo Client POST", allowing, "OPTIONS", devOrigin, preflight("POST", "apollographql-client-name,apollographql-client-version,authorization,content-type"), "", 204, "", true},
		{"preflight of a GET with a CSRF preflight header", allowing, "OPTIONS", devOrigin, preflight("GET", "apollo-require-preflight,authorization"), "", 204, "", true},
		{"preflight from another port", allowing, "OPTIONS", "http://localhost:3001", preflight("POST", "content-type"), "", 403, api.CodeCORSOriginNotAllowed, false},
		{"preflight from another scheme", allowing, "OPTIONS", "https://localhost:3000", preflight("POST", "content-type"), "", 403, api.CodeCORSOriginNotAllowed, false},
		{"preflight from another site", allowing, "OPTIONS", "https://evil.example", preflight("POST", "content-type"), "", 403, api.CodeCORSOriginNotAllowed, false},
		{"preflight from a sandboxed page", allowing, "OPTIONS", "null", preflight("POST", "content-type"), "", 403, api.CodeCORSOriginNotAllowed, false},
		{"preflight when no origin is allowed", closed, "OPTIONS", devOrigin, preflight("POST", "content-type"), "", 403, api.CodeCORSOriginNotAllowed, false},
		{"OPTIONS that is no preflight", allowing, "OPTIONS", devOrigin, nil, "", 405, api.CodeMethodNotAllowed, true},
		{"OPTIONS without Origin", allowing, "OPTIONS", "", preflight("POST", ""), "", 405, api.CodeMethodNotAllowed, false},

		// Actual requests: the caller's data, and errors, readable by an
		// allowed origin only.
		{"JSON POST from an allowed origin", allowing, "POST", devOrigin, jsonPost, body, 200, "", true},
		{"JSON POST from another origin", allowing, "POST", "https://evil.example", jsonPost, body, 200, "", false},
		{"JSON POST without Origin", allowing, "POST", "", jsonPost, body, 200, "", false},
		{"JSON POST when no origin is allowed", closed, "POST", devOrigin, jsonPost, body, 200, "", false},
		{"GET with a preflight header", allowing, "GET", devOrigin, map[string]string{"Apollo-Require-Preflight": "true", "Authorization": "Bearer " + apptest.TokenLi}, "", 200, "", true},
		{"no token", allowing, "POST", devOrigin, map[string]string{"Content-Type": "application/json"}, body, 200, "UNAUTHENTICATED", true},
		{"a form POST from an allowed origin is still CSRF", allowing, "POST", devOrigin, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer " + apptest.TokenLi}, body, 400, api.CodeCSRF, true},
		{"a text/plain POST from another origin is CSRF", allowing, "POST", "https://evil.example", map[string]string{"Content-Type": "text/plain"}, body, 400, api.CodeCSRF, false},
		{"a GET without a preflight header from an allowed origin is CSRF", allowing, "GET", devOrigin, map[string]string{"Authorization": "Bearer " + apptest.TokenLi}, "", 400, api.CodeCSRF, true},
		{"PUT from an allowed origin", allowing, "PUT", devOrigin, jsonPost, body, 405, api.CodeMethodNotAllowed, true},
		{"a body over the limit", allowing, "POST", devOrigin, jsonPost, `{"query":"` + strings.Repeat(" ", 70_000) + `{ me { id } }"}`, 413, api.CodePayloadTooLarge, true},
		{"a batch", allowing, "POST", devOrigin, jsonPost, "[" + body + "]", 400, api.CodeBatching, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := "/query"
			if tt.method == "GET" {
				target += "?query=%7B%20me%20%7B%20id%20%7D%20%7D"
			}
			req, err := http.NewRequest(tt.method, tt.srv.URL+target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, raw := tt.srv.Do(t, req)
			h := res.Header

			cors := corsHeaders(h)
			switch {
			case !tt.allow && len(cors) > 0:
				t.Errorf("CORS headers %v on an answer to %q", cors, tt.origin)
			case tt.allow && h.Get("Access-Control-Allow-Origin") != tt.origin:
				t.Errorf("Access-Control-Allow-Origin %q, want %q", h.Get("Access-Control-Allow-Origin"), tt.origin)
			}
			if want := tt.srv != closed; varies(h, "Origin") != want {
				t.Errorf("Vary %q: want Origin in it %v (the answer depends on Origin exactly when origins are allowed)", h.Values("Vary"), want)
			}

			switch {
			case tt.status == http.StatusNoContent:
				if res.StatusCode != 204 || len(raw) != 0 {
					t.Fatalf("HTTP %d %s, want 204 and no body", res.StatusCode, raw)
				}
				if got := h.Get("Access-Control-Allow-Methods"); got != "GET, POST" {
					t.Errorf("Access-Control-Allow-Methods %q, want GET, POST", got)
				}
				if got := h.Get("Access-Control-Max-Age"); got != "7200" {
					t.Errorf("Access-Control-Max-Age %q, want 7200", got)
				}
				allowed := map[string]bool{}
				for f := range strings.SplitSeq(h.Get("Access-Control-Allow-Headers"), ",") {
					allowed[strings.ToLower(strings.TrimSpace(f))] = true
				}
				for f := range strings.SplitSeq(tt.header["Access-Control-Request-Headers"], ",") {
					if !allowed[f] {
						t.Errorf("Access-Control-Allow-Headers %q lacks %s, which the preflight asks for", h.Get("Access-Control-Allow-Headers"), f)
					}
				}
				if h.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("Access-Control-Allow-Credentials %q: the API reads no cookies", h.Get("Access-Control-Allow-Credentials"))
				}
			case tt.code == "":
				if res.StatusCode != 200 || !strings.Contains(string(raw), apptest.StaffLi) || strings.Contains(string(raw), `"errors"`) {
					t.Fatalf("HTTP %d %s, want 小李's data", res.StatusCode, raw)
				}
			case tt.code == "UNAUTHENTICATED":
				if res.StatusCode != 200 || !strings.Contains(string(raw), `"code":"UNAUTHENTICATED"`) {
					t.Fatalf("HTTP %d %s, want UNAUTHENTICATED", res.StatusCode, raw)
				}
			default:
				apptest.WantGraphQLError(t, res, raw, tt.status, tt.code)
			}
			if tt.allow && tt.status != http.StatusNoContent {
				if got := h.Get("Access-Control-Expose-Headers"); got != "Retry-After" {
					t.Errorf("Access-Control-Expose-Headers %q, want Retry-After", got)
				}
			}
		})
	}
}

// TestCORSRateLimited checks that a web app on an allowed origin can read
// a RATE_LIMITED answer and when to retry.
func TestCORSRateLimited(t *testing.T) {
	srv := corsServer(t, []string{devOrigin}, apptest.RateLimit(1, 1, apptest.NewClock()))
	send := func() (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", srv.URL+"/query", strings.NewReader(`{"query":"{ me { id } }"}`))
		req.Header.Set("Origin", devOrigin)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
		return srv.Do(t, req)
	}
	if res, raw := send(); res.StatusCode != 200 {
		t.Fatalf("first request: HTTP %d %s", res.StatusCode, raw)
	}
	res, raw := send()
	apptest.WantGraphQLError(t, res, raw, http.StatusTooManyRequests, api.CodeRateLimited)
	h := res.Header
	if h.Get("Access-Control-Allow-Origin") != devOrigin || h.Get("Retry-After") == "" ||
		!slices.Contains(strings.Split(h.Get("Access-Control-Expose-Headers"), ", "), "Retry-After") {
		t.Fatalf("a 429 to an allowed origin: Access-Control-Allow-Origin %q, Retry-After %q, Access-Control-Expose-Headers %q",
			h.Get("Access-Control-Allow-Origin"), h.Get("Retry-After"), h.Get("Access-Control-Expose-Headers"))
	}
}

// TestParseOrigins checks what -cors-origins accepts, how it writes each
// origin (as a browser sends it in Origin), and what it says of a value
// it refuses.
func TestParseOrigins(t *testing.T) {
	good := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"http://localhost:3000", []string{"http://localhost:3000"}},
		{"http://localhost:3000, https://console.example.com", []string{"http://localhost:3000", "https://console.example.com"}},
		{"HTTP://LocalHost:3000", []string{"http://localhost:3000"}},
		{"http://example.com:80,https://example.com:443", []string{"http://example.com", "https://example.com"}},
		{"http://example.com:8080,http://example.com:8080", []string{"http://example.com:8080"}},
		{"http://127.0.0.1:5173", []string{"http://127.0.0.1:5173"}},
		{"http://[::1]:3000", []string{"http://[::1]:3000"}},
		{"http://localhost:03000", []string{"http://localhost:3000"}},
	}
	for _, tt := range good {
		got, err := api.ParseOrigins(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseOrigins(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"http://localhost:3000/", `"http://localhost:3000/": an origin has no path (not even a trailing /), query or user: want http://localhost:3000`},
		{"http://localhost:3000/app", `want http://localhost:3000`},
		{"http://localhost:3000?x=1", `an origin has no path`},
		{"http://user@localhost:3000", `an origin has no path (not even a trailing /), query or user: want http://localhost:3000`},
		{"localhost:3000", `"localhost:3000": want an origin, scheme://host[:port], such as http://localhost:3000`},
		{"//localhost:3000", `want an origin, scheme://host[:port]`},
		{"ftp://localhost", `"ftp://localhost": want an http:// or https:// origin`},
		{"*", `"*": list each origin that may call the API; a wildcard is not accepted`},
		{"null", `"null": the opaque origin`},
		{"http://localhost:3000,,http://localhost:4000", `an empty origin in the list`},
		{"http://localhost:3000,", `an empty origin in the list`},
		{"http://localhost:0", `the port must be a number from 1 to 65535`},
		{"http://localhost:99999", `the port must be a number from 1 to 65535`},
		{"http://localhost:", `the port is empty`},
		{"http://:3000", `the host is missing`},
		{"http://bücher.example", `xn--`},
		{"http://local host:3000", `want an origin`},
	}
	for _, tt := range bad {
		got, err := api.ParseOrigins(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseOrigins(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.want)
		}
	}
}
