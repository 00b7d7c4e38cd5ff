// Package resolvers answers the schema's fields from the store. The
// GraphQL endpoint and the legacy v2 adapter both run these resolvers,
// so they show the same data.
package resolvers

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"opfacade/domain"
)

// Store is what the resolvers read.
type Store interface {
	ChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) ([]domain.Chat, []domain.User, error)
	CountChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) (int, error)
	StaffByIDs(ctx context.Context, ids []string) (map[string]domain.Staff, error)
	GradesByUserIDs(ctx context.Context, ids []string) (map[string]domain.Grade, error)
}

// Resolver is the root resolver: the one place dependencies come in.
type Resolver struct {
	Store Store
	// DefaultIcon is the icon URL of users who have none.
	DefaultIcon string
	// Live opens live subscriptions; nil for none.
	Live Live
	// Tracer gives each call of a resolver below the root that reads the
	// store (Staff.chats, Staff.chatsConnection) a span named as its
	// field, whoever calls it: gqlgen's executor or the legacy adapter.
	// Nil for none. Root fields get theirs from tracing.GraphQL.
	Tracer trace.Tracer
}
