package metrics

import (
	"database/sql"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// NewDBPoolCollector reports the statistics of the database pool that
// pool returns, read at each scrape (database/sql's DBStats):
//
//	opfacade_db_connections{state="in_use"|"idle"}  gauge: connections by state; their sum is the open ones
//	opfacade_db_connections_max                      gauge: the most the pool may open (0: no limit)
//	opfacade_db_wait_total                           counter: times a statement waited for a connection, the pool at its maximum
//	opfacade_db_wait_seconds_total                   counter: the time those waits took
//	opfacade_db_connections_closed_total{reason="max_idle"|"max_idle_time"|"max_lifetime"}
//	                                                 counter: connections closed by the pool's limits
//
// pool is called at every scrape because the pool may change: a SQLite
// store opens a new one when its file is replaced. The counters carry on
// across such a change, the replaced pool's final counts added to the new
// one's (a pool replaced and replaced again between two scrapes loses the
// middle one's counts), so they only fall when the process restarts.
func NewDBPoolCollector(pool func() *sql.DB) prometheus.Collector {
	return &dbPool{pool: pool}
}

var (
	dbConnectionsDesc = prometheus.NewDesc(Namespace+"_db_connections",
		"Connections of the database pool, by state: in_use by a statement or a transaction, or idle; their sum is the open connections.",
		[]string{"state"}, nil)
	dbConnectionsMaxDesc = prometheus.NewDesc(Namespace+"_db_connections_max",
		"The most connections the database pool may open (-db-max-open, or the engine's default); 0 for no limit.",
		nil, nil)
	dbWaitDesc = prometheus.NewDesc(Namespace+"_db_wait_total",
		"Times a statement waited for a database connection because the pool had its most open, all in use.",
		nil, nil)
	dbWaitSecondsDesc = prometheus.NewDesc(Namespace+"_db_wait_seconds_total",
		"Seconds statements waited for a database connection, all waits added up.",
		nil, nil)
	dbClosedDesc = prometheus.NewDesc(Namespace+"_db_connections_closed_total",
		"Connections the database pool closed by its limits: max_idle (more idle than -db-max-idle), max_idle_time, or max_lifetime (-db-conn-lifetime).",
		[]string{"reason"}, nil)
)

// dbPool is the collector NewDBPoolCollector returns.
type dbPool struct {
	pool func() *sql.DB

	mu   sync.Mutex
	last *sql.DB     // the pool of the previous scrape
	base sql.DBStats // the counts of the pools replaced before last
}

func (c *dbPool) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbConnectionsDesc, dbConnectionsMaxDesc, dbWaitDesc, dbWaitSecondsDesc, dbClosedDesc} {
		ch <- d
	}
}

func (c *dbPool) Collect(ch chan<- prometheus.Metric) {
	s, ok := c.stats()
	if !ok {
		return
	}
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(dbConnectionsDesc, s.InUse, "in_use")
	gauge(dbConnectionsDesc, s.Idle, "idle")
	gauge(dbConnectionsMaxDesc, s.MaxOpenConnections)
	counter(dbWaitDesc, float64(s.WaitCount))
	counter(dbWaitSecondsDesc, s.WaitDuration.Seconds())
	counter(dbClosedDesc, float64(s.MaxIdleClosed), "max_idle")
	counter(dbClosedDesc, float64(s.MaxIdleTimeClosed), "max_idle_time")
	counter(dbClosedDesc, float64(s.MaxLifetimeClosed), "max_lifetime")
}

// stats reads the current pool's statistics, its counters carried on
// from the pools it replaced; false when there is no pool.
func (c *dbPool) stats() (sql.DBStats, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	db := c.pool()
	if db == nil {
		return sql.DBStats{}, false
	}
	if c.last != nil && c.last != db {
		// The replaced pool is closed, and its counts final: a closed
		// pool still reports them.
		c.base = addCounts(c.base, c.last.Stats())
	}
	c.last = db
	return addCounts(c.base, db.Stats()), true
}

// addCounts is s with base's counters added; the gauges are s's.
func addCounts(base, s sql.DBStats) sql.DBStats {
	s.WaitCount += base.WaitCount
	s.WaitDuration += base.WaitDuration
	s.MaxIdleClosed += base.MaxIdleClosed
	s.MaxIdleTimeClosed += base.MaxIdleTimeClosed
	s.MaxLifetimeClosed += base.MaxLifetimeClosed
	return s
}
