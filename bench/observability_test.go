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
	if len(res.Noise[graphQL][4]) != o.Rounds || len(res.Noise[legacyV2][1]) != o.Rounds {
		t.Errorf("noise rounds %d and %d, want %d each: the off side again loads every round", len(res.Noise[graphQL][4]), len(res.Noise[legacyV2][1]), o.Rounds)
	}
	for _, want := range []string{"| on ÷ off (median) | cost | target ≤ 5% | noise |", "| GraphQL me{chats{user{grade}}} | 1 |", "| GraphQL me{chats{user{grade}}} | 4 |", "| legacy POST /op/v2/receives | 1 |", "| legacy POST /op/v2/receives | 4 |",
		"| GraphQL me{chats{user{grade}}} | off again |", "| legacy POST /op/v2/receives | on |",
		"| legacy POST /op/v2/receives | on, spans converted to OTLP |"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks the row %s:\n%s", want, report)
		}
	}
}

// BenchmarkObservability is what the metrics, the access log and tracing
// cost a request in-process, by endpoint and side, over random OPs of
// the benchmark data: go test -run '^$' -bench Observability -benchmem ./bench
func BenchmarkObservability(b *testing.B) {
	ds := benchDataset(b)
	doors := map[endpoint]string{graphQL: "graphql", legacyV2: "legacy"}
	for _, s := range []struct {
		name          string
		metricsAndLog bool
		tracing       tracingSide
	}{{"off", false, untraced}, {"metrics_and_log", true, untraced}, {"on", true, noopExporter}, {"on_otlp", true, otlpConverted}} {
		o, err := startObserved(context.Background(), ds, b.TempDir(), s.name, s.metricsAndLog, s.tracing)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(o.close)
		for _, ep := range []endpoint{graphQL, legacyV2} {
			c := newCaller(ep, ds, ds.OPs)
			b.Run(doors[ep]+"/"+s.name, func(b *testing.B) { benchRequests(b, c, o.app.Handler, ds.OPs) })
		}
	}
}
