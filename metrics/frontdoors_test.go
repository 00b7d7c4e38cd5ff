package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"opfacade/accesslog"
	"opfacade/httpguard"
)

// TestOperationsBounded: only the operations the facade knows are
// labels; any other name, or none, is other, and the legacy path is
// receives.
func TestOperationsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := NewFrontDoors(reg, []string{"MyChats", "Receives", strings.Repeat("L", 70)})
	gql, legacy := f.Door(accesslog.GraphQL), f.Door(accesslog.Legacy)
	for _, op := range []string{"MyChats", "MyChats", "Receives", "", "Who", "IntrospectionQuery", strings.Repeat("L", accesslog.MaxOperation)} {
		end(gql, accesslog.Request{Operation: op})
	}
	end(gql, accesslog.Request{Operation: "MyChats", Outcome: httpguard.Outcome{Text: "UNAUTHENTICATED"}})
	end(gql, accesslog.Request{Operation: "Who", Outcome: httpguard.Outcome{Text: "not a code"}})
	end(legacy, accesslog.Request{Outcome: httpguard.Outcome{Num: 200}})
	end(legacy, accesslog.Request{Outcome: httpguard.Outcome{Num: 401}})

	want := map[string]uint64{
		`code="OK",door="graphql",operation="MyChats"`:                                             2,
		`code="UNAUTHENTICATED",door="graphql",operation="MyChats"`:                                1,
		`code="OK",door="graphql",operation="Receives"`:                                            1,
		`code="OK",door="graphql",operation="other"`:                                               3,
		`code="other",door="graphql",operation="other"`:                                            1,
		`code="OK",door="graphql",operation="` + strings.Repeat("L", accesslog.MaxOperation) + `"`: 1,
		`code="200",door="legacy",operation="receives"`:                                            1,
		`code="401",door="legacy",operation="receives"`:                                            1,
	}
	got := histogramCounts(t, reg, "opfacade_request_duration_seconds")
	for labels, n := range want {
		if got[labels] != n {
			t.Errorf("%s: %d requests, want %d", labels, got[labels], n)
		}
	}
	for labels, n := range got {
		if _, ok := want[labels]; !ok && n != 0 {
			t.Errorf("unexpected series %s: %d requests", labels, n)
		}
	}
}

// TestSeriesBounded: however many codes clients provoke, a door keeps
// at most maxRequestSeries series; the rest count under other.
func TestSeriesBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	gql := NewFrontDoors(reg, nil).Door(accesslog.GraphQL)
	const n = 3 * maxRequestSeries
	for i := range n {
		code := strings.Repeat("A", 1+i%64) + strings.Repeat("B", i/64)
		end(gql, accesslog.Request{Outcome: httpguard.Outcome{Text: code}})
	}
	got := histogramCounts(t, reg, "opfacade_request_duration_seconds")
	var total uint64
	for _, c := range got {
		total += c
	}
	if len(got) > maxRequestSeries+1 || total != n || got[`code="other",door="graphql",operation="other"`] == 0 {
		t.Errorf("%d series counting %d requests, want at most %d counting %d, other among them", len(got), total, maxRequestSeries+1, n)
	}
}

// TestInFlightAndRefusals: the in-flight gauge counts requests begun and
// not ended, per door; each limit's refusals are counted per door, and
// every limit is there at 0 before its first refusal.
func TestInFlightAndRefusals(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := NewFrontDoors(reg, nil)
	gql, legacy := f.Door(accesslog.GraphQL), f.Door(accesslog.Legacy)
	gql.Begin()
	gql.Begin()
	legacy.Begin()
	if g, l := testutil.ToFloat64(f.inFlight.WithLabelValues("graphql")), testutil.ToFloat64(f.inFlight.WithLabelValues("legacy")); g != 2 || l != 1 {
		t.Errorf("in flight: graphql %v, legacy %v; want 2, 1", g, l)
	}
	gql.End(accesslog.Request{Outcome: httpguard.Outcome{Text: "DEPTH_LIMIT_EXCEEDED", Limit: httpguard.LimitDepth}})
	legacy.End(accesslog.Request{Outcome: httpguard.Outcome{Num: 503, Limit: httpguard.LimitClientRate}})
	gql.End(accesslog.Request{})
	if g, l := testutil.ToFloat64(f.inFlight.WithLabelValues("graphql")), testutil.ToFloat64(f.inFlight.WithLabelValues("legacy")); g != 0 || l != 0 {
		t.Errorf("in flight after the ends: graphql %v, legacy %v", g, l)
	}
	if n := testutil.CollectAndCount(f.refusals); n != 2*len(httpguard.Limits()) {
		t.Errorf("%d refusal series, want every limit on both doors: %d", n, 2*len(httpguard.Limits()))
	}
	for _, l := range httpguard.Limits() {
		for _, door := range []string{"graphql", "legacy"} {
			want := 0.0
			if door == "graphql" && l == httpguard.LimitDepth || door == "legacy" && l == httpguard.LimitClientRate {
				want = 1
			}
			if got := testutil.ToFloat64(f.refusals.WithLabelValues(door, l)); got != want {
				t.Errorf("refusals{door=%q,limit=%q} = %v, want %v", door, l, got, want)
			}
		}
	}
}

// TestSharedRegistry: two handlers over one registry share its series.
func TestSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	end(NewFrontDoors(reg, []string{"MyChats"}).Door(accesslog.GraphQL), accesslog.Request{Operation: "MyChats"})
	end(NewFrontDoors(reg, []string{"MyChats"}).Door(accesslog.GraphQL), accesslog.Request{Operation: "MyChats"})
	NewStatements(reg)
	NewStatements(reg)
	if got := histogramCounts(t, reg, "opfacade_request_duration_seconds")[`code="OK",door="graphql",operation="MyChats"`]; got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

// TestNilFrontDoors: without metrics the doors record nothing.
func TestNilFrontDoors(t *testing.T) {
	var f *FrontDoors
	if r := f.Door(accesslog.GraphQL); r != nil {
		t.Errorf("Door of nil: %v, want nil", r)
	}
}

// TestRecordingAllocatesNothing: once a request's labels have been seen,
// recording it allocates nothing.
func TestRecordingAllocatesNothing(t *testing.T) {
	gql := NewFrontDoors(prometheus.NewRegistry(), []string{"MyChats"}).Door(accesslog.GraphQL)
	r := accesslog.Request{Operation: "MyChats", Outcome: httpguard.Outcome{Text: "RATE_LIMITED", Limit: httpguard.LimitTokenRate}, Duration: time.Millisecond}
	end(gql, r)
	if n := testing.AllocsPerRun(100, func() { end(gql, r) }); n != 0 {
		t.Errorf("%v allocations a request", n)
	}
}

func end(r accesslog.Recorder, req accesslog.Request) {
	r.Begin()
	r.End(req)
}

// histogramCounts are the sample counts of the histogram name in reg, by
// its labels as the text format writes them.
func histogramCounts(t *testing.T, reg *prometheus.Registry, name string) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			out[strings.Join(labels, ",")] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}
