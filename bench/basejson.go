package main

import (
	"database/sql"
	"strconv"
)

// The baseline's JSON, appended by hand: strings escaped as JSON requires
// (quote, backslash, control characters), the rest as written.

const hexDigits = "0123456789abcdef"

func appendJSONString(o []byte, s string) []byte {
	o = append(o, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		o = append(o, s[start:i]...)
		switch c {
		case '"', '\\':
			o = append(o, '\\', c)
		case '\n':
			o = append(o, '\\', 'n')
		case '\r':
			o = append(o, '\\', 'r')
		case '\t':
			o = append(o, '\\', 't')
		default:
			o = append(o, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	o = append(o, s[start:]...)
	return append(o, '"')
}

func appendNullString(o []byte, s sql.NullString) []byte {
	if !s.Valid {
		return append(o, "null"...)
	}
	return appendJSONString(o, s.String)
}

func strconvAppendInt(o []byte, n int) []byte { return strconv.AppendInt(o, int64(n), 10) }

func strconvAppendBool(o []byte, v bool) []byte { return strconv.AppendBool(o, v) }
