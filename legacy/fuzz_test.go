package legacy

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzReadParams feeds readParams arbitrary query strings, Content-Types
// and bodies within the limit: it must never panic, and must answer
// either parameters or the contract's error for a body (参数错误).
func FuzzReadParams(f *testing.F) {
	const maxBody = 1 << 10
	f.Add("", "application/x-www-form-urlencoded", []byte("apiVersion=01&client=b2736195b38346639463ee889d6b8ff4&token=o0001403351be22c648efa24c20e842fd7351&sign=98a1e4ee75534faa59c7cffaa81d98db"))
	f.Add("token=x&client=y", "application/json;charset=UTF-8", []byte(`{"token":"o0001","staffId":null,"apiVersion":"01"}`))
	f.Add("a=%zz", "", []byte(""))
	f.Add("", "application/json", []byte(`["token"]`))
	f.Add("", "application/json", []byte(`{"staffId":42}`))
	f.Add("", "text/plain", []byte("token=x"))
	f.Add("", "multipart/form-data; boundary=\"", []byte("--"))
	f.Add("x=1;y=2", "application/x-www-form-urlencoded", []byte("token=%00%ff&token=second"))
	f.Add("", "application/json", []byte(`{"token":"\u0000\ud800"}`))
	f.Add("", "application/x-www-form-urlencoded", bytes.Repeat([]byte("a"), maxBody+1))
	f.Fuzz(func(t *testing.T, rawQuery, contentType string, body []byte) {
		r := &http.Request{
			Method:        http.MethodPost,
			URL:           &url.URL{Path: "/op/v2/receives", RawQuery: rawQuery},
			Header:        http.Header{"Content-Type": {contentType}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		if len(body) > maxBody {
			return // the guard answers 请求过大 unread
		}
		params, e := readParams(r, body)
		if e != nil {
			if e.Code != 400 || e.Message != errParams.Message {
				t.Fatalf("error outside the contract: %+v", e)
			}
			return
		}
		if params == nil {
			t.Fatal("nil parameters without an error")
		}
		// What the query string says holds unless the body says otherwise.
		if q, err := url.ParseQuery(rawQuery); err == nil && len(bytes.TrimSpace(body)) == 0 {
			for k, vs := range q {
				if params[k] != vs[0] {
					t.Fatalf("%s = %q, want %q from the query string", k, params[k], vs[0])
				}
			}
		}
	})
}

// FuzzSign checks the signature's properties on arbitrary parameters:
// lowercase hex MD5, independent of the sign parameter and of empty
// values, accepted in any case, refused when changed.
func FuzzSign(f *testing.F) {
	f.Add("01", "b2736195b38346639463ee889d6b8ff4", "o0001403351be22c648efa24c20e842fd7351", "", "5e8dd316726b0335fcdb27a4d3c2a9b7")
	f.Add("", "", "", "", "")
	f.Add("01", "c", "t&sign=x", "u0001=", "s")
	f.Add("\x00", "\xff", "小李", "' OR 1=1 --", "\n")
	f.Fuzz(func(t *testing.T, apiVersion, client, token, staffID, secret string) {
		params := map[string]string{"apiVersion": apiVersion, "client": client, "token": token, "staffId": staffID}
		sum := Sign(params, secret)
		if len(sum) != 32 || strings.ToLower(sum) != sum {
			t.Fatalf("sign %q is not lowercase hex MD5", sum)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			t.Fatalf("sign %q: %v", sum, err)
		}
		if apiVersion == "01" && client == "b2736195b38346639463ee889d6b8ff4" && token == "o0001403351be22c648efa24c20e842fd7351" && staffID == "" && secret == "5e8dd316726b0335fcdb27a4d3c2a9b7" && sum != "98a1e4ee75534faa59c7cffaa81d98db" {
			t.Fatalf("the contract's example signs as %s", sum)
		}
		withSign := map[string]string{"sign": "anything", "empty": ""}
		for k, v := range params {
			withSign[k] = v
		}
		if again := Sign(withSign, secret); again != sum {
			t.Fatalf("sign depends on the sign parameter or an empty one: %s != %s", again, sum)
		}
		withSign["sign"] = sum
		if !validSign(withSign, secret) {
			t.Fatal("its own sign is refused")
		}
		withSign["sign"] = strings.ToUpper(sum)
		if !validSign(withSign, secret) {
			t.Fatal("its own sign in upper case is refused")
		}
		withSign["sign"] = sum[:31]
		if validSign(withSign, secret) {
			t.Fatal("a truncated sign is accepted")
		}
		withSign["sign"] = sum
		withSign["token"] = token + "x"
		if validSign(withSign, secret) {
			t.Fatal("a changed parameter keeps its sign")
		}
	})
}
