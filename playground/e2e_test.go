package playground_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"opfacade/app"
	"opfacade/app/apptest"
	"opfacade/store"
)

// The demo data of the facade includes the rows of the legacy example
// fixture: this token belongs to the OP 小李, one of whose chats is with the
// user 阿洋.
const (
	demoToken  = "o0001403351be22c648efa24c20e842fd7351"
	demoQuery  = `{ me { name chats { id user { nickName } } } }`
	wantNick   = "阿洋"
	wantChatID = "u0001d68d5da979194a4b831097de49db3dd2"
	// otherStaffID is the OP 小王 of the fixture, whom 小李 may not look at.
	otherStaffID = "u0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50"
	// demoStaffID is 小李, the demo token's OP.
	demoStaffID = "u0001a5f0c3d2e1b04c7e9f8a6b5c4d3e2f10"
	liveQuery   = `subscription Live { me { isOnline chats { id title } } }`
	liveTitle   = "实时更新的标题"
)

// TestPlaygroundInBrowser builds the facade server, starts it on a fresh
// demo database and drives the playground at / in headless Chromium: the
// headers editor is prefilled with the demo token, the query editor opens on
// the consoles' query, which runs as it stands, an error of the server is
// shown, a query runs and shows the demo data, a subscription runs and
// shows a change made to the database underneath, the docs explorer opens,
// the page breaks no rule of its Content-Security-Policy, and no request
// leaves the machine.
func TestPlaygroundInBrowser(t *testing.T) {
	chrome := apptest.Chromium(t)

	dir := t.TempDir()
	bin := buildServer(t, dir)
	base := startServer(t, bin, dir)

	ctx := apptest.Browser(t, chrome, chromedp.WindowSize(1440, 900))

	// Record every request and every security-policy violation before the
	// page loads.
	var mu sync.Mutex
	var requests, console []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		case *cdplog.EventEntryAdded:
			console = append(console, fmt.Sprintf("%s %s: %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			console = append(console, "exception: "+text)
		}
	})
	if err != nil {
		t.Fatalf("listening to the browser: %v", err)
	}
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + e.blockedURI));`,
	})
	if err != nil {
		t.Fatalf("installing the CSP violation recorder: %v", err)
	}

	step := func(name string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// waitFor polls a JavaScript expression until it is true.
	waitFor := func(name string, timeout time.Duration, expr, describe string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](describe))
			t.Fatalf("%s: %v; the page shows:\n%s", name, err, got)
		}
	}

	defer func() {
		// A screenshot helps with any failure as much as with success.
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("taking a screenshot: %v", err)
			return
		}
		shotDir, err := os.MkdirTemp("", "playground-e2e-")
		if err != nil {
			t.Logf("saving the screenshot: %v", err)
			return
		}
		path := filepath.Join(shotDir, "playground.png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Logf("saving the screenshot: %v", err)
			return
		}
		t.Logf("screenshot of the playground: %s", path)
	}()

	step("opening the playground", 30*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .monaco-editor")),
	)

	// Monaco renders spaces as no-break spaces; compare on normal ones.
	const text = `(sel) => (document.querySelector(sel)?.innerText ?? '').replace(/\u00a0/g, ' ')`

	waitFor("the headers editor is open and prefilled", 20*time.Second,
		`(`+text+`)('.graphiql-editor-tool').includes('"Authorization": "Bearer `+demoToken+`"')`,
		`(`+text+`)('.graphiql-editors')`)

	// The query editor opens on the consoles' query (app.DefaultPlaygroundQuery),
	// compared with its whitespace collapsed, and it runs as it stands with
	// the prefilled token. The editor renders only the lines in view, so
	// what it shows must be the query's beginning, its first lines at least.
	wantQuery, _ := json.Marshal(strings.Join(strings.Fields(app.DefaultPlaygroundQuery), " "))
	waitFor("the query editor opens on the consoles' query", 20*time.Second,
		`(() => { const shown = (`+text+`)('.graphiql-query-editor .view-lines').split(/\s+/).join(' ').trim();
			return shown.length >= 40 && `+string(wantQuery)+`.startsWith(shown); })()`,
		`(`+text+`)('.graphiql-query-editor .view-lines')`)
	step("running the consoles' query", 10*time.Second,
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	)
	waitFor("the result shows the demo OP's chats", 20*time.Second,
		`(()=>{ const r = (`+text+`)('.result-window'); return r.includes('`+wantNick+`') && r.includes('`+wantChatID+`') && !r.includes('"errors"'); })()`,
		`(`+text+`)('.result-window')`)

	// runQuery replaces the text of the query editor with q and runs it,
	// once GraphiQL has named the tab tab after it. The editor closes
	// brackets as they are typed; the closing brackets it adds end up after
	// the cursor, so it deletes everything from there to the end.
	runQuery := func(q, tab string) {
		t.Helper()
		step("typing "+q, 20*time.Second,
			chromedp.Click(chromedp.CSS(".graphiql-query-editor .view-lines")),
			chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: q})
				return err
			}),
			chromedp.KeyEvent(kb.End, chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierShift)),
			chromedp.KeyEvent(kb.Delete),
		)
		waitFor("the query editor holds "+q, 10*time.Second,
			`(`+text+`)('.graphiql-query-editor .view-lines').trim() === '`+q+`'`,
			`(`+text+`)('.graphiql-query-editor .view-lines')`)
		// GraphiQL reads the operation from the editor 100 ms after a
		// change, and names the tab after it: until the tab has the
		// operation's name, a run would send the operation before.
		waitFor("GraphiQL has read "+q, 10*time.Second,
			`(`+text+`)('.graphiql-tab-active .graphiql-tab-button').trim() === '`+tab+`'`,
			`(`+text+`)('.graphiql-tabs')`)
		step("running "+q, 10*time.Second,
			chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		)
	}

	// An error of the server is shown in the result panel: the demo OP may
	// not look at another OP.
	runQuery(`{ staff(id: "`+otherStaffID+`") { name } }`, "<untitled>")
	waitFor("the result shows the error", 20*time.Second,
		`(()=>{ const r = (`+text+`)('.result-window'); return r.includes('"errors"') && r.includes('"FORBIDDEN"'); })()`,
		`(`+text+`)('.result-window')`)

	// A field the schema lacks is marked in the editor (a squiggle drawn
	// with a data: image, which the page's policy allows; the recorder
	// below fails the test on any violation) and refused by the server.
	runQuery(`{ me { fieldThatDoesNotExist } }`, "<untitled>")
	waitFor("the editor marks the unknown field", 20*time.Second,
		`document.querySelector('.graphiql-query-editor .squiggly-error') !== null`,
		`(`+text+`)('.graphiql-query-editor .view-lines')`)
	waitFor("the result shows the validation error", 20*time.Second,
		`(()=>{ const r = (`+text+`)('.result-window'); return r.includes('"errors"') && r.includes('GRAPHQL_VALIDATION_FAILED'); })()`,
		`(`+text+`)('.result-window')`)

	runQuery(demoQuery, "<untitled>")
	waitFor("the result shows the demo OP's chats", 20*time.Second,
		`(()=>{ const r = (`+text+`)('.result-window'); return r.includes('`+wantNick+`') && r.includes('`+wantChatID+`'); })()`,
		`(`+text+`)('.result-window')`)

	// A subscription runs over the endpoint's WebSocket, the headers
	// editor's token in its connection_init; a change the platform makes
	// in the database shows in the result panel, at the next tick.
	runQuery(liveQuery, "Live")
	waitFor("the subscription's first answer", 20*time.Second,
		`(()=>{ const r = (`+text+`)('.result-window'); return r.includes('"isOnline": false') && r.includes('`+wantChatID+`'); })()`,
		`(`+text+`)('.result-window')`)
	changeDemo(t, dir, `UPDATE op_staff SET online = 1 WHERE staff_id = '`+demoStaffID+`'`,
		`UPDATE op_chat SET title = '`+liveTitle+`' WHERE chat_id = '`+wantChatID+`'`)
	waitFor("the subscription's answer after the change", 20*time.Second,
		`(()=>{ const r = (`+text+`)('.result-window'); return r.includes('"isOnline": true') && r.includes('`+liveTitle+`'); })()`,
		`(`+text+`)('.result-window')`)

	// The docs explorer shows the schema that GraphiQL got by introspection.
	step("opening the docs explorer", 10*time.Second,
		chromedp.Click(chromedp.CSS(`.graphiql-sidebar button[aria-label="Show Documentation Explorer"]`)),
	)
	waitFor("the docs explorer shows the root types", 20*time.Second,
		`(()=>{ const d = (`+text+`)('.graphiql-doc-explorer'); return d.includes('Root Types') && d.includes('query: '); })()`,
		`(`+text+`)('.graphiql-plugin')`)

	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__cspViolations`))
	if err != nil {
		t.Fatalf("reading the CSP violations: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Errorf("Content-Security-Policy violation: %s", v)
	}
	for _, m := range console {
		if strings.Contains(m, "Content Security Policy") {
			t.Errorf("Content-Security-Policy violation: %s", m)
		} else {
			t.Logf("console: %s", m)
		}
	}
	if len(requests) == 0 {
		t.Fatal("no request was recorded")
	}
	offMachine := 0
	for _, raw := range requests {
		if err := loopbackOnly(raw); err != nil {
			offMachine++
			t.Errorf("the page sent a request off the machine: %v", err)
		}
	}
	if offMachine == 0 {
		t.Logf("the page made %d requests, all to the server under test", len(requests))
	}
}

// changeDemo runs statements on the demo database in dir from a
// connection of its own, as the platform changes it under the server.
func changeDemo(t *testing.T, dir string, statements ...string) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "demo.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range statements {
		if _, err := st.DB().ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// loopbackOnly reports a request URL whose host is not a loopback address.
// data: and blob: URLs stay in the page.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %v", raw, err)
	}
	switch u.Scheme {
	case "data", "blob", "about":
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s", raw)
}

// buildServer builds the facade server, the main package opfacade at the
// module root, into dir.
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "facade")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// "." in the module root is the package opfacade; naming it by path
	// would give a misleading "not in std" error while it has no Go files.
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("building the facade server (go build -o %s opfacade) failed: %v\n%s", bin, err, out)
	}
	return bin
}

// syncBuffer collects the output of the server.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs the server on a free loopback port with a new demo
// database in dir, waits until /readyz answers 200 and returns its base URL.
// The server is stopped when the test ends.
func startServer(t *testing.T, bin, dir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()

	var out syncBuffer
	cmd := exec.Command(bin, "-addr", addr, "-db", filepath.Join(dir, "demo.db"), "-demo")
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the facade server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("output of the facade server:\n%s", out.String())
		}
	})

	base := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("the facade server exited before it was ready: %v\n%s", err, out.String())
		default:
		}
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the facade server was not ready within 60s (last answer of /readyz: %v)\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
