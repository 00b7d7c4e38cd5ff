package api

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/go-viper/mapstructure/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"opfacade/documents"
)

// The extensions.code of a persisted query refused.
const (
	// A sha256Hash (or documentId) the server does not know: the client
	// sends the query again with it (Apollo clients do so by themselves).
	// gqlgen's own code.
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	// A query sent with a sha256Hash that is not its hash (HTTP 400).
	CodePersistedQueryHashMismatch = "PERSISTED_QUERY_HASH_MISMATCH"
	// With -trusted-only, a query that is not one of the trusted
	// documents (HTTP 400).
	CodeOperationNotTrusted = "OPERATION_NOT_TRUSTED"
)

// apqCacheSize bounds the automatic persisted queries a replica keeps:
// far more than the operations its frontends send, and at most
// apqCacheSize times the body limit of memory.
const apqCacheSize = 1000

// persistedQueries runs the operations clients name by hash
// (extensions.persistedQuery.sha256Hash, version 1, as Apollo clients
// send it, or documentId, which the transports turn into it):
//
//   - the trusted documents, when a manifest is loaded, by id;
//   - then Apollo's automatic persisted queries (gqlgen's
//     extension.AutomaticPersistedQuery over a bounded LRU cache): a
//     query sent with its hash is kept, and a hash sent alone runs the
//     query kept for it, or answers PERSISTED_QUERY_NOT_FOUND, upon which
//     the client sends the query with the hash.
//
// With trustedOnly every operation that is not a trusted document, by
// id or by its text, is OPERATION_NOT_TRUSTED, and no query is kept: a
// hash the manifest lacks is PERSISTED_QUERY_NOT_FOUND.
//
// It refuses, with codes of their own, what gqlgen's extension would
// answer with a bare message: a hash that does not match its query, an
// extension that is not {"version": 1, "sha256Hash": "…"}.
type persistedQueries struct {
	trusted     map[string]string // id (the body's sha256) → body
	trustedOnly bool
	apq         extension.AutomaticPersistedQuery
	log         *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedQueries{}

// newPersistedQueries serves the operations of m (nil: none) by id, and
// automatic persisted queries unless trustedOnly.
func newPersistedQueries(m *documents.Manifest, trustedOnly bool, log *slog.Logger) persistedQueries {
	p := persistedQueries{
		trusted:     map[string]string{},
		trustedOnly: trustedOnly,
		apq:         extension.AutomaticPersistedQuery{Cache: lru.New[string](apqCacheSize)},
		log:         log,
	}
	if m != nil {
		for _, op := range m.Operations {
			p.trusted[op.ID] = op.Body
		}
	}
	return p
}

func (persistedQueries) ExtensionName() string { return "PersistedQueries" }

func (p persistedQueries) Validate(schema graphql.ExecutableSchema) error {
	return p.apq.Validate(schema)
}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	ext, ok := raw.Extensions["persistedQuery"]
	if !ok || ext == nil {
		if p.trustedOnly {
			if id := documents.ID(raw.Query); p.trusted[id] == "" {
				return p.notTrusted(ctx, raw, id)
			}
		}
		return nil
	}
	var pq struct {
		Hash    string `mapstructure:"sha256Hash"`
		Version int64  `mapstructure:"version"`
	}
	if mapstructure.Decode(ext, &pq) != nil || pq.Hash == "" {
		return codeError(CodeBadRequest, `extensions.persistedQuery must be {"version": 1, "sha256Hash": "<the query's SHA-256 in hex>"}`)
	}
	if pq.Version != 1 {
		return codeError(CodeBadRequest, "extensions.persistedQuery.version must be 1")
	}
	if raw.Query != "" {
		if documents.ID(raw.Query) != pq.Hash {
			return codeError(CodePersistedQueryHashMismatch, "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query")
		}
		if _, ok := p.trusted[pq.Hash]; ok {
			return nil
		}
		if p.trustedOnly {
			return p.notTrusted(ctx, raw, pq.Hash) // the query's, checked above
		}
		return p.apq.MutateOperationParameters(ctx, raw) // keeps it
	}
	if body, ok := p.trusted[pq.Hash]; ok {
		raw.Query = body
		return nil
	}
	if p.trustedOnly {
		return codeError(CodePersistedQueryNotFound, "PersistedQueryNotFound")
	}
	return p.apq.MutateOperationParameters(ctx, raw) // the query kept, or PERSISTED_QUERY_NOT_FOUND
}

// notTrusted refuses an operation that is not a trusted document, and
// says so in the log at Debug: a console whose manifest was not deployed
// shows up there. id is the query's SHA-256 (documents.ID).
func (p persistedQueries) notTrusted(ctx context.Context, raw *graphql.RawParams, id string) *gqlerror.Error {
	p.log.DebugContext(ctx, "graphql operation not trusted", "operationName", raw.OperationName, "sha256", id)
	return codeError(CodeOperationNotTrusted, "only trusted documents run here: send the id (extensions.persistedQuery.sha256Hash or documentId) of an operation of the manifest")
}

// codeError is an error of the request with code.
func codeError(code, message string) *gqlerror.Error {
	err := gqlerror.Errorf("%s", message)
	errcode.Set(err, code)
	return err
}

// checkTrusted logs each operation of m that does not fit the schema: its
// clients will get GRAPHQL_VALIDATION_FAILED for it.
func checkTrusted(schema *ast.Schema, m *documents.Manifest, log *slog.Logger) {
	if m == nil {
		return
	}
	for _, op := range m.Operations {
		doc, err := parser.ParseQuery(&ast.Source{Input: op.Body})
		if err == nil {
			if errs := validator.ValidateWithRules(schema, doc, nil); len(errs) > 0 {
				err = errs
			}
		}
		if err != nil {
			log.Warn("a trusted document does not fit the schema: its clients will be refused", "name", op.Name, "id", op.ID, "err", err)
		}
	}
}
