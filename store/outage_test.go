package store

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestOutageLog replays statements as they end, each with the time it
// started, and checks the lines the outage log writes.
func TestOutageLog(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	type event struct {
		ok      bool
		started int // seconds after t0
		ended   int
	}
	tests := []struct {
		name   string
		events []event
		want   []string // the messages written, in order
	}{
		{"no outage, no line", []event{{true, 0, 1}, {true, 1, 2}}, nil},
		{"an outage: a line when it starts and one when it ends", []event{{false, 0, 1}, {false, 1, 2}, {true, 3, 4}},
			[]string{"database unavailable", "database available again"}},
		{"a summary each interval while it lasts", []event{{false, 0, 1}, {false, 5, 6}, {false, 10, 11}, {false, 20, 22}, {true, 30, 31}},
			[]string{"database unavailable", "database still unavailable", "database still unavailable", "database available again"}},
		{"a stuck statement failing late is old news", []event{{false, 0, 1}, {true, 5, 6}, {false, 2, 7}},
			[]string{"database unavailable", "database available again"}},
		{"a stuck statement succeeding late is old news", []event{{false, 5, 6}, {true, 1, 7}, {true, 8, 9}},
			[]string{"database unavailable", "database available again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := newOutageLog(slog.New(slog.NewTextHandler(&buf, nil)), "sqlite", 10*time.Second)
			for _, e := range tt.events {
				o.now = func() time.Time { return at(e.ended) }
				if e.ok {
					o.up(at(e.started))
				} else {
					o.down(at(e.started), errors.New("refused"))
				}
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if _, msg, ok := strings.Cut(l, `msg="`); ok {
					got = append(got, strings.SplitN(msg, `"`, 2)[0])
				}
			}
			for i := range got {
				got[i], _, _ = strings.Cut(got[i], ":")
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines %q, want %q\n%s", got, tt.want, buf.String())
			}
			// Each start and end is a change of state readiness notices.
			if n := uint64(len(got) - strings.Count(strings.Join(got, "|"), "still")); o.changes.Load() != n {
				t.Errorf("%d changes counted, want %d (the starts and ends)", o.changes.Load(), n)
			}
		})
	}
}
