package api

import (
	"mime"
	"net/http"
)

// The transports serve GET and POST with a JSON body, nothing else.
// gqlgen answers any other request with a plain-text error and no code;
// these guards answer it first, as every other refusal, in JSON.

// allowMethods answers a method other than GET and POST with 405 and
// Allow. It runs before the CSRF check: such a request runs nothing, and
// the client learns what is wrong with it.
//
// An Upgrade header (WebSocket, h2c) is dropped: gqlgen's HTTP transports
// refuse any request that carries one, and RFC 9110 lets a server ignore
// it and answer in HTTP/1.1.
func allowMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "only GET and POST are supported")
			return
		}
		if r.Header.Get("Upgrade") != "" {
			r = r.Clone(r.Context())
			r.Header.Del("Upgrade")
		}
		next.ServeHTTP(w, r)
	})
}

// requireJSON answers a POST whose body is not application/json with 415,
// before the body is read. It runs after the CSRF check, so the form and
// text/plain POSTs a browser may send cross-site stay CSRF_PREVENTED.
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")) {
			w.Header().Set("Accept", "application/json")
			writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "a POST body must be Content-Type: application/json")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isJSON is transport.POST's test of the Content-Type.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
