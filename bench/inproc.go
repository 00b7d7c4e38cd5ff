package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"opfacade/app"
	"testing"

	"opfacade/store"
)

// inProcess holds both handlers over one database file, for what is
// measured without a network in between: statements and allocations per
// request.
type inProcess struct {
	store  *store.Store
	facade http.Handler // both front doors, as the server mounts them
	// executor is the facade with -compiled=false: gqlgen's executor
	// answers every operation.
	executor http.Handler
	base     *baseline
	baseMux  http.Handler
}

func openInProcess(ctx context.Context, ds *dataset) (*inProcess, error) {
	cfg := facadeConfig()
	cfg.DB = ds.Path
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st, facade := a.Store, a.Handler
	b, err := newBaseline(ctx, ds.Path, platformZone(), benchHost)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	off := cfg
	off.Compiled = false
	return &inProcess{store: st, facade: facade, executor: app.Handler(st, off), base: b, baseMux: b.routes()}, nil
}

func (p *inProcess) Close() {
	_ = p.base.Close()
	_ = p.store.Close()
}

// side is one of the two servers in-process: its handler for an endpoint
// and its statement counter.
type side struct {
	handler    http.Handler
	statements func() int64
}

func (p *inProcess) facadeSide() side {
	return side{p.facade, p.store.Statements}
}

func (p *inProcess) baselineSide() side {
	return side{p.baseMux, p.base.statements.Load}
}

// serve runs one request through h and checks that it succeeded. Like a
// server's, the request's context can be cancelled: database/sql watches
// such a context in a goroutine per query, and both servers pay for that
// over the network, so they do here too.
func serve(c *caller, h http.Handler, token string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, c.request(ctx, "http://bench", token))
	if !c.ok(rec.Code, rec.Body.Bytes()) {
		return fmt.Errorf("%v: status %d: %.300s", c.ep, rec.Code, rec.Body.Bytes())
	}
	return nil
}

// statementsPerRequest is the mean number of SQL statements one request
// of each login costs.
func statementsPerRequest(c *caller, s side, logins []login) (float64, error) {
	before := s.statements()
	for _, l := range logins {
		if err := serve(c, s.handler, l.Token); err != nil {
			return 0, err
		}
	}
	return float64(s.statements()-before) / float64(len(logins)), nil
}

// benchRequests serves b.N requests through h, cycling through logins.
// bench_test.go runs it under go test -bench; the tool through
// testing.Benchmark.
func benchRequests(b *testing.B, c *caller, h http.Handler, logins []login) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := serve(c, h, logins[i%len(logins)].Token); err != nil {
			b.Fatal(err)
		}
	}
}
