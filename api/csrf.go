package api

import (
	"mime"
	"net/http"
)

// preflightHeaders are headers a browser cannot send cross-origin without
// a CORS preflight, which this server grants only to the origins it is
// configured with (allowCORS); a request carrying one of them, non-empty,
// was not forged by another site.
var preflightHeaders = []string{"X-Apollo-Operation-Name", "Apollo-Require-Preflight", "X-Requested-With"}

// simpleContentTypes are the media types a browser sends cross-origin
// without a preflight.
var simpleContentTypes = map[string]bool{
	"application/x-www-form-urlencoded": true,
	"multipart/form-data":               true,
	"text/plain":                        true,
}

// preventCSRF refuses the "simple" requests another site can make a
// browser send, as Apollo Server's csrfPrevention does: a request runs
// only when its Content-Type is not one a form can send (POST must be
// application/json) or when it carries one of preflightHeaders. A GET
// from a console therefore sends e.g. Apollo-Require-Preflight: true.
//
// It holds for every origin, those CORS allows included: CORS decides
// which pages may send preflighted requests and read the answers, and a
// request sent without a preflight, from anywhere, runs nothing.
func preventCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if simpleRequest(r) && !hasPreflightHeader(r) {
			writeError(w, http.StatusBadRequest, CodeCSRF,
				"this request has been blocked as a potential cross-site request forgery: send Content-Type: application/json, "+
					"or for GET a non-empty X-Apollo-Operation-Name, Apollo-Require-Preflight or X-Requested-With header")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// simpleRequest reports whether a browser could send r cross-origin
// without asking first: no Content-Type, or one that parses to a simple
// type. One that does not parse is not safelisted, so a browser would ask.
func simpleRequest(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && simpleContentTypes[mt]
}

func hasPreflightHeader(r *http.Request) bool {
	for _, h := range preflightHeaders {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}
