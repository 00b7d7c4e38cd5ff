// Package scalar implements the schema's custom scalars for gqlgen.
package scalar

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalDateTime writes t in RFC 3339 with its own offset, so a platform
// time read in Asia/Shanghai shows as e.g. 2016-01-06T10:59:12+08:00.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		b := make([]byte, 0, len(time.RFC3339)+2)
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339)
		b = append(b, '"')
		_, _ = w.Write(b)
	})
}

// UnmarshalDateTime reads an RFC 3339 string. The offset is required: a
// time without one would be ambiguous.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("DateTime must be an RFC 3339 string, got %T", v)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("DateTime must be RFC 3339 with an offset, e.g. 2016-01-06T10:59:12+08:00: got %s", strconv.Quote(s))
	}
	return t, nil
}
