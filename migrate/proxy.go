package migrate

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/httpguard"
)

// newTransport holds the connections to the old service. It goes there
// directly, whatever HTTP_PROXY says, and leaves bodies as they are sent
// (no gzip asked for or undone), so answers pass byte for byte.
func newTransport(t Tuning) *http.Transport {
	dialer := &net.Dialer{Timeout: t.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   t.DialTimeout,
		ResponseHeaderTimeout: t.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// newProxy passes requests to the old service, and only there: the
// target is fixed, whatever the request names (an absolute URI, a Host
// header). Method, path, query, body, the end-to-end headers and the
// status pass unchanged; hop-by-hop headers are dropped both ways;
// X-Forwarded-For gets the caller's address appended, X-Forwarded-Host
// and -Proto say what the caller asked for, and Host is the old
// service's. flush is the ReverseProxy's FlushInterval. When the old
// service does not answer, the error is recorded in the request's
// outcome (if any), then failed handles the request.
func (m *Migration) newProxy(transport http.RoundTripper, flush time.Duration, failed func(http.ResponseWriter, *http.Request, error)) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:       rewrite(m.cfg.Upstream),
		Transport:     transport,
		FlushInterval: flush,
		ErrorLog:      slog.NewLogLogger(m.cfg.Log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if o, ok := r.Context().Value(outcomeKey{}).(*outcome); ok {
				o.err = err
			}
			failed(w, r, err)
		},
	}
}

// proxyFailed is the callers' proxy's answer when the old service cannot
// be reached, or does not start answering in time: 服务繁忙, the failure
// counted. Bodies stream both ways (FlushInterval -1), each read of the
// answer flushed to the caller at once.
func (m *Migration) proxyFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() == nil { // a caller gone is no fault of the old service
		m.failing.note(err)
	}
	m.cfg.Answers.Unavailable(w, r)
}

func rewrite(target *url.URL) func(*httputil.ProxyRequest) {
	return func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		pr.SetXForwarded()
	}
}

// outcome tells a caller of a proxy that the old service did not answer
// (the proxy's error), in the request's context.
type outcome struct{ err error }

type outcomeKey struct{}

// forward passes r on after the body limit: a body declared longer is
// refused before the old service is asked; one of unknown length
// (chunked) is read up to the limit first, so that the old service never
// sees a part of a request the facade refuses. A body of known length
// streams.
func (m *Migration) forward(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.ContentLength > m.cfg.MaxBody:
		m.cfg.Answers.TooLarge(w, r)
	case r.ContentLength < 0:
		m.readBody(w, r, m.proxy)
	default:
		m.proxy.ServeHTTP(w, r)
	}
}

// readBody reads r's body whole, within the limit, and passes r on to
// next with its length known.
func (m *Migration) readBody(w http.ResponseWriter, r *http.Request, next http.Handler) {
	httpguard.ReadBody(m.cfg.MaxBody, m.cfg.Answers.TooLarge, m.cfg.Answers.Unreadable, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ContentLength = int64(len(httpguard.Body(r)))
		r.TransferEncoding = nil
		next.ServeHTTP(w, r)
	})).ServeHTTP(w, r)
}

// failures counts the requests the old service did not answer, and logs
// them at most once every 10 seconds: an outage is one line, then one a
// period with the count since, never a line a request.
type failures struct {
	log      *slog.Logger
	counter  prometheus.Counter
	throttle throttle
}

func (f *failures) note(err error) {
	f.counter.Inc()
	if n, ok := f.throttle.allow(); ok {
		f.log.Warn("the legacy upstream did not answer; answered 服务繁忙", "failures", n, "err", safeError(err))
	}
}

// safeError is err without the request's URL, whose query may hold a
// token and a signature.
func safeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}
