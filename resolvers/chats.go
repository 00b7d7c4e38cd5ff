package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"opfacade/domain"
	"opfacade/model"
	"opfacade/tracing"
)

// MaxChats is the most chats Staff.chats lists: the newest MaxChats when
// an OP has more. An OP serves a few dozen chats at once (the complexity
// estimate counts 50), so the consoles' list of the chats in service is
// never cut; it bounds what a long history (closed chats) costs one
// request, and chatsConnection pages through the rest. It is above the
// store's IN list (1,024 keys), so a list's users and grades may take a
// second lookup each, as the legacy path's may.
const MaxChats = 2000

// chatsSpan names the span of a chat list, as the field it answers.
const chatsSpan = "Staff.chats"

// Chats lists the OP's chats with the given statuses, every one of them,
// each with its user and OP filled in, and the users' grades when
// withGrades is set: one statement for the chats and their users, one
// more for all the grades. The legacy adapter calls it with grades: the
// v2 contract lists every chat in service, with no paging, so it has no
// maximum (the GraphQL list has MaxChats, see ChatList).
//
// The relations are filled in here, for the whole list at once, rather
// than by a resolver per chat: gqlgen runs each resolver field in a
// goroutine of its own, and a chat list is the one place where a request
// meets many objects. What is read primes the request's loaders, so any
// later lookup of these users, grades or OP costs no statement.
func (r *Resolver) Chats(ctx context.Context, s *model.Staff, statuses []model.ChatStatus, withGrades bool) (out []model.Chat, err error) {
	ctx, span := tracing.Start(ctx, r.Tracer, chatsSpan)
	defer func() { tracing.End(span, err) }()
	out, _, _, err = r.listChats(ctx, s, chatFilter(statuses), 0, withGrades)
	return out, err
}

// ChatList answers Staff.chats: Chats, cut at the newest MaxChats.
// withGrades is ListWantsGrades of the field.
func (r *Resolver) ChatList(ctx context.Context, s *model.Staff, statuses []model.ChatStatus, withGrades bool) (out []model.Chat, err error) {
	ctx, span := tracing.Start(ctx, r.Tracer, chatsSpan)
	defer func() { tracing.End(span, err) }()
	f := chatFilter(statuses)
	f.Limit = MaxChats
	out, _, _, err = r.listChats(ctx, s, f, 0, withGrades)
	return out, err
}

// ListWantsGrades reports whether the Staff.chats field in ctx selects
// its users' grades, through aliases, fragments and directives: only then
// are they read.
func ListWantsGrades(ctx context.Context) bool {
	return graphql.FieldRequested(ctx, "user.grade")
}

// listChats lists the OP's chats that f selects as Chats does; with n
// above 0, the first n of them, reading one more to tell whether more
// follow. rows are the chats as the store read them.
func (r *Resolver) listChats(ctx context.Context, s *model.Staff, f domain.ChatFilter, n int, withGrades bool) (out []model.Chat, rows []domain.Chat, more bool, err error) {
	if n > 0 {
		f.Limit = n + 1
	}
	chats, users, err := r.Store.ChatsByStaff(ctx, s.ID, f)
	if err != nil {
		return nil, nil, false, err
	}
	if n > 0 && len(chats) > n {
		chats, users, more = chats[:n], users[:n], true
	}
	out = make([]model.Chat, len(chats))
	// The users, and then their grades, live in one slice each: one
	// allocation a list rather than one a user.
	listed := make([]model.User, 0, len(users))
	byID := make(map[string]*model.User, len(users))
	ids := make([]string, 0, len(users))
	for i, c := range chats {
		u := byID[c.UserID]
		if u == nil {
			listed = append(listed, r.user(users[i]))
			u = &listed[len(listed)-1]
			byID[u.ID] = u
			ids = append(ids, u.ID)
		}
		out[i] = chatModel(c, u, s) // every chat listed is this OP's
	}
	if !withGrades || len(ids) == 0 {
		return out, chats, more, nil
	}
	grades, err := r.Store.GradesByUserIDs(ctx, ids)
	if err != nil {
		return nil, nil, false, err
	}
	counts := make([]domain.Grade, 0, len(grades))
	for id, g := range grades {
		if u := byID[id]; u != nil {
			counts = append(counts, g)
			u.Grade = &counts[len(counts)-1]
		}
	}
	return out, chats, more, nil
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
