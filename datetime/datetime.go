// Package datetime reads and writes the platform's DATETIME text,
// "2006-01-02 15:04:05", with the results of time.ParseInLocation and
// time.Time.AppendFormat under time.DateTime, in a fraction of their
// time: a chat list holds one per chat, and the general layout machinery
// costs about 250 ns a value each way.
package datetime

import "time"

// Layout is the platform's DATETIME layout.
const Layout = time.DateTime

// Parse reads s as time.ParseInLocation(Layout, s, loc) does, with the
// same result and the same error. Text exactly in the layout is read
// directly; anything else (a fraction of a second, a signed year, a date
// that does not exist) is left to the time package.
func Parse(s string, loc *time.Location) (time.Time, error) {
	if t, ok := parseExact(s, loc); ok {
		return t, nil
	}
	return time.ParseInLocation(Layout, s, loc)
}

func parseExact(s string, loc *time.Location) (time.Time, bool) {
	if len(s) != len(Layout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := number(s[0:4])
	month, ok2 := number(s[5:7])
	day, ok3 := number(s[8:10])
	hour, ok4 := number(s[11:13])
	minute, ok5 := number(s[14:16])
	second, ok6 := number(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, 0, loc), true
}

// number reads s, ASCII digits only.
func number(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month/8)%2 // 31 in January, March, May, July, August, October, December
}

// Append appends t as t.AppendFormat(b, Layout) does: its wall clock in
// its own location.
func Append(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, Layout)
	}
	hour, minute, second := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append2(b, int(month), '-')
	b = append2(b, day, ' ')
	b = append2(b, hour, ':')
	b = append2(b, minute, ':')
	return append(b, byte('0'+second/10), byte('0'+second%10))
}

// append2 appends n's two digits and then sep.
func append2(b []byte, n int, sep byte) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10), sep)
}
