// Package playground serves a GraphQL playground (GraphiQL) that works
// without any route to the public internet: the GraphiQL bundle, its editor
// workers and its fonts are embedded in the binary, and the page loads
// nothing from any other origin.
//
// # Mounting
//
// The assets always live under the path [AssetsPath] ("/playground/assets/"),
// so the handler must be mounted on "/playground/". The page itself can be
// mounted on any other path as well; the facade does
//
//	h := playground.Handler(playground.Config{Title: "…", Endpoint: "/query"})
//	mux.Handle("GET /{$}", h)         // the page at /
//	mux.Handle("GET /playground/", h) // the page at /playground/ and the assets
//
// Requests under /playground/assets/ get an asset (404 if unknown), any
// other path under /playground/ other than /playground/ itself is a 404, and
// every other path gets the page. The page refers to the assets by relative
// URLs (from "/" it loads "playground/assets/main.js"), so it keeps working
// behind a reverse proxy that mounts the whole server under a path prefix.
//
// # Configuration and security
//
// The page has no inline script: it hands Endpoint, DefaultHeaders and
// DefaultQuery to the bundle in data- attributes of the element the bundle
// renders into, and it is served with a strict Content-Security-Policy
// (scripts, workers, fonts, images and fetches from the page's own origin
// only). Styles also allow 'unsafe-inline' because the Monaco editor inside
// GraphiQL inserts <style> elements at run time for its theme and its
// decorations.
//
// # Caching
//
// The page is served with Cache-Control: no-cache. It refers to the entry
// assets with a "?v=" query carrying a hash of all embedded assets; a
// request carrying the current hash, and any file whose name is itself a
// content hash (chunks/, fonts/, img/), is cacheable for a year and
// immutable. Everything else gets no-cache and an ETag, so a browser
// revalidates with a cheap 304. Text assets are sent gzip-compressed to
// clients that accept it.
//
// The bundle is built from playground/web by scripts/build-playground.sh
// and committed in dist/, so building the Go program needs no Node.js.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

// AssetsPath is the absolute URL path under which the handler serves the
// playground's static files.
const AssetsPath = "/playground/assets/"

// pagePath is the URL path of the page inside the "/playground/" subtree.
const pagePath = "/playground/"

// ContentSecurityPolicy is the policy sent with the page.
//
// default-src 'self' covers scripts, the Monaco workers (same-origin files,
// no blob: URLs), fonts and the requests to the GraphQL endpoint. Images
// may also be data: URLs: Monaco draws the squiggle under an invalid field
// with one, and an image runs nothing. Styles need 'unsafe-inline': Monaco
// adds <style> elements at run time (editor theme, token colours,
// decorations), and without it the editors render without syntax colours
// and with broken widgets.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'"

// Config configures the playground page.
type Config struct {
	Title          string // page title, e.g. "OP facade — GraphQL playground"
	Endpoint       string // GraphQL endpoint path, e.g. "/query"
	DefaultHeaders string // JSON object prefilled in GraphiQL's headers editor, e.g. {"Authorization":"Bearer o0001..."}; empty for none
	// DefaultQuery is the operation GraphiQL opens on when the browser has
	// none saved from an earlier visit (GraphiQL's defaultQuery); empty for
	// GraphiQL's welcome comment.
	DefaultQuery string
}

// Handler returns the handler for the playground page and its assets; see
// the package documentation for how to mount it.
func Handler(cfg Config) http.Handler {
	b := loadBundle()
	h := &handler{
		bundle:   b,
		title:    cfg.Title,
		endpoint: cfg.Endpoint,
		headers:  prettyJSON(cfg.DefaultHeaders),
		query:    cfg.DefaultQuery,
	}
	if h.title == "" {
		h.title = "GraphQL playground"
	}
	if h.endpoint == "" {
		h.endpoint = "/query"
	}
	return h
}

// prettyJSON indents a valid JSON value for the headers editor and returns
// anything else unchanged (GraphiQL then reports it when a query is run).
func prettyJSON(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || !json.Valid([]byte(s)) {
		return s
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

type handler struct {
	bundle   *bundle
	title    string
	endpoint string
	headers  string
	query    string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "" {
		p = "/"
	}
	switch {
	case strings.HasPrefix(p, AssetsPath):
		h.serveAsset(w, r, strings.TrimPrefix(p, AssetsPath))
	case p == pagePath || !strings.HasPrefix(p, pagePath):
		h.servePage(w, r)
	default:
		http.NotFound(w, r)
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<link rel="icon" type="image/svg+xml" href="{{.Assets}}favicon.svg?v={{.Version}}">
<link rel="stylesheet" href="{{.Assets}}main.css?v={{.Version}}">
<script type="module" src="{{.Assets}}main.js?v={{.Version}}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}" data-default-headers="{{.DefaultHeaders}}" data-default-query="{{.DefaultQuery}}"><div class="playground-loading">Loading the GraphQL playground…</div></div>
<noscript>The GraphQL playground needs JavaScript.</noscript>
</body>
</html>
`))

type pageData struct {
	Title, Assets, Version, Endpoint, DefaultHeaders, DefaultQuery string
}

// relativeAssets returns the URL of AssetsPath relative to a page at the
// (escaped) URL path p: "playground/assets/" for "/", "assets/" for
// "/playground/" and "../playground/assets/" for "/a/b". Browsers resolve
// it against the path as the user sees it, so p is not cleaned.
func relativeAssets(p string) string {
	dir := p[:strings.LastIndex(p, "/")+1]
	if dir == "" {
		dir = "/"
	}
	if strings.HasPrefix(AssetsPath, dir) {
		return AssetsPath[len(dir):]
	}
	return strings.Repeat("../", strings.Count(dir, "/")-1) + AssetsPath[1:]
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	err := pageTemplate.Execute(&buf, pageData{
		Title:          h.title,
		Assets:         relativeAssets(r.URL.EscapedPath()),
		Version:        h.bundle.version,
		Endpoint:       h.endpoint,
		DefaultHeaders: h.headers,
		DefaultQuery:   h.query,
	})
	if err != nil {
		http.Error(w, "rendering the playground page failed", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-cache")
	sum := sha256.Sum256(buf.Bytes())
	hd.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.bundle.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if a.immutable || r.URL.Query().Get("v") == h.bundle.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	body, etag := a.data, a.etag
	if a.compressible {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			if gz := a.gzipped(); gz != nil {
				body, etag = gz, a.etag[:len(a.etag)-1]+`-gz"`
				hd.Set("Content-Encoding", "gzip")
			}
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}

type asset struct {
	data         []byte
	contentType  string
	etag         string
	immutable    bool // the file name is a content hash
	compressible bool

	gzOnce sync.Once
	gz     []byte
}

// gzipped compresses the asset on first use; it returns nil when that does
// not make it smaller.
func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.data)
		if zw.Close() == nil && buf.Len() < len(a.data) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

type bundle struct {
	assets  map[string]*asset // by path relative to dist/assets
	version string            // hash of all assets
}

var contentTypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".ttf":   "font/ttf",
	".txt":   "text/plain; charset=utf-8",
}

var loadBundle = sync.OnceValue(func() *bundle {
	sub, err := fs.Sub(dist, "dist/assets")
	if err != nil {
		panic("playground: " + err.Error())
	}
	b := &bundle{assets: map[string]*asset{}}
	var names []string
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		top, _, _ := strings.Cut(p, "/")
		b.assets[p] = &asset{
			data:        data,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			immutable:   top == "chunks" || top == "fonts" || top == "img",
			compressible: strings.HasPrefix(ct, "text/") || ct == "image/svg+xml" ||
				ct == "font/ttf",
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		panic("playground: reading the embedded bundle: " + err.Error())
	}
	if _, ok := b.assets["main.js"]; !ok {
		panic("playground: the embedded bundle has no main.js; run scripts/build-playground.sh")
	}
	sort.Strings(names)
	all := sha256.New()
	for _, n := range names {
		all.Write([]byte(n))
		all.Write([]byte{0})
		all.Write([]byte(b.assets[n].etag))
	}
	b.version = hex.EncodeToString(all.Sum(nil)[:8])
	return b
})
