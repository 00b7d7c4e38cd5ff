package plan

import (
	"strconv"
	"time"

	"opfacade/model"
)

// The JSON of values, byte for byte as gqlgen's marshalers write them
// (graphql.MarshalString and its kin, scalar.MarshalDateTime).

const hexDigits = "0123456789ABCDEF"

// appendString quotes s as graphql.MarshalString does: quote, backslash
// and control characters escaped, everything else, invalid UTF-8
// included, as it is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		case '\\', '"':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendNullableString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// appendDateTime writes t as scalar.MarshalDateTime does.
func appendDateTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendRole and appendChatStatus write an enum value by its name: the
// empty string for a value the schema does not have, as gqlgen's
// marshalers do.
func appendRole(b []byte, r model.StaffRole) []byte {
	switch r {
	case model.StaffRoleOP, model.StaffRoleAdmin:
		return appendString(b, string(r))
	}
	return append(b, `""`...)
}

func appendChatStatus(b []byte, s model.ChatStatus) []byte {
	switch s {
	case model.ChatStatusWait, model.ChatStatusService, model.ChatStatusClosed, model.ChatStatusUnknown:
		return appendString(b, string(s))
	}
	return append(b, `""`...)
}
