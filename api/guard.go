package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"opfacade/accesslog"
	"opfacade/domain"
	"opfacade/httpguard"
	"opfacade/ratelimit"
)

// protect puts the HTTP-level guards in front of the GraphQL handler, in
// the order they are cheapest to check: panics are answered, CORS
// preflights answered and the answers to the origins in origins made
// readable (allowCORS), methods no transport serves and forged requests
// refused, then bodies that are not JSON; a token over its share is
// refused (limitRate); the body is read whole and bounded, and decoded
// once (a batch refused); then the request gets its context (prepare) and
// the work runs under the request deadline.
//
// A subscription is a stream (see live.go): over SSE it passes the same
// guards up to the body, then runs without the deadline; a WebSocket's
// handshake passes the origin check only.
func protect(srv http.Handler, l Limits, opt Options, log *slog.Logger) http.Handler {
	allowed := newOriginSet(opt.CORSOrigins, log)
	ws := checkOrigin(allowed, trackSockets(opt.Streams, srv))
	next := splitStreams(operations{maxTokens: l.MaxTokens}, serveStream(opt.Live, srv),
		httpguard.Deadline(l.Timeout, log, unavailable(l), httpguard.WithContext(opt.Prepare, srv)))
	next = decodeBody(newBodies(), next)
	next = httpguard.ReadBody(l.MaxBody, tooLarge(l), unreadable, next)
	next = limitRate(opt.RateLimit, next)
	next = requireJSON(next)
	next = preventCSRF(next)
	next = allowMethods(next)
	next = allowCORS(allowed, next)
	next = splitWebSockets(ws, next)
	return httpguard.Recover(log, internalError, next)
}

// splitWebSockets sends a WebSocket handshake to ws, anything else to
// next.
func splitWebSockets(ws, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebSocket(r) {
			ws.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// splitStreams sends a subscription that asks for an event stream to
// stream, anything else to next.
func splitStreams(ops operations, stream, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, _ := paramsFrom(r.Context()); wantsSSE(r) && ops.isSubscription(p) {
			stream.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitRate spends a request of the bearer token's bucket, the token as
// sent, and refuses the request when the bucket is empty. It runs before
// the body is read and long before the token is looked up: a flood costs
// a map lookup, not a statement, and a made-up token's bucket limits only
// that token. Keying by the OP instead would need the lookup first, which
// is what a flood must not reach. Requests without a bearer token are not
// limited here: they read introspection or are UNAUTHENTICATED, neither of
// which reaches the database, and the document limits bound their cost.
// Introspection with a token spends from its bucket like any request.
func limitRate(rl *ratelimit.Limiter, next http.Handler) http.Handler {
	if rl == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, ok := bearer(r.Header.Get("Authorization")); ok {
			if ok, wait := rl.Allow(token); !ok {
				rateLimited(w, wait)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rateLimited answers a request over its token's share: 429 and when to
// try again (RFC 6585, RFC 9110 Retry-After in whole seconds).
func rateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := ratelimit.Seconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, CodeRateLimited, fmt.Sprintf("too many requests with this token; retry after %d s", secs))
}

// writeError answers with one GraphQL error carrying code,
// under application/json.
func writeError(w http.ResponseWriter, status int, code, message string) {
	refuse(w, mediaJSON, status, code, message)
}

// internalError is the answer to a panic outside the resolvers: the
// client learns nothing of it.
func internalError(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusInternalServerError, codes[domain.EINTERNAL], "internal error")
}

// unavailable is the answer when the request deadline passes first.
func unavailable(l Limits) httpguard.Answer {
	msg := unavailableMessage(l)
	return func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusServiceUnavailable, codes[domain.EUNAVAILABLE], msg)
	}
}

// unavailableMessage is what a request the deadline ended is told, by
// the deadline's answer or the operation's (untilDone), whichever wins.
func unavailableMessage(l Limits) string {
	return fmt.Sprintf("the request did not finish within %s; try again later", l.Timeout)
}

// tooLarge answers a body over the limit, unread beyond it.
func tooLarge(l Limits) httpguard.Answer {
	msg := fmt.Sprintf("the request body is larger than the limit of %d bytes", l.MaxBody)
	return func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, msg)
	}
}

// unreadable answers a body the client stalled on or cut short.
func unreadable(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
}

// decodeBody decodes a POST body, read whole, into the operation's
// parameters, which postJSON runs as they are: a JSON array, a batch of
// operations, is BATCHING_NOT_SUPPORTED, and anything else but one JSON
// object is BAD_REQUEST, said here so that gqlgen's answer, which repeats
// the body, is never sent. A body sent again and again is decoded once
// (see bodies).
func decodeBody(kept *bodies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body := bytes.TrimLeft(httpguard.Body(r), " \t\r\n")
		if len(body) > 0 && body[0] == '[' {
			writeError(w, http.StatusBadRequest, CodeBatching, "batched operations are not supported: send one operation as a JSON object")
			return
		}
		params, ok := kept.decode(body)
		if !ok {
			writeError(w, http.StatusBadRequest, CodeBadRequest, `the request body must be one JSON object: {"query": "…", "variables": {…}, "operationName": "…"}`)
			return
		}
		accesslog.SetOperation(r.Context(), params.OperationName)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), paramsKey{}, params)))
	})
}

// bodyParams is a POST body decoded: the GraphQL request parameters and
// the documentId of a persisted document request, as written (postJSON
// reads it).
type bodyParams struct {
	graphql.RawParams
	DocumentID json.RawMessage `json:"documentId"`
}

// decodeParams reads body as one JSON object of GraphQL request
// parameters, numbers kept as written, and nothing after it.
func decodeParams(body []byte) (*bodyParams, bool) {
	if len(body) == 0 || body[0] != '{' {
		return nil, false
	}
	var params bodyParams
	if !decodeOne(body, &params) {
		return nil, false
	}
	return &params, true
}

type paramsKey struct{}

// paramsFrom returns the parameters decodeBody decoded.
func paramsFrom(ctx context.Context) (*bodyParams, bool) {
	p, ok := ctx.Value(paramsKey{}).(*bodyParams)
	return p, ok
}
