package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestObservabilityComparison runs -observability on tiny data: the on
// side logs a line, counts a request and makes spans for every request
// it serves, and the off side none; the report has a row per endpoint
// and client count. No timing is judged.
func TestObservabilityComparison(t *testing.T) {
	o, err := parseOptions([]string{"-observability", "-short", "-cache", t.TempDir(), "-clients", "1,4"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := measureObservability(context.Background(), o, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Served == 0 || res.Lines < res.Served || res.Counted != res.Lines || res.Spans < res.Counted {
		t.Errorf("on side: %d requests measured, %d lines, %d counted, %d spans: want a line, a count and spans for each", res.Served, res.Lines, res.Counted, res.Spans)
	}
	report := res.markdown()
	for _, want := range []string{"| GraphQL me{chats{user{grade}}} | 1 |", "| GraphQL me{chats{user{grade}}} | 4 |", "| legacy POST /op/v2/receives | 1 |", "| legacy POST /op/v2/receives | 4 |"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks the row %s:\n%s", want, report)
		}
	}
}
