package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CORS lets a web app served from another origin (a frontend's dev server
// on http://localhost:3000, a console on its own domain) call the GraphQL
// endpoint from a browser, when its origin is listed in
// Options.CORSOrigins:
//
//   - a preflight (OPTIONS with Origin and Access-Control-Request-Method)
//     from a listed origin is answered 204 with what a request may use:
//     GET and POST, the headers in corsAllowHeaders, cached for
//     corsMaxAge seconds; the browser compares its request with them;
//   - a preflight from any other origin is answered 403
//     CORS_ORIGIN_NOT_ALLOWED without CORS headers, so the browser never
//     sends the request;
//   - every other answer to a listed origin, errors included, carries
//     Access-Control-Allow-Origin (the origin itself), so the web app can
//     read it; answers to other origins carry none, and the browser hides
//     them from the page.
//
// No Access-Control-Allow-Credentials: the caller is named by a bearer
// token, which the web app sends itself, never by a cookie.
//
// CORS decides which pages may read answers and send preflighted
// requests; it never relaxes preventCSRF, which runs after it: a request
// a browser sends without a preflight (a form, text/plain, a GET without
// a preflight header) runs nothing, from a listed origin or not.

// CodeCORSOriginNotAllowed refuses a preflight from an origin the server
// does not allow (HTTP 403).
const CodeCORSOriginNotAllowed = "CORS_ORIGIN_NOT_ALLOWED"

// What a preflight from a listed origin is told.
const (
	corsAllowMethods = "GET, POST"
	// corsMaxAge is how long, in seconds, a browser may reuse a preflight's
	// answer: Chromium's cap, two hours.
	corsMaxAge = "7200"
	// corsExposeHeaders are the answer headers, beyond the safelisted
	// ones, a web app may read: when to retry after RATE_LIMITED.
	corsExposeHeaders = "Retry-After"
)

// corsAllowHeaders are the request headers a web app may send: the
// bearer token, the JSON Content-Type, the headers preventCSRF accepts on
// a GET, and those Apollo Client adds to name itself.
var corsAllowHeaders = strings.Join(append(append([]string{"Content-Type", "Authorization"}, preflightHeaders...),
	"Apollographql-Client-Name", "Apollographql-Client-Version"), ", ")

// ParseOrigins reads a comma-separated list of origins, each
// scheme://host[:port] exactly as a browser sends it in Origin (http or
// https, no path, no trailing slash), such as
// "http://localhost:3000,https://console.example.com". Spaces around the
// commas are ignored; scheme and host are lowercased and a default port
// (:80 for http, :443 for https) dropped, as browsers do; repeats are
// dropped. An empty list is nil. The error names the first origin that is
// not one and says what would be.
func ParseOrigins(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var origins []string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		o, err := parseOrigin(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if !seen[o] {
			seen[o] = true
			origins = append(origins, o)
		}
	}
	return origins, nil
}

const originExample = "such as http://localhost:3000"

// parseOrigin checks one origin and returns it as a browser serializes it.
func parseOrigin(s string) (string, error) {
	switch s {
	case "":
		return "", errors.New("an empty origin in the list: want origins separated by commas, " + originExample + ",https://console.example.com")
	case "*":
		return "", errors.New(`"*": list each origin that may call the API; a wildcard is not accepted`)
	case "null":
		return "", errors.New(`"null": the opaque origin of sandboxed and file: pages cannot be allowed; serve the page from an http:// or https:// origin`)
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Scheme == "" {
		return "", fmt.Errorf("%q: want an origin, scheme://host[:port], %s", s, originExample)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: want an http:// or https:// origin, %s", s, originExample)
	}
	bare := u.Scheme + "://" + u.Host
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(s, "#") {
		return "", fmt.Errorf("%q: an origin has no path (not even a trailing /), query or user: want %s", s, bare)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("%q: the host is missing: want an origin, scheme://host[:port], %s", s, originExample)
	}
	for _, r := range host {
		if r > 0x7e {
			return "", fmt.Errorf("%q: write an internationalized host in its ASCII (xn--) form, as browsers send it", s)
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 address
	}
	port := u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%q: the port is empty: want a number from 1 to 65535, or no colon", s)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
		}
		port = strconv.Itoa(n)
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

// originSet is the origins allowed to call the endpoint from a browser.
type originSet map[string]bool

// newOriginSet reads origins as ParseOrigins does, one by one. An entry
// that is not an origin is logged and left out: it could never match what
// a browser sends (the command refuses it at start, with ParseOrigins).
func newOriginSet(origins []string, log *slog.Logger) originSet {
	set := originSet{}
	for _, o := range origins {
		n, err := parseOrigin(strings.TrimSpace(o))
		if err != nil {
			log.Error("a CORS origin is not an origin; no browser is allowed by it", "origin", o, "err", err)
			continue
		}
		set[n] = true
	}
	return set
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// allowCORS answers preflights and marks the answers to the origins in
// allowed as readable (see CORS above). It runs before allowMethods,
// which would answer a preflight's OPTIONS 405, and before everything
// else, so that every error a listed origin gets is readable.
func allowCORS(allowed originSet, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		ok := origin != "" && allowed[origin]
		h := w.Header()
		if len(allowed) > 0 {
			// Whether the answer carries Access-Control-Allow-Origin
			// depends on Origin: a cache must not give one origin's answer
			// to another.
			h.Add("Vary", "Origin")
		}
		if isPreflight(r) {
			if !ok {
				msg := "this origin may not call the API from a browser: the server allows only the origins it is configured with"
				if len(allowed) == 0 {
					msg = "no origin may call the API from a browser: the server allows none"
				}
				writeError(w, http.StatusForbidden, CodeCORSOriginNotAllowed, msg)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}
