package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"opfacade/accesslog"
	"opfacade/domain"
	"opfacade/httpguard"
)

// The media types of an answer (GraphQL over HTTP): the client chooses
// with Accept.
const (
	mediaJSON          = "application/json"
	mediaGraphQLAnswer = "application/graphql-response+json"
)

// The transports answer as the GraphQL-over-HTTP specification asks, for
// both media types, which the graphql-http audit checks
// (scripts/graphql-http-audit.sh):
//
//   - an answer with data (null included) is 200;
//   - a request error (the document does not parse or validate, a
//     variable does not coerce, a limit, a persisted query not found)
//     has no data member: 200 under application/json, 400 under
//     application/graphql-response+json;
//   - a request that is not a GraphQL request (no query, a parameter of
//     the wrong type, a persisted query hash that does not match its
//     query, an operation that is not trusted) is 400 under both.
//
// gqlgen's transport.POST and GET answer 422 to request errors under
// application/json and write "data": null with them; these do not.

// postJSON serves a POST with a JSON body: the parameters the guard
// decoded (see decodeBody), with a documentId turned into a persisted
// query. It writes the executor's data as it is: transport.POST passes
// the finished response through json.Marshal, which copies the data,
// checks it once more and escapes <, > and & in it, for a thousand-chat
// answer a megabyte more work.
type postJSON struct{ ops operations }

// getQuery serves a GET: the parameters in the URL's query (query,
// operationName, variables and extensions as JSON, documentId), for
// queries only. CSRF prevention asks a GET for a preflight header (see
// preventCSRF), checked before it runs.
type getQuery struct{ ops operations }

var (
	_ graphql.Transport = postJSON{}
	_ graphql.Transport = getQuery{}
)

func (postJSON) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && isJSON(r.Header.Get("Content-Type"))
}

func (getQuery) Supports(r *http.Request) bool { return r.Method == http.MethodGet }

func (t postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	media := responseType(r.Header.Get("Accept"))
	body := httpguard.Body(r)
	decoded, ok := paramsFrom(r.Context())
	if !ok { // without the guards (tests): read and decode here
		body, _ = io.ReadAll(r.Body)
		decoded, ok = decodeParams(bytes.TrimLeft(body, " \t\r\n"))
		if !ok {
			refuse(w, media, http.StatusBadRequest, CodeBadRequest, "the request body must be one JSON object")
			return
		}
	}
	params := decoded.RawParams
	if bytes.Contains(body, []byte(`"documentId"`)) {
		var id string
		if len(decoded.DocumentID) > 0 && string(decoded.DocumentID) != "null" {
			if json.Unmarshal(decoded.DocumentID, &id) != nil {
				refuse(w, media, http.StatusBadRequest, CodeBadRequest, "documentId must be a string")
				return
			}
		}
		if msg := useDocumentID(&params, id); msg != "" {
			refuse(w, media, http.StatusBadRequest, CodeBadRequest, msg)
			return
		}
	}
	t.ops.run(w, r, exec, params, media, start)
}

func (t getQuery) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	media := responseType(r.Header.Get("Accept"))
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		refuse(w, media, http.StatusBadRequest, CodeBadRequest, "the URL's query does not parse")
		return
	}
	params := graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for _, p := range []struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		if s := q.Get(p.name); s != "" && !decodeOne([]byte(s), p.into) {
			refuse(w, media, http.StatusBadRequest, CodeBadRequest, p.name+" must be a JSON object")
			return
		}
	}
	if msg := useDocumentID(&params, q.Get("documentId")); msg != "" {
		refuse(w, media, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	if op := t.ops.operationType(params); op != "" && op != ast.Query {
		notQuery(w, media, op)
		return
	}
	t.ops.run(w, r, exec, params, media, start)
}

// operationType is the type of the operation params would run, when the
// query names a mutation or subscription and parses; "" otherwise (the
// executor reports why). A GET refuses them before they are validated,
// even when the schema has none.
func (o operations) operationType(params graphql.RawParams) ast.Operation {
	if !strings.Contains(params.Query, "mutation") && !strings.Contains(params.Query, "subscription") {
		return ""
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, o.maxTokens)
	if err != nil {
		return ""
	}
	if op := doc.Operations.ForName(params.OperationName); op != nil {
		return op.Operation
	}
	return ""
}

// notQuery refuses a GET of a mutation or subscription: 405, as GraphQL
// over HTTP asks, with the method that may send it.
func notQuery(w http.ResponseWriter, media string, op ast.Operation) {
	w.Header().Set("Allow", http.MethodPost)
	refuse(w, media, http.StatusMethodNotAllowed, CodeMethodNotAllowed, fmt.Sprintf("a GET runs queries only: send a %s as a POST", op))
}

// decodeOne decodes data, one JSON value and nothing after it, into v,
// numbers kept as written.
func decodeOne(data []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(v) != nil {
		return false
	}
	_, err := dec.Token()
	return err == io.EOF
}

// useDocumentID makes a persisted document request (GraphQL over HTTP,
// Appendix: Persisted Documents) the persisted query Apollo clients send:
// documentId "sha256:<hex>", or the bare hex of a manifest's id, becomes
// extensions.persistedQuery {"version": 1, "sha256Hash": "<hex>"}. It
// returns why the request is refused, or "" ("" id: no documentId).
func useDocumentID(p *graphql.RawParams, id string) string {
	if id == "" {
		return ""
	}
	if p.Query != "" {
		return "send either query or documentId, not both"
	}
	if _, ok := p.Extensions["persistedQuery"]; ok {
		return "send either documentId or extensions.persistedQuery, not both"
	}
	ext := make(map[string]any, len(p.Extensions)+1)
	maps.Copy(ext, p.Extensions)
	ext["persistedQuery"] = map[string]any{"version": 1, "sha256Hash": strings.TrimPrefix(id, "sha256:")}
	p.Extensions = ext
	return ""
}

// operations runs the operation of a request, for both transports.
type operations struct {
	present graphql.ErrorPresenterFunc
	// unavailable is what an operation whose context ended first is told.
	unavailable string
	// maxTokens bounds the documents a GET parses to learn its type.
	maxTokens int
}

func (o operations) run(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params graphql.RawParams, media string, start time.Time) {
	ctx := r.Context()
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		refuse(w, media, http.StatusBadRequest, CodeBadRequest, `the request has no query: send {"query": "…"}, or the hash of a persisted query`)
		return
	}
	if r.Method == http.MethodGet { // a POST's decodeBody set it
		accesslog.SetOperation(ctx, params.OperationName)
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	// Set first, so that even a panic's answer (gqlgen's handler writes
	// it) has a JSON type.
	w.Header().Set("Content-Type", media)
	rc, errs := exec.CreateOperationContext(ctx, &params)
	if rc != nil && rc.Operation != nil {
		accesslog.SetOperation(ctx, rc.Operation.Name)
	}
	if errs != nil {
		status := requestErrorStatus(errs, media)
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		writeErrors(w, status, resp.Errors)
		return
	}
	if r.Method == http.MethodGet && rc.Operation.Operation != ast.Query { // a persisted one
		notQuery(w, media, rc.Operation.Operation)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if resp == nil {
		o.writeUnavailable(ctx, w)
		return
	}
	setOutcome(w, resp.Errors)
	writeResponse(w, resp)
}

// writeUnavailable answers SERVICE_UNAVAILABLE (503) for an operation
// whose context ended before the executor answered, as when the request
// deadline passes after the token check: gqlgen's executor then returns
// no response, the end of a stream. The presenter shows it as any
// SERVICE_UNAVAILABLE.
func (o operations) writeUnavailable(ctx context.Context, w http.ResponseWriter) {
	err := domain.Wrap(domain.EUNAVAILABLE, context.Cause(ctx), o.unavailable)
	h := w.Header()
	h.Set("Content-Type", mediaJSON)
	h.Set("Cache-Control", "no-store")
	errs := gqlerror.List{o.present(ctx, err)}
	setOutcome(w, errs)
	w.WriteHeader(http.StatusServiceUnavailable)
	writeResponse(w, &graphql.Response{Errors: errs})
}

// requestErrorStatus is the status of a request refused before it ran:
// 400 for a request that is not a GraphQL request one can run, whatever
// the media type; otherwise, for a document that does not parse,
// validate or fit the limits, 200 under application/json and 400 under
// application/graphql-response+json.
func requestErrorStatus(errs gqlerror.List, media string) int {
	for _, e := range errs {
		switch e.Extensions["code"] {
		case CodeBadRequest, CodePersistedQueryHashMismatch, CodeOperationNotTrusted:
			return http.StatusBadRequest
		}
	}
	if media == mediaGraphQLAnswer {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// refuse answers a request error with one error carrying code.
func refuse(w http.ResponseWriter, media string, status int, code, message string) {
	w.Header().Set("Content-Type", media)
	writeErrors(w, status, gqlerror.List{codeError(code, message)})
}

// writeErrors answers errors without data: the request did not run.
// No cache keeps the answer (a CDN in front of GET requests must not
// keep PERSISTED_QUERY_NOT_FOUND, say).
func writeErrors(w http.ResponseWriter, status int, errs gqlerror.List) {
	b, err := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{errs})
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	}
	setOutcome(w, errs)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// setOutcome tells the access log the code of the first of errs, the
// answer's outcome, and the limit it names if any; none when there are
// none.
func setOutcome(w http.ResponseWriter, errs gqlerror.List) {
	if len(errs) == 0 || errs[0] == nil {
		return
	}
	code, _ := errs[0].Extensions["code"].(string)
	httpguard.SetOutcome(w, httpguard.Outcome{Text: code, Limit: limitOf[code]})
}

// responseType is the media type of the answer to a request with this
// Accept header: the one of application/graphql-response+json and
// application/json (or application/*, */*) with the highest q, the first
// listed on a tie; application/json when Accept is missing or names
// neither, as GraphQL over HTTP lets a server do.
func responseType(accept string) string {
	best, bestQ := mediaJSON, 0.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		var m string
		switch mt {
		case mediaGraphQLAnswer:
			m = mediaGraphQLAnswer
		case mediaJSON, "application/*", "*/*":
			m = mediaJSON
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = m, q
		}
	}
	return best
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
