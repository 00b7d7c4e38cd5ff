package legacy

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"sort"
	"strings"
)

// Sign computes a v2 request signature: every parameter but sign whose
// value is not empty, sorted by name in byte order, joined as name=value
// with &, values as sent, then the client's secret appended; the lowercase
// hex MD5 of that string.
func Sign(params map[string]string, secret string) string {
	names := make([]string, 0, len(params))
	for k, v := range params {
		if k != "sign" && v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	b.WriteString(secret)
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// validSign compares a sent signature with the expected one, in constant
// time and without regard to case.
func validSign(params map[string]string, secret string) bool {
	want := Sign(params, secret)
	got := strings.ToLower(params["sign"])
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
