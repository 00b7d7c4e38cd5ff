package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"opfacade/domain"
	"opfacade/httpguard"
)

// protect puts the HTTP-level guards in front of the GraphQL handler, in
// the order they are cheapest to check: panics are answered, methods no
// transport serves and forged requests refused, then bodies that are not
// JSON, the body read whole and bounded (and a batch refused), and then
// the work runs under the request deadline.
func protect(next http.Handler, l Limits, log *slog.Logger) http.Handler {
	next = httpguard.Deadline(l.Timeout, log, unavailable(l), next)
	next = readBody(l.MaxBody, next)
	next = requireJSON(next)
	next = preventCSRF(next)
	next = allowMethods(next)
	return httpguard.Recover(log, internalError, next)
}

// writeError answers with one GraphQL error carrying code.
func writeError(w http.ResponseWriter, status int, code, message string) {
	type gqlError struct {
		Message    string            `json:"message"`
		Extensions map[string]string `json:"extensions"`
	}
	b, _ := json.Marshal(struct {
		Errors []gqlError `json:"errors"`
	}{[]gqlError{{message, map[string]string{"code": code}}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
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

// readBody reads a POST body whole, up to limit bytes: a larger one is
// PAYLOAD_TOO_LARGE (413) without reading further, a JSON array, a batch
// of operations, is BATCHING_NOT_SUPPORTED, and anything else but one
// JSON object is BAD_REQUEST.
func readBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := fmt.Sprintf("the request body is larger than the limit of %d bytes", limit)
		if r.ContentLength > limit {
			writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, tooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, tooLarge)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
			return
		}
		t := bytes.TrimLeft(body, " \t\r\n")
		switch {
		case len(t) > 0 && t[0] == '[':
			writeError(w, http.StatusBadRequest, CodeBatching, "batched operations are not supported: send one operation as a JSON object")
			return
		case len(t) == 0 || t[0] != '{' || !json.Valid(t):
			// Said here, so that gqlgen's answer, which repeats the
			// body, is never sent.
			writeError(w, http.StatusBadRequest, CodeBadRequest, `the request body must be one JSON object: {"query": "…", "variables": {…}, "operationName": "…"}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
