package legacy

import (
	"crypto/md5"
	"encoding/hex"
	"maps"
	"strings"
)

func with(m map[string]string, k, v string) map[string]string {
	out := maps.Clone(m)
	out[k] = v
	return out
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func upper(s string) string { return strings.ToUpper(s) }
