package scalar

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

func marshal(t time.Time) string {
	var b bytes.Buffer
	MarshalDateTime(t).MarshalGQL(&b)
	return b.String()
}

// FuzzDateTime round-trips DateTime values: whatever UnmarshalDateTime
// accepts, MarshalDateTime writes as a JSON string that reads back as the
// same instant (to the second: the platform stores no fractions) in the
// same offset; what it refuses, it refuses with an error, never a panic.
func FuzzDateTime(f *testing.F) {
	for _, s := range []string{
		"2016-01-06T10:59:12+08:00", "2016-01-06T10:59:12Z", "2016-01-06T10:59:12-05:00",
		"2016-01-06T10:59:12.123456789+08:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59+23:59",
		"2016-01-06 10:59:12", "2016-01-06T10:59:12", "2016-02-30T00:00:00Z", "2016-01-06T24:00:00Z",
		"", "\x00", "2016-01-06T10:59:12+08:00\n", "２０１６-01-06T10:59:12Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := UnmarshalDateTime(s)
		if err != nil {
			return
		}
		out := marshal(got)
		unq, err := strconv.Unquote(out)
		if err != nil {
			t.Fatalf("Marshal(%q) = %s, not a JSON string", s, out)
		}
		back, err := UnmarshalDateTime(unq)
		if err != nil {
			t.Fatalf("Marshal(%q) = %s, which does not read back: %v", s, out, err)
		}
		if !back.Equal(got.Truncate(time.Second)) {
			t.Fatalf("%q read back as %v, want %v", s, back, got.Truncate(time.Second))
		}
		_, off1 := got.Zone()
		_, off2 := back.Zone()
		if off1 != off2 {
			t.Fatalf("%q: offset %d read back as %d", s, off1, off2)
		}
		if marshal(back) != out {
			t.Fatalf("%q: written twice differently: %s, %s", s, out, marshal(back))
		}
	})
	// Not a string: refused.
	for _, v := range []any{nil, 42, 1.5, true, []any{"2016-01-06T10:59:12Z"}, map[string]any{}} {
		if _, err := UnmarshalDateTime(v); err == nil {
			f.Fatalf("UnmarshalDateTime(%#v) accepted", v)
		}
	}
}
