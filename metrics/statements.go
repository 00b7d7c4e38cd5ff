package metrics

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/domain"
	"opfacade/store"
)

// Statements are the metrics of the store's SQL statements and batched
// lookups, told by the store (store.Options.Observer and Batches):
//
//	opfacade_sql_statements_total{statement,outcome}       counter: statements run, by name and outcome class
//	opfacade_sql_statement_duration_seconds{statement}     histogram: how long they took, waiting for a connection included
//	opfacade_batch_keys{lookup}                            histogram: keys per batched lookup (users by ids, grades by user ids, staff by ids)
//
// statement and lookup are the store's fixed names ("chats by staff"),
// never SQL. outcome is ok, or the failure's class: unreachable,
// timed_out, access_denied, schema_wrong (see store.Fault), canceled (the
// caller went away), error (anything else).
type Statements struct {
	durations *children[string, prometheus.Observer]
	counts    *children[statementKey, prometheus.Counter]
	batches   *children[string, prometheus.Observer]
}

var (
	_ store.Observer      = (*Statements)(nil)
	_ store.BatchObserver = (*Statements)(nil)
)

// The outcome classes of a statement that did not fail for a fault of
// the database's.
const (
	outcomeOK       = "ok"
	outcomeCanceled = "canceled"
	outcomeError    = "error"
)

// maxStatements bounds the statement names kept; the store has about a
// dozen.
const maxStatements = 64

// NewStatements registers the statements' metrics with reg.
func NewStatements(reg prometheus.Registerer) *Statements {
	total := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "sql_statements_total",
		Help:      "SQL statements the store ran, by name and outcome: ok, or unreachable, timed_out, access_denied, schema_wrong, canceled (the caller went away), error.",
	}, []string{"statement", "outcome"}))
	durations := register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "sql_statement_duration_seconds",
		Help:      "SQL statements by how long they took, waiting for a connection and reading every row included, by name.",
		Buckets:   []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"statement"}))
	batches := register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "batch_keys",
		Help:      "Keys asked for by each batched lookup of the store (the request loaders' batches, and the lists that prime them), by lookup.",
		Buckets:   []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000},
	}, []string{"lookup"}))
	return &Statements{
		durations: newChildren(maxStatements, Other, func(name string) prometheus.Observer {
			return durations.WithLabelValues(name)
		}),
		counts: newChildren(maxStatements*8, statementKey{Other, outcomeError}, func(k statementKey) prometheus.Counter {
			return total.WithLabelValues(k.name, k.outcome)
		}),
		batches: newChildren(maxStatements, Other, func(name string) prometheus.Observer {
			return batches.WithLabelValues(name)
		}),
	}
}

type statementKey struct{ name, outcome string }

// StatementStarts has nothing to note: the store times the statement.
func (s *Statements) StatementStarts(ctx context.Context, _ string) context.Context { return ctx }

// StatementEnds observes how long the statement name took and counts it
// by its outcome.
func (s *Statements) StatementEnds(_ context.Context, name string, took time.Duration, err error) {
	s.durations.get(name).Observe(took.Seconds())
	s.counts.get(statementKey{name, outcome(err)}).Inc()
}

// Batch observes a batched lookup of keys.
func (s *Statements) Batch(name string, keys int) {
	s.batches.get(name).Observe(float64(keys))
}

// outcome is the class of a statement's end.
func outcome(err error) string {
	switch {
	case err == nil:
		return outcomeOK
	case store.FaultOf(err) != "":
		return strings.ReplaceAll(string(store.FaultOf(err)), " ", "_")
	case errors.Is(err, context.Canceled) && domain.Code(err) == domain.EUNAVAILABLE:
		return outcomeCanceled
	}
	return outcomeError
}
