package datetime

import (
	"testing"
	"time"
)

func zones(t testing.TB) []*time.Location {
	t.Helper()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return []*time.Location{time.UTC, sh, ny}
}

// sameParse fails t unless Parse answers s as time.ParseInLocation does.
func sameParse(t *testing.T, s string, loc *time.Location) {
	t.Helper()
	got, gotErr := Parse(s, loc)
	want, wantErr := time.ParseInLocation(Layout, s, loc)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("Parse(%q, %v): error %v, want %v", s, loc, gotErr, wantErr)
	}
	if !got.Equal(want) || got.Location() != want.Location() || got.String() != want.String() {
		t.Fatalf("Parse(%q, %v) = %v, want %v", s, loc, got, want)
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{
		"2016-01-06 10:59:12",
		"2026-11-30 00:00:00",
		"0000-01-01 00:00:00",
		"9999-12-31 23:59:59",
		"2024-02-29 12:00:00", // leap year
		"2000-02-29 12:00:00", // leap: divisible by 400
		"1900-02-29 12:00:00", // not leap: divisible by 100
		"2023-02-29 12:00:00",
		"2023-04-30 12:00:00",
		"2023-04-31 12:00:00", // April has 30 days
		"2023-08-31 12:00:00",
		"2023-09-31 12:00:00",
		"2023-12-31 12:00:00",
		"2023-13-01 12:00:00",
		"2023-00-01 12:00:00",
		"2023-01-00 12:00:00",
		"2023-01-01 24:00:00",
		"2023-01-01 23:60:00",
		"2023-01-01 23:59:60",
		"2026-03-08 02:30:00", // a New York wall clock that does not exist
		"2026-11-01 01:30:00", // one that exists twice
		"2016-01-06 10:59:12.5",
		"2016-01-06 10:59:12.123456789",
		"2016-01-06T10:59:12",
		"2016-01-06 10:59",
		"2016-1-06 10:59:12",
		"+016-01-06 10:59:12",
		"-016-01-06 10:59:12",
		"2016-01-06 1:59:12 ",
		"2016-01-06  10:59:1",
		"２０16-01-06 10:59:12",
		"2016-01-06 10:59:1x",
		"",
	} {
		for _, loc := range zones(t) {
			sameParse(t, s, loc)
		}
	}
}

func TestAppend(t *testing.T) {
	for _, loc := range zones(t) {
		for _, tm := range []time.Time{
			time.Date(2016, 1, 6, 10, 59, 12, 0, loc),
			time.Date(2016, 1, 6, 10, 59, 12, 999999999, loc),
			time.Date(0, 1, 1, 0, 0, 0, 0, loc),
			time.Date(9999, 12, 31, 23, 59, 59, 0, loc),
			time.Date(10000, 1, 1, 0, 0, 0, 0, loc),
			time.Date(-1, 12, 31, 23, 59, 59, 0, loc),
			time.Date(123, 4, 5, 6, 7, 8, 0, loc),
			{},
		} {
			want := string(tm.AppendFormat([]byte("x"), Layout))
			if got := string(Append([]byte("x"), tm)); got != want {
				t.Errorf("Append(%v) = %q, want %q", tm, got, want)
			}
		}
	}
}

// FuzzParse checks Parse against time.ParseInLocation on any text.
func FuzzParse(f *testing.F) {
	f.Add("2016-01-06 10:59:12")
	f.Add("2024-02-29 23:59:59")
	f.Add("2016-01-06 10:59:12.5")
	locs := zones(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range locs {
			sameParse(t, s, loc)
		}
	})
}

// FuzzAppend checks Append against time.Time.AppendFormat on any instant.
func FuzzAppend(f *testing.F) {
	f.Add(int64(1452049152), int64(0))
	f.Add(int64(-62167219200), int64(999999999))
	f.Add(int64(253402300799), int64(1))
	locs := zones(f)
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		for _, loc := range locs {
			tm := time.Unix(sec, nsec).In(loc)
			if got, want := string(Append(nil, tm)), tm.Format(Layout); got != want {
				t.Fatalf("Append(%v) = %q, want %q", tm, got, want)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	loc := zones(b)[1]
	for b.Loop() {
		_, _ = Parse("2016-01-06 10:59:12", loc)
	}
}

func BenchmarkAppend(b *testing.B) {
	tm := time.Date(2016, 1, 6, 10, 59, 12, 0, zones(b)[1])
	buf := make([]byte, 0, 32)
	for b.Loop() {
		buf = Append(buf[:0], tm)
	}
}
