package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"opfacade/domain"
	"opfacade/graph/model"
	"opfacade/loader"
	"opfacade/resolvers/view"
	"opfacade/store"
)

// chats lists an OP's chats in one statement that also reads their users,
// and primes the request's loaders with what it read: the users, and the
// OP. When the query asks for the users' grades, it reads them all in one
// more statement and primes those too. The chats' relations then find
// their values in the loaders and never wait for a batching window.
func (r *Resolver) chats(ctx context.Context, s *view.Staff, statuses []model.ChatStatus) ([]view.Chat, error) {
	chats, users, err := r.Store.ChatsByStaff(ctx, s.ID, chatFilter(statuses))
	if err != nil {
		return nil, err
	}
	l := loader.For(ctx)
	l.Staff.Prime(s.ID, s.Staff)
	out := make([]view.Chat, len(chats))
	ids := make([]string, 0, len(users))
	seen := make(map[string]bool, len(users))
	staff := loadStaff(ctx, l, s.ID) // every chat listed is this OP's
	for i, c := range chats {
		out[i] = view.Chat{
			Chat:         c,
			SchemaStatus: chatStatus(c.Status),
			LoadUser:     r.loadUser(ctx, l, c.UserID),
			LoadStaff:    staff,
		}
		if u := users[i]; !seen[u.ID] {
			seen[u.ID] = true
			ids = append(ids, u.ID)
			l.Users.Prime(u.ID, u)
		}
	}
	if len(ids) == 0 || !graphql.FieldRequested(ctx, "user.grade") {
		return out, nil
	}
	grades, err := r.Store.GradesByUserIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, g := range grades {
		l.Grades.Prime(id, g)
	}
	return out, nil
}

// chatFilter maps the schema's statuses to stored ones.
func chatFilter(statuses []model.ChatStatus) store.ChatFilter {
	var f store.ChatFilter
	for _, st := range statuses {
		switch st {
		case model.ChatStatusWait:
			f.Statuses = append(f.Statuses, domain.ChatWait)
		case model.ChatStatusService:
			f.Statuses = append(f.Statuses, domain.ChatService)
		case model.ChatStatusClosed:
			f.Statuses = append(f.Statuses, domain.ChatClosed)
		case model.ChatStatusUnknown:
			f.Unknown = true
		}
	}
	return f
}

// chatStatus maps a stored status to the schema's enum; a status this API
// does not know is UNKNOWN, never an error.
func chatStatus(stored string) model.ChatStatus {
	switch stored {
	case domain.ChatWait:
		return model.ChatStatusWait
	case domain.ChatService:
		return model.ChatStatusService
	case domain.ChatClosed:
		return model.ChatStatusClosed
	}
	return model.ChatStatusUnknown
}
