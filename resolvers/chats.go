package resolvers

import (
	"context"

	"opfacade/domain"
	"opfacade/loader"
	"opfacade/model"
)

// Chats lists the OP's chats with the given statuses, each with its user
// and OP filled in, and the users' grades when withGrades is set: one
// statement for the chats and their users, one more for all the grades.
// The GraphQL field asks for grades when the operation selects them; the
// legacy adapter always does.
//
// The relations are filled in here, for the whole list at once, rather
// than by a resolver per chat: gqlgen runs each resolver field in a
// goroutine of its own, and a chat list is the one place where a request
// meets many objects. What is read primes the request's loaders, so any
// later lookup of these users, grades or OP costs no statement.
func (r *Resolver) Chats(ctx context.Context, s *model.Staff, statuses []model.ChatStatus, withGrades bool) ([]model.Chat, error) {
	chats, users, err := r.Store.ChatsByStaff(ctx, s.ID, chatFilter(statuses))
	if err != nil {
		return nil, err
	}
	l := loader.For(ctx)
	out := make([]model.Chat, len(chats))
	byID := make(map[string]*model.User, len(users))
	ids := make([]string, 0, len(users))
	for i, c := range chats {
		u := byID[c.UserID]
		if u == nil {
			u = r.user(users[i])
			byID[u.ID] = u
			ids = append(ids, u.ID)
			l.Users.Prime(u.ID, users[i])
		}
		out[i] = chatModel(c, u, s) // every chat listed is this OP's
	}
	if !withGrades || len(ids) == 0 {
		return out, nil
	}
	grades, err := r.Store.GradesByUserIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, g := range grades {
		l.Grades.Prime(id, g)
		if u := byID[id]; u != nil {
			u.Grade = &g
		}
	}
	return out, nil
}

// chatModel is c as the schema shows it, with its user and OP.
func chatModel(c domain.Chat, u *model.User, s *model.Staff) model.Chat {
	return model.Chat{
		ID:           c.ID,
		GroupID:      c.GroupID,
		Title:        c.Title,
		Status:       chatStatus(c.Status),
		StoredStatus: c.Status,
		Address:      c.Address,
		Message:      c.LastMessage,
		CreateTime:   c.CreateTime,
		User:         u,
		Staff:        s,
	}
}

// chatFilter maps the schema's statuses to stored ones.
func chatFilter(statuses []model.ChatStatus) domain.ChatFilter {
	var f domain.ChatFilter
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
