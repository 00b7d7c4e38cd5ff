package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"opfacade/domain"
	"opfacade/store"
)

// envelopeAnswer is the part of a legacy envelope these tests read.
type envelopeAnswer struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// wantGraphQLError checks an error answer of the GraphQL front door: the
// status, a JSON Content-Type, one error with code and no data.
func wantGraphQLError(t testing.TB, res *http.Response, raw []byte, status int, code string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("HTTP %d, want %d: %s", res.StatusCode, status, raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json: %s", ct, raw)
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != code {
		t.Fatalf("want one %s error, got %s", code, raw)
	}
	if len(out.Data) != 0 && string(out.Data) != "null" {
		t.Fatalf("want no data, got %s", raw)
	}
}

// wantEnvelope checks a legacy answer: HTTP 200 and the envelope's code,
// a message starting with message, and no data.
func wantEnvelope(t testing.TB, res *http.Response, raw []byte, code int, message string) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Errorf("HTTP %d, want 200: %s", res.StatusCode, raw)
	}
	var env envelopeAnswer
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	if env.Code != code || !strings.HasPrefix(env.Message, message) || string(env.Data) != "null" {
		t.Fatalf("envelope %s, want code %d and %s…", raw, code, message)
	}
}

// TestUnreadableBody sends a body shorter than its Content-Length and then
// stalls, until the server's read timeout or by closing the write side:
// each front door answers a bad request in its own terms, not the 503 of
// a deadline the server's cancelling the request would set off.
func TestUnreadableBody(t *testing.T) {
	srv := newServerOver(t, testConfig(t, newSQLiteDB(t, fixtureScripts(t)...)), store.Options{},
		func(st *store.Store) backend { return st },
		func(s *http.Server) { s.ReadTimeout = 300 * time.Millisecond })
	doors := []struct {
		name, path, contentType, partial string
		check                            func(t testing.TB, res *http.Response, raw []byte)
	}{
		{"graphql", "/query", "application/json", `{"query":"`, func(t testing.TB, res *http.Response, raw []byte) {
			wantGraphQLError(t, res, raw, http.StatusBadRequest, "BAD_REQUEST")
		}},
		{"legacy", "/op/v2/receives", "application/x-www-form-urlencoded", "token=o000", func(t testing.TB, res *http.Response, raw []byte) {
			wantEnvelope(t, res, raw, 400, "参数错误")
		}},
	}
	stalls := []struct {
		name  string
		stall func(c *net.TCPConn) error
	}{
		{"read timeout", func(*net.TCPConn) error { return nil }},
		{"client closes its side", (*net.TCPConn).CloseWrite},
	}
	for _, d := range doors {
		for _, s := range stalls {
			t.Run(d.name+" "+s.name, func(t *testing.T) {
				res, raw := sendPartialBody(t, srv.Listener.Addr().String(), d.path, d.contentType, d.partial, s.stall)
				d.check(t, res, raw)
			})
		}
	}
}

// sendPartialBody sends a POST announcing 100 bytes of body, sends partial
// (fewer), calls stall, and reads the answer.
func sendPartialBody(t *testing.T, addr, path, contentType, partial string, stall func(*net.TCPConn) error) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A safety net for a server that never answers, not a measurement.
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	head := "POST " + path + " HTTP/1.1\r\nHost: facade\r\nContent-Type: " + contentType + "\r\nContent-Length: 100\r\n\r\n"
	if _, err := io.WriteString(c, head+partial); err != nil {
		t.Fatal(err)
	}
	if err := stall(c.(*net.TCPConn)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, raw
}

// TestUnsupportedTransport checks that a request no GraphQL transport
// serves is answered as JSON with a code, as every other error: a method
// other than GET and POST is 405 (checked first, so even one a CSRF check
// would refuse), a POST body that is not JSON 415, unless it is one a
// browser may send cross-site, which stays CSRF_PREVENTED.
func TestUnsupportedTransport(t *testing.T) {
	srv := newServer(t, testConfig(t, newSQLiteDB(t, fixtureScripts(t)...)), store.Options{})
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
			req.Header.Set("Authorization", "Bearer "+tokenLi)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, raw := doRequest(t, srv.Client(), req)
			if tt.code == "" {
				if res.StatusCode != 200 || !strings.Contains(string(raw), staffLi) {
					t.Fatalf("HTTP %d: %s", res.StatusCode, raw)
				}
				return
			}
			wantGraphQLError(t, res, raw, tt.status, tt.code)
			if allow := res.Header.Get("Allow"); tt.status == 405 && allow != "GET, POST" {
				t.Errorf("Allow %q, want GET, POST", allow)
			}
		})
	}
}

func doRequest(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, raw
}

// lateTokenStore finds a token's OP and then holds on to it until the
// request's context ends: the deadline passes after the token check. It
// sends the goroutine that asked, the one that goes on with the work, on
// workers.
type lateTokenStore struct {
	*store.Store
	workers chan<- string
}

func (s lateTokenStore) StaffByToken(ctx context.Context, token string) (domain.Staff, error) {
	s.workers <- goroutineID()
	staff, err := s.Store.StaffByToken(context.WithoutCancel(ctx), token)
	<-ctx.Done()
	return staff, err
}

// TestDeadlineAfterTheTokenCheck lets the request deadline pass between
// the token check and the operation: every transport and the legacy path
// answer that the service is busy, and nothing panics on the way, also
// after the deadline answered.
func TestDeadlineAfterTheTokenCheck(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		db := e.newDB(t, fixtureScripts(t)...)
		cfg := testConfig(t, db, func(c *config) {
			c.Limits.Timeout = 200 * time.Millisecond
			c.CheckSign = false
		})
		gql := func(res *http.Response, raw []byte) { wantGraphQLError(t, res, raw, 503, "SERVICE_UNAVAILABLE") }
		tests := []struct {
			name  string
			req   func(base string) *http.Request
			check func(res *http.Response, raw []byte)
		}{
			{"POST", func(base string) *http.Request {
				req, _ := http.NewRequest("POST", base+"/query", strings.NewReader(`{"query":"{ me { id } }"}`))
				req.Header.Set("Content-Type", "application/json")
				return req
			}, gql},
			{"POST answered by gqlgen's transport", func(base string) *http.Request {
				req, _ := http.NewRequest("POST", base+"/query", strings.NewReader(`{"query":"{ me { id } }"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/graphql-response+json")
				return req
			}, gql},
			{"GET", func(base string) *http.Request {
				req, _ := http.NewRequest("GET", base+"/query?"+url.Values{"query": {"{ me { id } }"}}.Encode(), nil)
				req.Header.Set("Apollo-Require-Preflight", "true")
				return req
			}, gql},
			{"legacy", func(base string) *http.Request {
				req, _ := http.NewRequest("POST", base+"/op/v2/receives", strings.NewReader(url.Values{"token": {tokenLi}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			}, func(res *http.Response, raw []byte) { wantEnvelope(t, res, raw, 503, "服务繁忙") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				workers := make(chan string, 1)
				srv := newServerOver(t, cfg, store.Options{}, func(st *store.Store) backend { return lateTokenStore{st, workers} })
				req := tt.req(srv.URL)
				req.Header.Set("Authorization", "Bearer "+tokenLi)
				res, raw := doRequest(t, srv.Client(), req)
				tt.check(res, raw)
				// The deadline may answer before the work ends: wait for
				// its goroutine to end before reading the log.
				waitGoroutineEnds(<-workers)
				if logs := srv.logs.String(); strings.Contains(logs, "panic") {
					t.Fatalf("the log shows a panic:\n%s", logs)
				}
			})
		}
	})
}

// goroutineID returns the calling goroutine's id, from its stack's first
// line ("goroutine 7 [running]:").
func goroutineID() string {
	buf := make([]byte, 64)
	return strings.Fields(string(buf[:runtime.Stack(buf, false)]))[1]
}

// waitGoroutineEnds returns once goroutine id has ended (ids are never
// reused). The test's own timeout bounds the wait.
func waitGoroutineEnds(id string) {
	for running(id) {
		time.Sleep(5 * time.Millisecond)
	}
}

func running(id string) bool {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	for n == len(buf) {
		buf = make([]byte, 2*len(buf))
		n = runtime.Stack(buf, true)
	}
	return strings.Contains(string(buf[:n]), "goroutine "+id+" [")
}
