package legacy

import "unicode/utf8"

// appendString quotes s as encoding/json does with HTML escaping off,
// which the v2 answers were written with: quote, backslash and control
// characters escaped (\b \f \n \r \t by name), invalid UTF-8 as U+FFFD,
// U+2028 and U+2029 escaped; everything else, <, > and & included, as it
// is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		if i+2 < len(s) && threeByte(c, s[i+1], s[i+2]) {
			i += 3 // most text past ASCII (CJK), written as it is
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// threeByte reports whether c, c1, c2 encode, as valid UTF-8, a rune
// from U+0800 to U+FFFF that is written as it is: not a surrogate, and
// not U+2028 or U+2029.
func threeByte(c, c1, c2 byte) bool {
	if c < 0xe0 || c > 0xef || c1&0xc0 != 0x80 || c2&0xc0 != 0x80 {
		return false
	}
	switch c {
	case 0xe0:
		return c1 >= 0xa0 // not overlong
	case 0xed:
		return c1 < 0xa0 // not a surrogate
	case 0xe2:
		return c1 != 0x80 || c2&^1 != 0xa8 // not U+2028, U+2029
	}
	return true
}
