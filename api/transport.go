package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"opfacade/domain"
)

// postJSON is transport.POST for the common request (a JSON body, a JSON
// answer) that writes the executor's data as it is. transport.POST passes
// the finished response through json.Marshal, which copies the data,
// checks it once more and escapes <, > and & in it: for a thousand-chat
// answer, a megabyte more work. It runs the parameters the guard decoded
// (see decodeBody). Any other request (another Accept, an operation that
// does not validate) goes to transport.POST unchanged, so its answers and
// statuses are gqlgen's.
type postJSON struct{ post transport.POST }

var _ graphql.Transport = postJSON{}

func (t postJSON) Supports(r *http.Request) bool {
	if !t.post.Supports(r) {
		return false
	}
	switch r.Header.Get("Accept") {
	case "", "application/json":
		return true
	}
	return false
}

func (t postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	decoded, ok := paramsFrom(ctx)
	if !ok {
		t.post.Do(w, r, exec)
		return
	}
	params := *decoded
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		t.post.Do(w, r, exec) // gqlgen's answer and status for a bad operation
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	w.Header().Set("Content-Type", "application/json")
	writeResponse(w, responses(ctx))
}

// writeResponse writes resp as JSON; data alone, the usual answer, is
// written without being marshalled again.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if len(resp.Errors) == 0 && len(resp.Data) > 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil && len(resp.Extensions) == 0 {
		_, _ = io.WriteString(w, `{"data":`)
		_, _ = w.Write(resp.Data)
		_, _ = io.WriteString(w, "}")
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`)
	}
	_, _ = w.Write(b)
}

// untilDone is a transport whose operations answer SERVICE_UNAVAILABLE
// (503) when their context ends before the executor answers, as when the
// request deadline passes after the token check. gqlgen's executor then returns no
// response, the end of a stream: postJSON would dereference it, and
// transport.POST and GET would write the JSON value null with a 200.
type untilDone struct {
	graphql.Transport
	present graphql.ErrorPresenterFunc
	message string
}

func (t untilDone) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r, doneExecutor{GraphExecutor: exec, w: w, present: t.present, message: t.message})
}

// doneExecutor is exec with each operation's missing response replaced.
type doneExecutor struct {
	graphql.GraphExecutor
	w       http.ResponseWriter
	present graphql.ErrorPresenterFunc
	message string
}

func (e doneExecutor) DispatchOperation(ctx context.Context, oc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	responses, ctx := e.GraphExecutor.DispatchOperation(ctx, oc)
	return func(ctx context.Context) *graphql.Response {
		if resp := responses(ctx); resp != nil {
			return resp
		}
		return e.unavailable(ctx)
	}, ctx
}

// unavailable starts the 503 answer, whose error the transport then
// writes as it writes any response; the presenter shows it as any
// SERVICE_UNAVAILABLE.
func (e doneExecutor) unavailable(ctx context.Context) *graphql.Response {
	err := domain.Wrap(domain.EUNAVAILABLE, context.Cause(ctx), e.message)
	h := e.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	e.w.WriteHeader(http.StatusServiceUnavailable)
	return &graphql.Response{Errors: gqlerror.List{e.present(ctx, err)}}
}
