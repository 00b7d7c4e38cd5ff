package app_test

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

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/store"
)

// The tests of this file hold both front doors, mounted side by side, to
// answering in their own terms when a request goes wrong on its way in.

// envelopeAnswer is the part of a legacy envelope these tests read.
type envelopeAnswer struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// wantEnvelope checks a legacy answer: HTTP 200 and the envelope's code,
// message and no data.
func wantEnvelope(t testing.TB, res *http.Response, raw []byte, code int, message string) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Errorf("HTTP %d, want 200: %s", res.StatusCode, raw)
	}
	var env envelopeAnswer
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	if env.Code != code || env.Message != message || string(env.Data) != "null" {
		t.Fatalf("envelope %s, want code %d and %s", raw, code, message)
	}
}

// TestUnreadableBody sends a body shorter than its Content-Length and then
// stalls, until the server's read timeout or by closing the write side:
// each front door answers a bad request in its own terms, not the 503 of
// a deadline the server's cancelling the request would set off.
func TestUnreadableBody(t *testing.T) {
	srv := apptest.NewServerOver(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)),
		func(st *store.Store) app.Backend { return st },
		func(s *http.Server) { s.ReadTimeout = 300 * time.Millisecond })
	doors := []struct {
		name, path, contentType, partial string
		check                            func(t testing.TB, res *http.Response, raw []byte)
	}{
		{"graphql", "/query", "application/json", `{"query":"`, func(t testing.TB, res *http.Response, raw []byte) {
			apptest.WantGraphQLError(t, res, raw, http.StatusBadRequest, "BAD_REQUEST")
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
	apptest.EachEngine(t, func(t *testing.T, e apptest.Engine) {
		db := e.NewDB(t, apptest.FixtureScripts()...)
		cfg := apptest.Config(t, db, func(c *app.Config) {
			c.Limits.Timeout = 200 * time.Millisecond
			c.CheckSign = false
		})
		gql := func(res *http.Response, raw []byte) {
			apptest.WantGraphQLError(t, res, raw, 503, "SERVICE_UNAVAILABLE")
		}
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
				req, _ := http.NewRequest("POST", base+"/op/v2/receives", strings.NewReader(url.Values{"token": {apptest.TokenLi}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			}, func(res *http.Response, raw []byte) { wantEnvelope(t, res, raw, 503, "服务繁忙") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				workers := make(chan string, 1)
				srv := apptest.NewServerOver(t, cfg, func(st *store.Store) app.Backend { return lateTokenStore{st, workers} })
				req := tt.req(srv.URL)
				req.Header.Set("Authorization", "Bearer "+apptest.TokenLi)
				res, raw := srv.Do(t, req)
				tt.check(res, raw)
				// The deadline may answer before the work ends: wait for
				// the goroutine doing it, the connection's, to end before
				// reading the log. It ends with the work when the
				// deadline's answer closed the connection, and when the
				// client closes it otherwise.
				srv.Client().CloseIdleConnections()
				waitGoroutineEnds(<-workers)
				if logs := srv.Logs.String(); strings.Contains(logs, "panic") {
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
