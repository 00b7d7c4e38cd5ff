package store

import (
	"slices"
	"strconv"
	"strings"
)

// maxInList caps the keys of one IN list; longer key sets run in chunks.
const maxInList = 1024

// inList returns "?,?,…" for keys padded to the next power of two, and the
// padded arguments. Padding repeats the last key, which changes no result,
// and keeps the number of distinct statements (and so of prepared
// statements) logarithmic in the key count.
func inList(keys []string) (string, []any) {
	args := paddedArgs(keys)
	return marks(len(args)), args
}

// paddedArgs is inList's arguments without its text.
func paddedArgs(keys []string) []any {
	args := make([]any, padded(len(keys)))
	for i := range args {
		args[i] = keys[min(i, len(keys)-1)]
	}
	return args
}

// padded is n rounded up to a power of two.
func padded(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// chunks splits keys into runs of at most maxInList.
func chunks(keys []string) [][]string {
	var out [][]string
	for len(keys) > maxInList {
		out = append(out, keys[:maxInList])
		keys = keys[maxInList:]
	}
	if len(keys) > 0 {
		out = append(out, keys)
	}
	return out
}

// distinct returns keys sorted, without repeats.
func distinct(keys []string) []string {
	if len(keys) < 2 {
		return keys
	}
	out := slices.Clone(keys)
	slices.Sort(out)
	return slices.Compact(out)
}

// marks returns n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// numberedMarks returns "?1,?2,…,?n": SQLite's numbered parameters, which
// a statement may name more than once.
func numberedMarks(n int) string {
	b := make([]byte, 0, 6*n)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b = append(b, ',')
		}
		b = append(b, '?')
		b = strconv.AppendInt(b, int64(i), 10)
	}
	return string(b)
}
