package app

import (
	"opfacade/documents"
	"opfacade/metrics"
	"opfacade/store"
)

// StoreOptions are the options the store opens with: c.Store with c's
// zone, clock and log, and the statements' spans when c.Tracing is set
// and metrics when c.Metrics is, told beside whatever observers c.Store
// has.
func (c Config) StoreOptions() store.Options {
	c = c.withDefaults()
	opt := c.Store
	opt.Zone, opt.Now, opt.Log = c.Zone, c.Now, c.Log
	if c.Tracing != nil { // first, so that the metrics see the statement's span
		opt.Observer = withObserver(opt.Observer, c.statementSpans())
	}
	if c.Metrics == nil {
		return opt
	}
	m := metrics.NewStatements(c.Metrics)
	opt.Observer = withObserver(opt.Observer, m)
	opt.Batches = m
	return opt
}

// withObserver is o told after the observers have names.
func withObserver(have, o store.Observer) store.Observer {
	switch t := have.(type) {
	case nil:
		return o
	case store.Observers:
		return append(t[:len(t):len(t)], o)
	}
	return store.Observers{have, o}
}

// frontDoorMetrics are the front doors' metrics when c.Metrics is set;
// nil, recording nothing, when not.
func (c Config) frontDoorMetrics() *metrics.FrontDoors {
	if c.Metrics == nil {
		return nil
	}
	return metrics.NewFrontDoors(c.Metrics, c.operations())
}

// operations are the GraphQL operations the facade knows by name: the
// consoles' documents, and the trusted documents when c names some. Only
// these are told apart in the metrics; a client names any other.
func (c Config) operations() []string {
	var ops []string
	for _, op := range documents.Consoles().Operations {
		ops = append(ops, op.Name)
	}
	if m := c.mustTrustedDocuments(); m != nil {
		for _, op := range m.Operations {
			ops = append(ops, op.Name)
		}
	}
	return ops
}
