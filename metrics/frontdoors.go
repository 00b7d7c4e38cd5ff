package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/accesslog"
	"opfacade/httpguard"
)

// FrontDoors are the metrics of the requests at the front doors, told by
// their access logs (accesslog.Recorder):
//
//	opfacade_request_duration_seconds{door,operation,code}  histogram: requests by how long they took
//	opfacade_requests_in_flight{door}                       gauge: requests being served
//	opfacade_streams_open{transport}                        gauge: live streams open
//	opfacade_limit_refusals_total{door,limit}               counter: requests a limit refused
//
// operation is bounded: a GraphQL operation the facade knows by name (the
// consoles' documents, the trusted documents), Other for any other or
// none, LegacyOperation on the legacy path, StreamOperation for a live
// stream (a WebSocket, an event stream), which is counted when it ends
// and, while open, among the streams rather than the requests in flight.
// code is GraphQL's extensions.code of the answer's first error (of a
// stream, the error that ended it), OK without errors; or the legacy
// envelope's code, a number.
type FrontDoors struct {
	durations *prometheus.HistogramVec
	inFlight  *prometheus.GaugeVec
	streams   *prometheus.GaugeVec
	refusals  *prometheus.CounterVec
	known     map[string]bool
}

// StreamOperation is the operation of a live stream.
const StreamOperation = "subscription"

// OK is the code of a GraphQL answer without errors.
const OK = "OK"

// LegacyOperation is the operation of every request on the legacy path.
const LegacyOperation = "receives"

// The most distinct operation and code pairs a door keeps series for
// (far more than it meets), and the most operations a manifest may
// name; past them, Other.
const (
	maxRequestSeries = 256
	maxOperations    = 100
)

// NewFrontDoors registers the front doors' metrics with reg. operations
// are the GraphQL operations to count by name; any other is Other.
func NewFrontDoors(reg prometheus.Registerer, operations []string) *FrontDoors {
	f := &FrontDoors{
		durations: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "request_duration_seconds",
			Help:      "Requests at the front doors by how long they took, from arrival to answer: door (graphql, legacy), operation (a known GraphQL operation's name, other, or receives on the legacy path) and code (GraphQL's extensions.code of the first error or OK; the legacy envelope's code).",
			// From a refusal's quarter millisecond to the deadline's seconds.
			Buckets: []float64{.00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"door", "operation", "code"})),
		inFlight: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "requests_in_flight",
			Help:      "Requests at the front doors being served now, by door; live streams are counted apart (streams_open).",
		}, []string{"door"})),
		streams: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "streams_open",
			Help:      "Live streams open now, by transport: websocket (a WebSocket, however many subscriptions it carries), sse (an event stream).",
		}, []string{"transport"})),
		refusals: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "limit_refusals_total",
			Help:      "Requests refused by a limit, by door and limit: token_rate, client_rate, body, tokens, depth, fields, complexity, timeout (work past the request deadline).",
		}, []string{"door", "limit"})),
		known: map[string]bool{},
	}
	for _, op := range operations {
		if len(f.known) < maxOperations && op != "" {
			f.known[cut(op)] = true
		}
	}
	return f
}

// cut is an operation's name as the access log notes it.
func cut(op string) string {
	if len(op) > accesslog.MaxOperation {
		return op[:accesslog.MaxOperation]
	}
	return op
}

// Door is the recorder of the requests at door (accesslog.GraphQL or
// accesslog.Legacy); nil when f is nil, which records nothing.
func (f *FrontDoors) Door(door string) accesslog.Recorder {
	if f == nil {
		return nil
	}
	d := &doorRecorder{
		inFlight: f.inFlight.WithLabelValues(door),
		streams:  map[string]prometheus.Gauge{},
		refusals: map[string]prometheus.Counter{},
		known:    f.known,
		legacy:   door == accesslog.Legacy,
	}
	durations := f.durations.MustCurryWith(prometheus.Labels{"door": door})
	d.series = newChildren(maxRequestSeries, outcomeKey{op: Other, code: Other}, func(k outcomeKey) prometheus.Observer {
		return durations.WithLabelValues(k.op, k.label())
	})
	for _, l := range httpguard.Limits() {
		d.refusals[l] = f.refusals.WithLabelValues(door, l) // each at 0 from the start, for rate()
	}
	if d.legacy {
		d.series.get(outcomeKey{op: LegacyOperation, num: 200})
	} else {
		for _, t := range []string{accesslog.WebSocket, accesslog.SSE} {
			d.streams[t] = f.streams.WithLabelValues(t) // at 0 from the start
		}
		for op := range f.known {
			d.series.get(outcomeKey{op: op, code: OK})
		}
	}
	return d
}

// doorRecorder records one door's requests.
type doorRecorder struct {
	inFlight prometheus.Gauge
	streams  map[string]prometheus.Gauge // by transport; read only
	series   *children[outcomeKey, prometheus.Observer]
	refusals map[string]prometheus.Counter // by limit; read only
	known    map[string]bool               // read only
	legacy   bool
}

// outcomeKey is a request's labels: its operation, and its code, a
// GraphQL code or else a legacy number.
type outcomeKey struct {
	op, code string
	num      int
}

func (k outcomeKey) label() string {
	if k.code != "" {
		return k.code
	}
	return strconv.Itoa(k.num)
}

func (d *doorRecorder) Begin() { d.inFlight.Inc() }

// Streaming moves a request that became a stream from the requests in
// flight to the streams open.
func (d *doorRecorder) Streaming(transport string) {
	if g, ok := d.streams[transport]; ok {
		d.inFlight.Dec()
		g.Inc()
	}
}

func (d *doorRecorder) End(r accesslog.Request) {
	if g, ok := d.streams[r.Stream]; ok {
		g.Dec()
	} else {
		d.inFlight.Dec()
	}
	d.series.get(d.key(r)).Observe(r.Duration.Seconds())
	if c, ok := d.refusals[r.Outcome.Limit]; ok {
		c.Inc()
	}
}

// key is the labels of r: its operation bounded, its code as a label.
func (d *doorRecorder) key(r accesslog.Request) outcomeKey {
	if d.legacy {
		return outcomeKey{op: LegacyOperation, num: r.Outcome.Num}
	}
	k := outcomeKey{op: Other, code: OK}
	switch {
	case d.streams[r.Stream] != nil:
		k.op = StreamOperation
	case d.known[r.Operation]:
		k.op = r.Operation
	}
	if c := r.Outcome.Text; c != "" {
		k.code = Other
		if isCode(c) {
			k.code = c
		}
	}
	return k
}

// isCode reports whether s looks like an extensions.code: capitals and
// underscores, at most 64 of them.
func isCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '_' && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
