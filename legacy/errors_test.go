package legacy

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// TestParamErrorsSayWhyInTheLogOnly: a 参数错误 answers the contract's
// message alone, and its English reason goes to the log at Debug, with
// no parameter value (a token, say) beside it.
func TestParamErrorsSayWhyInTheLogOnly(t *testing.T) {
	const token = "o0001secretsecretsecretsecretsecret00"
	tests := []struct {
		name, target, contentType, body, reason string
	}{
		{"malformed query string", "/op/v2/receives?token=" + token + "&x=%zz", "", "", "malformed query string"},
		{"malformed form", "/op/v2/receives", "application/x-www-form-urlencoded", "token=" + token + "&x=%zz", "malformed form body"},
		{"not a JSON object", "/op/v2/receives", "application/json", `["` + token + `"]`, "the body is not a JSON object"},
		{"not a string", "/op/v2/receives", "application/json", `{"token":"` + token + `","staffId":42}`, "staffId must be a string"},
		{"unsupported Content-Type", "/op/v2/receives", "text/plain", "token=" + token, `unsupported Content-Type \"text/plain\"`},
		{"unsupported apiVersion", "/op/v2/receives?apiVersion=02&token=" + token, "", "", "unsupported apiVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := New(Config{Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			req := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			wantParamError(t, rec.Body.Bytes())
			line := logs.String()
			if !strings.Contains(line, "level=DEBUG") || !strings.Contains(line, tt.reason) {
				t.Errorf("the log does not give the reason %q at Debug:\n%s", tt.reason, line)
			}
			if strings.Contains(line, token) {
				t.Errorf("the log shows the token:\n%s", line)
			}
		})
	}
	t.Run("unreadable body", func(t *testing.T) {
		var logs bytes.Buffer
		h := New(Config{Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		req := httptest.NewRequest(http.MethodPost, "/op/v2/receives", iotest.ErrReader(iotest.ErrTimeout))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		wantParamError(t, rec.Body.Bytes())
		if !strings.Contains(logs.String(), "the body could not be read") {
			t.Errorf("the log does not give the reason:\n%s", logs.String())
		}
	})
}

// wantParamError checks that raw is a 参数错误 envelope, the message
// exactly the contract's.
func wantParamError(t *testing.T, raw []byte) {
	t.Helper()
	var env struct {
		Code    int
		Message string
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	if env.Code != 400 || env.Message != "参数错误" {
		t.Fatalf("got %d %q, want 400 %q: %s", env.Code, env.Message, "参数错误", raw)
	}
}
