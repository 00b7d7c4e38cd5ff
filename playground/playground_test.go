package playground

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var testConfig = Config{
	Title:          "OP facade — GraphQL playground",
	Endpoint:       "/query",
	DefaultHeaders: `{"Authorization":"Bearer o0001403351be22c648efa24c20e842fd7351"}`,
	DefaultQuery:   "query MyChats {\n  me { name }\n}",
}

// newServer mounts the handler as the facade does.
func newServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	h := Handler(cfg)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET /playground/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, u string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	// Compare bodies as sent; the transport would otherwise ask for gzip
	// and decode it behind the test's back.
	req.Header.Set("Accept-Encoding", header.Get("Accept-Encoding"))
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, body
}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	return do(t, http.MethodGet, u, nil)
}

func parsePage(t *testing.T, body []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the page: %v", err)
	}
	return doc
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func elements(doc *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
	})
	return out
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func byID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	var found []*html.Node
	walk(doc, func(n *html.Node) {
		if v, ok := attr(n, "id"); ok && v == id && n.Type == html.ElementNode {
			found = append(found, n)
		}
	})
	if len(found) != 1 {
		t.Fatalf("the page has %d elements with id %q, want 1", len(found), id)
	}
	return found[0]
}

func TestPageHeaders(t *testing.T) {
	srv := newServer(t, testConfig)
	for _, p := range []string{"/", "/playground/"} {
		resp, body := get(t, srv.URL+p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", p, resp.Status)
		}
		want := map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Content-Security-Policy": ContentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Cache-Control":           "no-cache",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", p, k, got, v)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self';"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: the CSP %q lacks %q", p, csp, d)
			}
		}
		// data: is allowed for images alone (the editor's error squiggle).
		if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "blob:") || strings.Count(csp, "data:") != 1 || !strings.Contains(csp, "img-src 'self' data:;") {
			t.Errorf("GET %s: the CSP %q is looser than needed", p, csp)
		}
		doc := parsePage(t, body)
		titles := elements(doc, "title")
		if len(titles) != 1 || titles[0].FirstChild == nil || titles[0].FirstChild.Data != testConfig.Title {
			t.Errorf("GET %s: the page has no title %q", p, testConfig.Title)
		}
	}
}

func TestPageHasNoInlineCode(t *testing.T) {
	srv := newServer(t, testConfig)
	_, body := get(t, srv.URL+"/")
	doc := parsePage(t, body)
	scripts := elements(doc, "script")
	if len(scripts) == 0 {
		t.Fatal("the page loads no script")
	}
	for _, s := range scripts {
		if src, _ := attr(s, "src"); src == "" {
			t.Errorf("a <script> has no src")
		}
		if s.FirstChild != nil {
			t.Errorf("a <script> has a body: %q", s.FirstChild.Data)
		}
	}
	if n := len(elements(doc, "style")); n != 0 {
		t.Errorf("the page has %d <style> elements", n)
	}
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" ||
				strings.HasPrefix(strings.TrimSpace(strings.ToLower(a.Val)), "javascript:") {
				t.Errorf("<%s> has the inline code %s=%q", n.Data, a.Key, a.Val)
			}
		}
	})
}

func TestDataAttributes(t *testing.T) {
	srv := newServer(t, testConfig)
	_, body := get(t, srv.URL+"/")
	root := byID(t, parsePage(t, body), "graphiql")
	if got, _ := attr(root, "data-endpoint"); got != "/query" {
		t.Errorf("data-endpoint = %q, want /query", got)
	}
	got, _ := attr(root, "data-default-headers")
	var headers map[string]string
	if err := json.Unmarshal([]byte(got), &headers); err != nil {
		t.Fatalf("data-default-headers = %q is not JSON: %v", got, err)
	}
	if headers["Authorization"] != "Bearer o0001403351be22c648efa24c20e842fd7351" {
		t.Errorf("data-default-headers = %q", got)
	}
	if got, _ := attr(root, "data-default-query"); got != testConfig.DefaultQuery {
		t.Errorf("data-default-query = %q, want %q", got, testConfig.DefaultQuery)
	}

	// Without DefaultHeaders the attribute is empty (no headers editor
	// prefilled).
	srv = newServer(t, Config{Title: "t", Endpoint: "/graphql"})
	_, body = get(t, srv.URL+"/")
	root = byID(t, parsePage(t, body), "graphiql")
	if got, _ := attr(root, "data-default-headers"); got != "" {
		t.Errorf("data-default-headers = %q without DefaultHeaders", got)
	}
	if got, _ := attr(root, "data-default-query"); got != "" {
		t.Errorf("data-default-query = %q without DefaultQuery (GraphiQL's welcome comment)", got)
	}
	if got, _ := attr(root, "data-endpoint"); got != "/graphql" {
		t.Errorf("data-endpoint = %q, want /graphql", got)
	}
}

func TestConfigIsEscaped(t *testing.T) {
	const evil = `"</script><b>`
	for _, cfg := range []Config{
		{Title: evil, Endpoint: evil, DefaultHeaders: evil, DefaultQuery: evil},
		{Title: "t", Endpoint: "/query", DefaultHeaders: `{"X-Evil":"` + `\"</script><b>` + `"}`},
		{Title: `</title><script src="/x.js"></script>`, Endpoint: `/q' onload='x`, DefaultHeaders: `'><img src=x onerror=alert(1)>`, DefaultQuery: "{ me }\n'><img src=x onerror=alert(1)>"},
	} {
		srv := newServer(t, cfg)
		_, body := get(t, srv.URL+"/")
		if bytes.Contains(body, []byte("</script><b>")) || bytes.Contains(body, []byte("<img")) {
			t.Errorf("config %+v: the page has the raw markup:\n%s", cfg, body)
		}
		doc := parsePage(t, body)
		for _, tag := range []string{"b", "img"} {
			if n := len(elements(doc, tag)); n != 0 {
				t.Errorf("config %+v: the page has %d <%s> elements", cfg, n, tag)
			}
		}
		if n := len(elements(doc, "script")); n != 1 {
			t.Errorf("config %+v: the page has %d <script> elements, want 1", cfg, n)
		}
		titles := elements(doc, "title")
		if len(titles) != 1 || titles[0].FirstChild == nil || titles[0].FirstChild.Data != cfg.Title {
			t.Errorf("config %+v: the title did not survive as text", cfg)
		}
		root := byID(t, doc, "graphiql")
		if got, _ := attr(root, "data-endpoint"); got != cfg.Endpoint {
			t.Errorf("data-endpoint = %q, want %q", got, cfg.Endpoint)
		}
		if got, _ := attr(root, "data-default-query"); got != cfg.DefaultQuery {
			t.Errorf("data-default-query = %q, want %q", got, cfg.DefaultQuery)
		}
		got, _ := attr(root, "data-default-headers")
		if json.Valid([]byte(cfg.DefaultHeaders)) {
			var a, b any
			_ = json.Unmarshal([]byte(got), &a)
			_ = json.Unmarshal([]byte(cfg.DefaultHeaders), &b)
			if ja, _ := json.Marshal(a); string(ja) != func() string { jb, _ := json.Marshal(b); return string(jb) }() {
				t.Errorf("data-default-headers = %q, want the JSON of %q", got, cfg.DefaultHeaders)
			}
		} else if got != cfg.DefaultHeaders {
			t.Errorf("data-default-headers = %q, want %q", got, cfg.DefaultHeaders)
		}
	}
}

// TestReferencedAssetsAreServed follows every asset URL that the page, the
// stylesheet and the scripts refer to (fonts, images, code-split chunks and
// the editor workers), resolved against their own URLs, and checks that each
// is served with the expected Content-Type.
func TestReferencedAssetsAreServed(t *testing.T) {
	srv := newServer(t, testConfig)
	for _, pagePath := range []string{"/", "/playground/"} {
		pageURL, _ := url.Parse(srv.URL + pagePath)
		_, body := get(t, pageURL.String())
		doc := parsePage(t, body)

		var queue []*url.URL
		add := func(base *url.URL, ref string) {
			u, err := base.Parse(ref)
			if err != nil {
				t.Fatalf("bad reference %q: %v", ref, err)
			}
			queue = append(queue, u)
		}
		for _, s := range elements(doc, "script") {
			src, _ := attr(s, "src")
			add(pageURL, src)
		}
		for _, l := range elements(doc, "link") {
			href, _ := attr(l, "href")
			add(pageURL, href)
		}
		if len(queue) < 3 {
			t.Fatalf("the page at %s refers to only %d assets", pagePath, len(queue))
		}

		cssURL := regexp.MustCompile(`url\(["']?([^"')]+)["']?\)`)
		wantType := map[string]string{
			".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
			".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2",
			".woff": "font/woff", ".ttf": "font/ttf",
		}
		seen := map[string]bool{}
		kinds := map[string]int{}
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			key := u.Path
			if seen[key] {
				continue
			}
			seen[key] = true
			if !strings.HasPrefix(u.Path, AssetsPath) {
				t.Errorf("page %s refers to %s, outside %s", pagePath, u, AssetsPath)
				continue
			}
			resp, body := get(t, u.String())
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %s", u, resp.Status)
				continue
			}
			ext := u.Path[strings.LastIndex(u.Path, "."):]
			if got := resp.Header.Get("Content-Type"); got != wantType[ext] {
				t.Errorf("GET %s: Content-Type %q, want %q", u, got, wantType[ext])
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: no X-Content-Type-Options: nosniff", u)
			}
			kinds[ext]++
			switch ext {
			case ".css":
				for _, m := range cssURL.FindAllStringSubmatch(string(body), -1) {
					if strings.HasPrefix(m[1], "data:") {
						t.Errorf("%s has a data: URL, which the CSP blocks", u)
						continue
					}
					add(u, m[1])
				}
			case ".js":
				// Imports of code-split chunks ("./chunk-X.js") and the
				// worker files ("workers/json.worker.js").
				for _, prefix := range []string{`"./`, `"../`, `"workers/`} {
					for _, ref := range quotedRefs(string(body), prefix, ".js") {
						add(u, ref)
					}
				}
			}
		}
		for _, ext := range []string{".js", ".css", ".woff2", ".ttf", ".svg"} {
			if kinds[ext] == 0 {
				t.Errorf("page %s: no %s asset among the %d referenced ones", pagePath, ext, len(seen))
			}
		}
		if !seen[AssetsPath+"workers/graphql.worker.js"] || !seen[AssetsPath+"workers/editor.worker.js"] || !seen[AssetsPath+"workers/json.worker.js"] {
			t.Errorf("page %s: the editor workers are not all referenced: %v", pagePath, seen)
		}
		t.Logf("page %s: %d assets referenced and served (%v)", pagePath, len(seen), kinds)
	}
}

// quotedRefs returns the double-quoted strings in js that start with prefix
// (which includes the opening quote) and end with suffix.
func quotedRefs(js, prefix, suffix string) []string {
	var refs []string
	for {
		i := strings.Index(js, prefix)
		if i < 0 {
			return refs
		}
		js = js[i+1:]
		end := strings.IndexByte(js, '"')
		if end < 0 {
			return refs
		}
		if ref := js[:end]; strings.HasSuffix(ref, suffix) && !strings.ContainsAny(ref, " \n\\") {
			refs = append(refs, ref)
		}
	}
}

func TestUnknownPathsAre404(t *testing.T) {
	srv := newServer(t, testConfig)
	for _, p := range []string{
		"/playground/assets/nope.js",
		"/playground/assets/",
		"/playground/assets/chunks",
		"/playground/assets/main.js/x",
		"/playground/assets/%2e%2e/playground.go",
		"/playground/index.html",
		"/playground/dist/assets/main.js",
		"/graphiql",
	} {
		resp, _ := get(t, srv.URL+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
	// Also without a mux that cleans the path first.
	h := Handler(testConfig)
	for _, p := range []string{"/playground/assets/../../playground.go", "/playground/assets/./main.js"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}, Header: http.Header{}})
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s on the bare handler: %d, want 404", p, rec.Code)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := Handler(testConfig)
	for _, p := range []string{"/", "/playground/", AssetsPath + "main.js"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(m, p, nil))
			if rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, p, rec.Code)
			}
			if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow = %q", m, p, got)
			}
		}
	}

	srv := newServer(t, testConfig)
	for _, p := range []string{"/", AssetsPath + "main.css"} {
		getResp, getBody := get(t, srv.URL+p)
		headResp, headBody := do(t, http.MethodHead, srv.URL+p, nil)
		if headResp.StatusCode != http.StatusOK || len(headBody) != 0 {
			t.Errorf("HEAD %s: %s with %d bytes", p, headResp.Status, len(headBody))
		}
		if headResp.Header.Get("Content-Type") != getResp.Header.Get("Content-Type") ||
			headResp.Header.Get("Content-Length") != getResp.Header.Get("Content-Length") ||
			getResp.Header.Get("Content-Length") == "" || len(getBody) == 0 {
			t.Errorf("HEAD %s does not describe GET: %v vs %v", p, headResp.Header, getResp.Header)
		}
	}
}

func TestAssetCaching(t *testing.T) {
	srv := newServer(t, testConfig)
	_, body := get(t, srv.URL+"/")
	m := regexp.MustCompile(`main\.js\?v=([0-9a-f]+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("the page refers to main.js without a version:\n%s", body)
	}
	version := string(m[1])
	if version != loadBundle().version {
		t.Fatalf("page version %s, bundle version %s", version, loadBundle().version)
	}

	const immutable = "public, max-age=31536000, immutable"
	cases := []struct {
		path, cache string
	}{
		{AssetsPath + "main.js?v=" + version, immutable},
		{AssetsPath + "main.css?v=" + version, immutable},
		{AssetsPath + "workers/json.worker.js?v=" + version, immutable},
		{AssetsPath + "main.js", "no-cache"},
		{AssetsPath + "main.js?v=0000", "no-cache"},
		{AssetsPath + "THIRD_PARTY_LICENSES.txt", "no-cache"},
	}
	for name := range loadBundle().assets {
		if strings.HasPrefix(name, "chunks/") || strings.HasPrefix(name, "fonts/") {
			cases = append(cases, struct{ path, cache string }{AssetsPath + name, immutable})
		}
	}
	for _, c := range cases {
		resp, _ := get(t, srv.URL+c.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", c.path, resp.Status)
			continue
		}
		if got := resp.Header.Get("Cache-Control"); got != c.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", c.path, got, c.cache)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", c.path)
			continue
		}
		resp, body := do(t, http.MethodGet, srv.URL+c.path, http.Header{"If-None-Match": {etag}})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s with If-None-Match: %s", c.path, resp.Status)
		}
	}

	// The page revalidates too.
	resp, _ := get(t, srv.URL+"/")
	resp, _ = do(t, http.MethodGet, srv.URL+"/", http.Header{"If-None-Match": {resp.Header.Get("ETag")}})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match: %s", resp.Status)
	}
}

func TestAssetsAreGzipped(t *testing.T) {
	srv := newServer(t, testConfig)
	plainResp, plain := get(t, srv.URL+AssetsPath+"main.js")
	resp, body := do(t, http.MethodGet, srv.URL+AssetsPath+"main.js", http.Header{"Accept-Encoding": {"br, gzip"}})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("main.js is not gzipped: %v", resp.Header)
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("no Vary: Accept-Encoding: %v", resp.Header)
	}
	if resp.Header.Get("ETag") == plainResp.Header.Get("ETag") {
		t.Errorf("gzipped and plain main.js share the ETag %s", resp.Header.Get("ETag"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Error("gunzipped main.js differs from main.js")
	}
	t.Logf("main.js: %d bytes, %d gzipped", len(plain), len(body))

	resp, _ = do(t, http.MethodGet, srv.URL+AssetsPath+"main.js", http.Header{"Accept-Encoding": {"gzip;q=0"}})
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	// Fonts that are compressed already are sent as they are.
	for name := range loadBundle().assets {
		if strings.HasSuffix(name, ".woff2") {
			resp, _ := do(t, http.MethodGet, srv.URL+AssetsPath+name, http.Header{"Accept-Encoding": {"gzip"}})
			if resp.Header.Get("Content-Encoding") != "" {
				t.Errorf("%s is gzipped", name)
			}
			break
		}
	}
}

func TestRelativeAssets(t *testing.T) {
	for p, want := range map[string]string{
		"":                 "playground/assets/",
		"/":                "playground/assets/",
		"/playground/":     "assets/",
		"/graphiql":        "playground/assets/",
		"/tools/graphiql":  "../playground/assets/",
		"/tools/graphiql/": "../../playground/assets/",
		"/playground/x/":   "../../playground/assets/",
	} {
		if got := relativeAssets(p); got != want {
			t.Errorf("relativeAssets(%q) = %q, want %q", p, got, want)
		}
		base, _ := url.Parse("http://h" + p)
		if p == "" {
			base, _ = url.Parse("http://h/")
		}
		if u, _ := base.Parse(relativeAssets(p) + "main.js"); u.Path != AssetsPath+"main.js" {
			t.Errorf("from %q the assets resolve to %s", p, u.Path)
		}
	}
}
