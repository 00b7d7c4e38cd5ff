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

// chats lists an OP's chats in one statement that also reads their users.
// Each chat carries its schema status, its user and its OP (s: the chats
// are s's), so none of them needs a resolver of its own. When the query
// asks for the users' grades, it reads them all in one more statement and
// hands each user theirs, so no nested field waits for a batching window.
func (r *Resolver) chats(ctx context.Context, s *view.Staff, statuses []model.ChatStatus) ([]view.Chat, error) {
	chats, users, err := r.Store.ChatsByStaff(ctx, s.ID, chatFilter(statuses))
	if err != nil {
		return nil, err
	}
	out := make([]view.Chat, len(chats))
	vusers := make([]view.User, len(users)) // users[i] is chats[i]'s user
	for i, c := range chats {
		vusers[i] = view.User{User: users[i], Icon: r.icon(&users[i])}
		out[i] = view.Chat{Chat: c, SchemaStatus: chatStatus(c.Status), User: &vusers[i]}
		if c.StaffID == s.ID {
			out[i].Staff = s
		} else if c.StaffID != "" {
			if out[i].Staff, err = r.chatStaff(ctx, c.StaffID); err != nil {
				return nil, err
			}
		}
	}
	loader.For(ctx).Staff.Prime(s.ID, s.Staff)
	if len(users) == 0 || !graphql.FieldRequested(ctx, "user.grade") {
		return out, nil
	}
	ids := make([]string, 0, len(users))
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		if !seen[u.ID] {
			seen[u.ID] = true
			ids = append(ids, u.ID)
		}
	}
	grades, err := r.Store.GradesByUserIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	slab := make([]domain.Grade, len(users))
	for i := range vusers {
		slab[i] = grades[vusers[i].ID]
		vusers[i].Grade = &slab[i]
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
