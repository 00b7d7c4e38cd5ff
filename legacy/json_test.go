package legacy

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendString holds the v2 answers' string encoding to the one they
// were written with before, encoding/json with HTML escaping off: the
// same bytes for any string, valid UTF-8 or not.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "小李 😀", "a\"b\\c", "\b\f\n\r\t\x00\x01\x1f\x7f", "<a href=\"x?a=1&b=2\">",
		"\u2028\u2029", "\xff\xfe", "a\xc3", "\xed\xa0\x80", "€\xe2\x82",
		"\xe0\x80\x80", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf", "\xe2\x80\xa7\xe2\x80\xaa", "北京市朝阳区"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := appendString(nil, s)
		if !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("appendString(%q) = %s, encoding/json writes %s", s, got, want.Bytes())
		}
	})
}
