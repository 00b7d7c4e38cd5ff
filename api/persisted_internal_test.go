package api

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"opfacade/documents"
)

// TestAPQCacheBounded checks that automatic persisted queries are kept
// in a cache of apqCacheSize, the least recently used dropped first.
func TestAPQCacheBounded(t *testing.T) {
	p := newPersistedQueries(nil, false, slog.New(slog.DiscardHandler))
	run := func(query string, sendQuery bool) string {
		ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
		raw := &graphql.RawParams{Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": documents.ID(query)}}}
		if sendQuery {
			raw.Query = query
		}
		if err := p.MutateOperationParameters(ctx, raw); err != nil {
			return err.Extensions["code"].(string)
		}
		return raw.Query
	}
	query := func(i int) string { return fmt.Sprintf("{ a%d: __typename }", i) }
	for i := range apqCacheSize + 1 {
		if got := run(query(i), true); got != query(i) {
			t.Fatalf("keeping query %d: %s", i, got)
		}
	}
	if got := run(query(0), false); got != CodePersistedQueryNotFound {
		t.Errorf("the oldest of %d queries kept: %s", apqCacheSize+1, got)
	}
	for _, i := range []int{1, apqCacheSize} {
		if got := run(query(i), false); got != query(i) {
			t.Errorf("query %d: %s", i, got)
		}
	}
}
