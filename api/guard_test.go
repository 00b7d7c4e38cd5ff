package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"opfacade/domain"
	"opfacade/graph"
	"opfacade/resolvers"
)

func serveOnce(h http.Handler, method, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/query", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestProtectAnswers checks what the HTTP-level guards answer, exactly.
func TestProtectAnswers(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	l := DefaultLimits
	l.Timeout = 50 * time.Millisecond
	tests := []struct {
		name   string
		h      http.HandlerFunc
		status int
		body   string
	}{
		{"a panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") },
			500, `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`},
		{"a handler stuck past the deadline", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done(); time.Sleep(50 * time.Millisecond) },
			503, `{"errors":[{"message":"the request did not finish within 50ms; try again later","extensions":{"code":"SERVICE_UNAVAILABLE"}}]}`},
		{"an answer", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Seen", "1")
			w.WriteHeader(201)
			_, _ = w.Write(b)
		}, 201, `{"query":"{ me { id } }"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveOnce(protect(tt.h, l, Options{}, log), http.MethodPost, "application/json", `{"query":"{ me { id } }"}`)
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Fatalf("HTTP %d %s\nwant %d %s", rec.Code, rec.Body, tt.status, tt.body)
			}
			if ct := rec.Header().Get("Content-Type"); tt.status >= 500 && ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "goroutine") {
		t.Fatalf("the panic's stack is not in the log:\n%s", logs.String())
	}
}

// TestDeadlineContext checks that the handler's context carries the deadline.
func TestDeadlineContext(t *testing.T) {
	l := DefaultLimits
	var got time.Duration
	h := protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := r.Context().Deadline()
		if ok {
			got = time.Until(d)
		}
		_ = context.Cause(r.Context())
	}), l, Options{}, slog.New(slog.DiscardHandler))
	serveOnce(h, http.MethodPost, "application/json", `{}`)
	if got <= 0 || got > l.Timeout {
		t.Fatalf("time left = %v, want within (0, %v]", got, l.Timeout)
	}
}

// cancellingTokens finds every token valid and then ends the request's
// context, as a deadline passing after the token check would.
type cancellingTokens struct{ cancel context.CancelFunc }

func (c cancellingTokens) StaffByToken(ctx context.Context, token string) (domain.Staff, error) {
	c.cancel()
	return domain.Staff{ID: "u1", Role: domain.RoleOP}, nil
}

// TestOperationCancelledAfterTheTokenCheck runs gqlgen's handler, without
// the deadline guard that would answer first, on a request whose context
// ends after the token check: each transport answers SERVICE_UNAVAILABLE
// itself, in JSON, and nothing panics.
func TestOperationCancelledAfterTheTokenCheck(t *testing.T) {
	const query = `{"query":"{ me { id } }"}`
	tests := []struct {
		name   string
		method string
		target string
		header map[string]string
	}{
		{"POST", http.MethodPost, "/query", map[string]string{"Content-Type": "application/json"}},
		{"POST for gqlgen's transport", http.MethodPost, "/query", map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"}},
		{"GET", http.MethodGet, "/query?" + url.Values{"query": {"{ me { id } }"}}.Encode(), nil},
	}
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &resolvers.Resolver{}, Complexity: resolvers.Complexity()})
	const want = `{"errors":[{"message":"the request did not finish within 5s; try again later","extensions":{"code":"SERVICE_UNAVAILABLE"}}],"data":null}`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h := newServer(es, cancellingTokens{cancel}, true, DefaultLimits, slog.New(slog.NewTextHandler(&logs, nil)))
			req := httptest.NewRequestWithContext(ctx, tt.method, tt.target, strings.NewReader(query))
			req.Header.Set("Authorization", "Bearer t")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 503 || rec.Body.String() != want {
				t.Fatalf("HTTP %d %s\nwant 503 %s", rec.Code, rec.Body, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if strings.Contains(logs.String(), "panic") {
				t.Errorf("the log shows a panic:\n%s", logs.String())
			}
		})
	}
}
