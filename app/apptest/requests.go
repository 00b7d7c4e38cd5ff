package apptest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"opfacade/legacy"
)

// MeChatsQuery is the consoles' main query: the caller and their chats,
// with every field of the chats, their users and the users' grades.
const MeChatsQuery = `query MyChats {
  me {
    id name role isOnline
    chats {
      id groupId title status storedStatus address message createTime
      user { id nickName icon grade { chatCount orderCount serviceCount } }
      staff { id name }
    }
  }
}`

// NestedQuery returns a query that nests Staff.chats.staff n times: past
// the depth limit for n of 5 and more.
func NestedQuery(n int) string {
	q := "id"
	for range n {
		q = "chats { staff { " + q + " } }"
	}
	return "{ me { " + q + " } }"
}

// GraphQLResponse is a GraphQL answer, decoded.
type GraphQLResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// GraphQL POSTs a query with token as bearer ("" sends none) and decodes
// the answer, which must be HTTP 200.
func (s *Server) GraphQL(t testing.TB, token, query string, vars map[string]any) (GraphQLResponse, []byte) {
	t.Helper()
	if token == "" {
		return s.GraphQLAuth(t, "", query, vars)
	}
	return s.GraphQLAuth(t, "Bearer "+token, query, vars)
}

// GraphQLAuth POSTs a query with the given Authorization header ("" sends
// none).
func (s *Server) GraphQLAuth(t testing.TB, authorization, query string, vars map[string]any) (GraphQLResponse, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	_, raw := s.send(t, req)
	var out GraphQLResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, raw)
	}
	return out, raw
}

// Do does req and reads the answer, whatever its status.
func (s *Server) Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := s.Client().Do(req)
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

// send does req and reads the answer, which must be HTTP 200.
func (s *Server) send(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, raw := s.Do(t, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d, want 200: %s", res.StatusCode, raw)
	}
	return res, raw
}

// RawDo sends a request with the given headers and body and returns the
// status and body, whatever they are.
func (s *Server) RawDo(t testing.TB, method, target string, header map[string]string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// WantGraphQLError checks an error answer of the GraphQL front door: the
// status, a JSON Content-Type, one error with code and no data.
func WantGraphQLError(t testing.TB, res *http.Response, raw []byte, status int, code string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("HTTP %d, want %d: %s", res.StatusCode, status, raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json: %s", ct, raw)
	}
	var out GraphQLResponse
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

// Signed returns params with apiVersion, client (the example's) and token
// set, plus extra name/value pairs, signed with the client's secret.
func Signed(token string, extra ...string) url.Values {
	v := url.Values{"apiVersion": {"01"}, "client": {ClientID}, "token": {token}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return Sign(v, ClientSecret)
}

// Sign sets v's sign parameter to its signature with secret.
func Sign(v url.Values, secret string) url.Values {
	flat := map[string]string{}
	for k := range v {
		flat[k] = v.Get(k)
	}
	v.Set("sign", legacy.Sign(flat, secret))
	return v
}

// LegacyResponse is the legacy v2 envelope, decoded.
type LegacyResponse struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	Page    json.RawMessage `json:"page"`
	Foot    struct {
		OperationTime, ServicePhone, Host string
	} `json:"foot"`
}

// LegacyDo sends a request to the legacy path and checks what every
// response must be: HTTP 200, the contract's Content-Type, all five
// members.
func (s *Server) LegacyDo(t testing.TB, req *http.Request) (LegacyResponse, []byte) {
	t.Helper()
	res, raw := s.send(t, req)
	if ct := res.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	for _, m := range []string{"code", "message", "data", "page", "foot"} {
		if _, ok := members[m]; !ok {
			t.Fatalf("member %s missing: %s", m, raw)
		}
	}
	var out LegacyResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("the envelope's members have the wrong types: %v: %s", err, raw)
	}
	if string(out.Page) != "null" {
		t.Fatalf("page = %s, want null", out.Page)
	}
	return out, raw
}

// LegacyForm POSTs params to the legacy path as a form body.
func (s *Server) LegacyForm(t testing.TB, params url.Values) (LegacyResponse, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/op/v2/receives", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.LegacyDo(t, req)
}

// SameJSONFile compares got with the JSON file at path, as JSON values.
func SameJSONFile(t testing.TB, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

// AssertJSON compares two JSON documents as values.
func AssertJSON(t testing.TB, want string, got json.RawMessage) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("bad got JSON: %v: %s", err, got)
	}
	wb, _ := json.Marshal(w)
	gb, _ := json.Marshal(g)
	if string(wb) != string(gb) {
		t.Errorf("data mismatch\n got: %s\nwant: %s", gb, wb)
	}
}

// StrictJSON decodes raw into v, refusing members v does not have.
func StrictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
