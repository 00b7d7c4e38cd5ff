package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/domain"
	"opfacade/store"
)

// crossOriginPage is a web app on another origin: its script POSTs the
// query in its URL's query string to the api URL there, with the token as
// bearer and the Content-Type given, as a frontend does with fetch(), and
// leaves what the browser let it see in window.__result.
const crossOriginPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>a web app on another origin</title></head>
<body>
<script>
(async () => {
  const p = new URLSearchParams(location.search);
  const headers = {'Content-Type': p.get('type')};
  if (p.get('token')) headers['Authorization'] = 'Bearer ' + p.get('token');
  try {
    const res = await fetch(p.get('api'), {method: 'POST', headers, body: JSON.stringify({query: p.get('query')})});
    window.__result = {status: res.status, body: await res.text()};
  } catch (e) {
    window.__result = {error: String(e)};
  }
  document.body.textContent = JSON.stringify(window.__result);
})();
</script>
</body></html>
`

// tokenLog counts the bearer tokens the front door looked up: a token
// never looked up belongs to a request that never ran.
type tokenLog struct {
	*store.Store
	mu   sync.Mutex
	seen map[string]int
}

func (l *tokenLog) StaffByToken(ctx context.Context, token string) (domain.Staff, error) {
	l.mu.Lock()
	l.seen[token]++
	l.mu.Unlock()
	return l.Store.StaffByToken(ctx, token)
}

func (l *tokenLog) count(token string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[token]
}

// TestCORSInBrowser drives headless Chromium to pages served from two
// other loopback origins, one the facade allows (-cors-origins) and one it
// does not, whose scripts fetch() the GraphQL endpoint as a frontend's
// dev server would: the allowed page gets the data, and reads the errors
// too; the other page's fetch fails, its preflight refused, and its
// operation never runs; a form-like request, which a browser sends
// without a preflight, runs nothing from either (CSRF prevention).
func TestCORSInBrowser(t *testing.T) {
	chrome := apptest.Chromium(t)

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(crossOriginPage))
	})
	allowedSite := httptest.NewServer(page)
	t.Cleanup(allowedSite.Close)
	otherSite := httptest.NewServer(page)
	t.Cleanup(otherSite.Close)

	tokens := &tokenLog{seen: map[string]int{}}
	cfg := apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), func(c *app.Config) {
		c.CORSOrigins = []string{allowedSite.URL} // http://127.0.0.1:port, another port than the facade's
	})
	srv := apptest.NewServerOver(t, cfg, func(st *store.Store) app.Backend { tokens.Store = st; return tokens })

	ctx := apptest.Browser(t, chrome)
	var mu sync.Mutex
	var corsErrors []string
	err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*network.EventLoadingFailed); ok && ev.CorsErrorStatus != nil {
			mu.Lock()
			corsErrors = append(corsErrors, ev.CorsErrorStatus.CorsError.String())
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listening to the browser: %v", err)
	}

	type result struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
		Error  string `json:"error"`
	}
	// fetchFrom opens the page of site, whose script sends query, and
	// returns what the script saw and the CORS errors the browser
	// reported meanwhile.
	fetchFrom := func(t *testing.T, site *httptest.Server, contentType, token, query string) (result, []string) {
		t.Helper()
		mu.Lock()
		corsErrors = nil
		mu.Unlock()
		u := site.URL + "/?" + url.Values{"api": {srv.URL + "/query"}, "type": {contentType}, "token": {token}, "query": {query}}.Encode()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, chromedp.Navigate(u)); err != nil {
			t.Fatalf("opening %s: %v", u, err)
		}
		if _, err := chromedp.Run(sctx, chromedp.Poll[bool](`window.__result !== undefined`, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("the page's fetch did not finish: %v; the page shows: %s", err, got)
		}
		raw, err := chromedp.Run(sctx, chromedp.Evaluate[string](`JSON.stringify(window.__result)`))
		if err != nil {
			t.Fatalf("reading the page's result: %v", err)
		}
		var r result
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatalf("the page's result %s: %v", raw, err)
		}
		mu.Lock()
		defer mu.Unlock()
		return r, append([]string(nil), corsErrors...)
	}

	const query = `{ me { id name } }`
	t.Run("an allowed origin gets the data", func(t *testing.T) {
		r, errs := fetchFrom(t, allowedSite, "application/json", apptest.TokenLi, query)
		if r.Error != "" || r.Status != 200 || !strings.Contains(r.Body, apptest.StaffLi) || strings.Contains(r.Body, `"errors"`) {
			t.Fatalf("the page saw %+v (CORS errors %q), want 小李's data", r, errs)
		}
	})
	t.Run("an allowed origin reads an error", func(t *testing.T) {
		r, errs := fetchFrom(t, allowedSite, "application/json", apptest.TokenExpired, query)
		if r.Error != "" || r.Status != 200 || !strings.Contains(r.Body, `"code":"UNAUTHENTICATED"`) {
			t.Fatalf("the page saw %+v (CORS errors %q), want UNAUTHENTICATED", r, errs)
		}
	})
	t.Run("an allowed origin's request sent without a preflight runs nothing", func(t *testing.T) {
		r, errs := fetchFrom(t, allowedSite, "text/plain", "", query)
		if r.Error != "" || r.Status != 400 || !strings.Contains(r.Body, `"code":"CSRF_PREVENTED"`) {
			t.Fatalf("the page saw %+v (CORS errors %q), want a readable CSRF_PREVENTED", r, errs)
		}
	})
	t.Run("another origin is blocked and its operation never runs", func(t *testing.T) {
		r, errs := fetchFrom(t, otherSite, "application/json", apptest.TokenWang, query)
		if r.Error == "" || r.Status != 0 || r.Body != "" {
			t.Fatalf("the page saw %+v, want its fetch to fail", r)
		}
		if !slices.Contains(errs, "PreflightMissingAllowOriginHeader") {
			t.Errorf("the browser reported the CORS errors %q, want PreflightMissingAllowOriginHeader; the page saw %+v", errs, r)
		}
		if n := tokens.count(apptest.TokenWang); n != 0 {
			t.Errorf("the token was looked up %d times: the operation ran", n)
		}
		t.Logf("the page saw %s; the browser reported %q", r.Error, errs)
	})
	t.Run("another origin's request sent without a preflight runs nothing and is unreadable", func(t *testing.T) {
		r, errs := fetchFrom(t, otherSite, "text/plain", "", query)
		if r.Error == "" || r.Status != 0 || r.Body != "" {
			t.Fatalf("the page saw %+v, want its fetch to fail", r)
		}
		if !slices.Contains(errs, "MissingAllowOriginHeader") {
			t.Errorf("the browser reported the CORS errors %q, want MissingAllowOriginHeader; the page saw %+v", errs, r)
		}
		t.Logf("the page saw %s; the browser reported %q", r.Error, errs)
	})
}
