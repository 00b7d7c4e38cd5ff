package metrics

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// register registers c with reg, or returns the collector registered
// there already under the same name and labels: a second handler built
// over one registry (tests, benchmarks) shares the first one's series.
// Any other refusal is a wiring bug: the metric's name, help or labels
// clash with another's.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	if err != nil {
		panic("metrics: " + err.Error())
	}
	return c
}

// Other is the label value that stands for every value a label is not
// allowed to take: an operation the facade does not know, or one past
// the most distinct values a label keeps.
const Other = "other"

// children caches the series of a vector by key, so that a request
// resolves its labels once per distinct key and allocates nothing after
// that. It makes at most max series and other's; past max, a new key
// gets other's, so that no input grows the series without bound.
type children[K comparable, M any] struct {
	mu    sync.RWMutex
	m     map[K]M
	max   int
	other K
	make  func(K) M
}

func newChildren[K comparable, M any](max int, other K, make func(K) M) *children[K, M] {
	return &children[K, M]{m: map[K]M{}, max: max, other: other, make: make}
}

// get returns k's series, made on first use.
func (c *children[K, M]) get(k K) M {
	c.mu.RLock()
	m, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.m[k]; ok {
		return m
	}
	if len(c.m) >= c.max {
		if m, ok := c.m[c.other]; ok {
			return m
		}
		k = c.other
	}
	m = c.make(k)
	c.m[k] = m
	return m
}
