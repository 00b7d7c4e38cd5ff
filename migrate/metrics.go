package migrate

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the migration's Prometheus metrics.
type metrics struct {
	// shadow counts sampled receives calls by result (match, mismatch,
	// skipped, error).
	shadow *prometheus.CounterVec
	// upstreamFailures counts the requests answered 服务繁忙 because the
	// old service did not answer.
	upstreamFailures prometheus.Counter
}

// The metrics' names, as the README documents them.
const (
	ShadowMetric           = "opfacade_legacy_shadow_total"
	UpstreamFailuresMetric = "opfacade_legacy_upstream_failures_total"
)

// newMetrics registers the metrics with reg, or takes those registered
// there already (a second handler over the same registry). A registry
// that refuses them leaves them unserved, and says so in the log.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) metrics {
	shadow := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: ShadowMetric,
		Help: "Receives calls sampled for the shadow comparison with the other side (-legacy-shadow), by result: match, mismatch (logged with the JSON paths that differ), skipped (the queue was full, or the call cannot be replayed), error (a side did not answer, or not in JSON).",
	}, []string{"result"})
	failures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: UpstreamFailuresMetric,
		Help: "Requests on the legacy v2 path answered 服务繁忙 because the old service (-legacy-upstream) could not be reached or did not start answering in time.",
	})
	m := metrics{shadow: register(reg, log, shadow), upstreamFailures: register(reg, log, failures)}
	for _, r := range []string{resultMatch, resultMismatch, resultSkipped, resultError} {
		m.shadow.WithLabelValues(r) // present at 0 before the first call
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, log *slog.Logger, c C) C {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
	case errors.As(err, &already):
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	default:
		log.Error("a legacy migration metric could not be registered; it is not served", "err", err)
	}
	return c
}
