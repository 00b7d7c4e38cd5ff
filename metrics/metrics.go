// Package metrics makes the server's Prometheus registry: the Go
// runtime's and the process's metrics, the build's version, and the
// database pool's statistics; and the facade's own, which app registers
// on it through app.Config.Metrics: the requests at the front doors, told
// by their access logs (FrontDoors), and the store's statements and
// batched lookups (Statements). The admin listener serves it at /metrics
// (see Handler).
//
// Every label takes values from a bounded set, whatever clients send, and
// a request's series are resolved once and cached, so that recording one
// allocates nothing.
package metrics

import (
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace starts the name of every metric of the facade's own.
const Namespace = "opfacade"

// NewRegistry returns a registry holding the Go collector, the process
// collector and opfacade_build_info. The server adds the database pool
// (NewDBPoolCollector) once the store is open.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(Version(), runtime.Version()),
	)
	return reg
}

// buildInfo is opfacade_build_info: 1, labelled with the version and the
// Go release the binary was built with, to join on or to count replicas
// by version.
func buildInfo(version, goVersion string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "build_info",
		Help:        "Always 1; its labels name the version of opfacade and the Go release it was built with.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion},
	})
	g.Set(1)
	return g
}

// Version is the version of the running binary: its main module's
// version as the go command stamped it (a tag, or a pseudo-version
// naming the commit, +dirty for uncommitted changes), else the VCS
// revision it was built from, else "devel" (go run, go test, a build
// outside a repository with -buildvcs=false).
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return "devel"
	case modified:
		return rev + "+dirty"
	}
	return rev
}

// Handler serves reg in Prometheus's exposition formats, counting its
// own scrapes (promhttp_metric_handler_requests_total) on reg. A
// collector's failure is logged, and the scrape answers 500.
func Handler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: reg,
	}))
}
