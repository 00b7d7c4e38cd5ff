package migrate

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	randv2 "math/rand/v2"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"opfacade/accesslog"
	"opfacade/httpguard"
)

// The results of a sampled receives call, the values of the result
// label of opfacade_legacy_shadow_total.
const (
	// resultMatch: both sides answered alike, as the contract sees it.
	resultMatch = "match"
	// resultMismatch: they differ; the log says where.
	resultMismatch = "mismatch"
	// resultSkipped: not compared, the queue being full (or the request
	// or answer being one that cannot be replayed or kept: a body the
	// facade refused, an answer over Tuning.MaxAnswer).
	resultSkipped = "skipped"
	// resultError: a side did not answer (unreachable, timed out), or
	// not with a JSON document.
	resultError = "error"
)

// shadow compares a share of receives calls with the other side's
// answer: the call is answered first, then queued; a few workers send
// its copy to the other side and compare. A full queue skips the
// comparison: the caller never waits for it. Only receives, a read, is
// ever shadowed, so the copy changes no data.
type shadow struct {
	rate    float64
	results *prometheus.CounterVec
	log     *slog.Logger
	timeout time.Duration
	// maxAnswer is the longest answer kept.
	maxAnswer int
	// primary answers the callers; other is asked for the copy.
	primary, otherName string
	other              http.Handler
	queue              queue
	errLog             throttle // the other side's failures, logged
}

func (m *Migration) newShadow(transport http.RoundTripper, results *prometheus.CounterVec) *shadow {
	s := &shadow{
		rate:      m.cfg.Shadow,
		results:   results,
		log:       m.cfg.Log,
		timeout:   m.cfg.Tuning.ShadowTimeout,
		maxAnswer: m.cfg.Tuning.MaxAnswer,
	}
	if m.cfg.Serve == ServeReceives {
		s.primary, s.otherName = "facade", "upstream"
		// The copy goes to the old service as a caller's request would.
		// Its failures are the shadow's to count, not the proxy's.
		s.other = m.newProxy(transport, 0, func(http.ResponseWriter, *http.Request, error) {})
	} else {
		s.primary, s.otherName = "upstream", "facade"
		s.other = m.cfg.Receives
	}
	s.queue = queue{size: m.cfg.Tuning.ShadowQueue, workers: m.cfg.Tuning.ShadowWorkers, run: s.compare}
	return s
}

func (s *shadow) sample() bool { return s.rate >= 1 || randv2.Float64() < s.rate }

func (s *shadow) count(result string) { s.results.WithLabelValues(result).Inc() }

// shadowed serves receives with a share of the calls shadowed.
func (m *Migration) shadowed(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !m.shadow.sample() {
		m.serveReceives(w, r)
		return
	}
	req := copyRequest(r)
	tee := &tee{ResponseWriter: w, capture: capture{max: m.cfg.Tuning.MaxAnswer}}
	body, failed := m.serveTee(tee, r)
	switch {
	case failed: // the old service did not answer: the proxy counted and logged it
		m.shadow.count(resultError)
		return
	case body == nil || tee.over:
		m.shadow.log.Debug("legacy shadow: call not compared: its body was refused, or its answer is too long to keep", "request_id", req.id)
		m.shadow.count(resultSkipped)
		return
	}
	req.body = body
	if !m.shadow.queue.offer(&job{req: req, primary: tee.answer()}) {
		m.shadow.count(resultSkipped)
	}
}

// serveReceives answers receives as Serve says.
func (m *Migration) serveReceives(w http.ResponseWriter, r *http.Request) {
	if m.cfg.Serve == ServeReceives {
		m.cfg.Receives.ServeHTTP(w, r)
		return
	}
	m.forward(w, r)
}

// serveTee answers r through tee, and returns its body when it was read
// whole (nil when it was refused); failed says that the old service, as
// primary, did not answer, so that there is nothing to compare.
func (m *Migration) serveTee(tee *tee, r *http.Request) (body []byte, failed bool) {
	if m.cfg.Serve == ServeReceives {
		// The legacy guard reads the body whole and leaves it in r
		// (httpguard.Body); when it refuses the body (too large, not
		// readable), r.Body is still the one it was given.
		given := &watchedBody{r.Body}
		r.Body = given
		m.cfg.Receives.ServeHTTP(tee, r)
		if r.Body != io.ReadCloser(given) {
			body = nonNil(httpguard.Body(r))
		}
		return body, false
	}
	if r.ContentLength > m.cfg.MaxBody {
		m.cfg.Answers.TooLarge(tee, r)
		return nil, false
	}
	o := &outcome{}
	r = r.WithContext(context.WithValue(r.Context(), outcomeKey{}, o))
	m.readBody(tee, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body = nonNil(httpguard.Body(r))
		m.proxy.ServeHTTP(w, r)
	}))
	return body, o.err != nil
}

// watchedBody marks a request body, to tell whether a handler replaced it.
type watchedBody struct{ io.ReadCloser }

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// request is what a receives call's copy is made from: the call as it
// came, its hop-by-hop headers dropped, and its body as read.
type request struct {
	id               string
	method           string
	url              url.URL
	host, remoteAddr string
	tls              *tls.ConnectionState
	header           http.Header
	body             []byte
}

func copyRequest(r *http.Request) request {
	return request{
		id:         requestID(r),
		method:     r.Method,
		url:        url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		host:       r.Host,
		remoteAddr: r.RemoteAddr,
		tls:        r.TLS,
		header:     endToEnd(r.Header),
	}
}

// build is the copy, as a server would hand it to a handler.
func (q request) build(ctx context.Context) *http.Request {
	u := q.url
	r := &http.Request{
		Method:     q.method,
		URL:        &u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     q.header.Clone(),
		Body:       http.NoBody,
		Host:       q.host,
		RemoteAddr: q.remoteAddr,
		TLS:        q.tls,
	}
	if len(q.body) > 0 {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(q.body)), int64(len(q.body))
	}
	return r.WithContext(ctx)
}

// hopHeaders are the hop-by-hop headers (RFC 9110, 7.6.1), as
// httputil.ReverseProxy drops them.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// endToEnd is a copy of h without its hop-by-hop headers, those its
// Connection header names included.
func endToEnd(h http.Header) http.Header {
	out := h.Clone()
	for _, v := range out.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		out.Del(name)
	}
	return out
}

// requestID is the call's id in the access log, so that a mismatch is
// found with its access line; outside one, the call's X-Request-ID when
// it is sane to log (1 to 64 printable ASCII characters, no spaces), else
// a random one.
func requestID(r *http.Request) string {
	if id := accesslog.RequestID(r.Context()); id != "" {
		return id
	}
	if id := r.Header.Get("X-Request-ID"); accesslog.Sane(id) {
		return id
	}
	return rand.Text()
}

// job is a call to compare: its copy, and the answer the caller got.
type job struct {
	req     request
	primary answer
}

// compare asks the other side for the copy's answer and compares it
// with the caller's. A mismatch is logged once, with the request id and
// the JSON paths that differ; never with the request's parameters (a
// token, a signature) nor the answers' values (users' names and
// messages).
func (s *shadow) compare(j *job) {
	defer func() {
		if p := recover(); p != nil {
			s.count(resultError)
			s.log.Error("panic in a legacy shadow comparison", "request_id", j.req.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	other, err := s.ask(ctx, j.req)
	if err == nil {
		var diffs []Difference
		diffs, err = compareAnswers(j.primary, other, s.primary, s.otherName)
		if err == nil {
			s.report(j.req.id, diffs)
			return
		}
	}
	if n, ok := s.errLog.allow(); ok {
		s.log.Warn("legacy shadow: no answer to compare", "request_id", j.req.id, "answered_by", s.primary, "asked", s.otherName, "err", err, "errors", n)
	}
	s.count(resultError) // after the line: whoever sees the count finds it
}

func (s *shadow) report(id string, diffs []Difference) {
	if len(diffs) == 0 {
		s.count(resultMatch)
		return
	}
	const most = 20
	paths := make([]string, 0, min(len(diffs), most))
	details := make([]string, 0, min(len(diffs), most))
	for _, d := range diffs[:min(len(diffs), most)] {
		paths = append(paths, d.Path)
		details = append(details, d.String())
	}
	if len(diffs) > most {
		paths = append(paths, "… "+strconv.Itoa(len(diffs)-most)+" more")
	}
	s.log.Warn("legacy shadow mismatch: the facade and the upstream answer receives differently", "request_id", id, "answered_by", s.primary,
		"paths", strings.Join(paths, " "), "differences", strings.Join(details, "; "))
	s.count(resultMismatch) // after the line: whoever sees the count finds it
}

// ask sends the copy to the other side and keeps its answer.
func (s *shadow) ask(ctx context.Context, q request) (answer, error) {
	o := &outcome{}
	rec := &recorder{header: http.Header{}, capture: capture{max: s.maxAnswer}}
	s.other.ServeHTTP(rec, q.build(context.WithValue(ctx, outcomeKey{}, o)))
	switch {
	case o.err != nil:
		return answer{}, errors.New(safeError(o.err))
	case rec.over:
		return answer{}, fmt.Errorf("the %s's answer is longer than %d bytes", s.otherName, rec.max)
	}
	return rec.answer(), nil
}

// compareAnswers compares two answers to receives: the HTTP status, the
// Content-Type, and the bodies, token by token (CompareJSON).
func compareAnswers(x, y answer, a, b string) ([]Difference, error) {
	var diffs []Difference
	if x.status != y.status {
		diffs = append(diffs, Difference{"HTTP status", fmt.Sprintf("%s %d, %s %d", a, x.status, b, y.status)})
	}
	if x.contentType != y.contentType {
		diffs = append(diffs, Difference{"Content-Type", fmt.Sprintf("%s %q, %s %q", a, x.contentType, b, y.contentType)})
	}
	body, err := CompareJSON(x.body, y.body, a, b)
	if err != nil {
		return nil, fmt.Errorf("an answer is not one JSON document (HTTP %d and %d): %w", x.status, y.status, err)
	}
	return append(diffs, body...), nil
}
