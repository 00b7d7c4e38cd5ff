package main

import (
	"context"
	"errors"
	"slices"
	"time"

	"opfacade/domain"
	"opfacade/store"
)

// memStore answers the GraphQL path's reads from rows the real store read
// once. The facade over it does everything a request costs except SQL:
// what it then costs per chat is gqlgen's, the loaders' and the
// resolvers' share, which no change to the statements can take away.
type memStore struct {
	byToken map[string]domain.Staff
	staff   map[string]domain.Staff
	chats   map[string][]domain.Chat // in service, by OP, in the store's order
	users   map[string][]domain.User // one per chat, as ChatsByStaff returns them
	byID    map[string]domain.User
	grades  map[string]domain.Grade
}

var errNotHeld = errors.New("memStore holds only the chats in service of the OPs it was loaded with")

// loadMemStore reads what the main query needs for logins from st.
func loadMemStore(ctx context.Context, st *store.Store, logins []login) (*memStore, error) {
	m := &memStore{
		byToken: map[string]domain.Staff{}, staff: map[string]domain.Staff{},
		chats: map[string][]domain.Chat{}, users: map[string][]domain.User{},
		byID: map[string]domain.User{}, grades: map[string]domain.Grade{},
	}
	for _, l := range logins {
		s, err := st.StaffByToken(ctx, l.Token)
		if err != nil {
			return nil, err
		}
		m.byToken[l.Token], m.staff[s.ID] = s, s
		chats, users, err := st.ChatsByStaff(ctx, s.ID, inService())
		if err != nil {
			return nil, err
		}
		m.chats[s.ID], m.users[s.ID] = chats, users
		ids := make([]string, len(users))
		for i, u := range users {
			m.byID[u.ID], ids[i] = u, u.ID
		}
		if len(ids) == 0 {
			continue
		}
		grades, err := st.GradesByUserIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		for id, g := range grades {
			m.grades[id] = g
		}
	}
	return m, nil
}

func inService() domain.ChatFilter { return domain.ChatFilter{Statuses: []string{domain.ChatService}} }

func (m *memStore) StaffByToken(_ context.Context, token string) (domain.Staff, error) {
	s, ok := m.byToken[token]
	if !ok {
		return s, domain.Errorf(domain.EUNAUTHENTICATED, "unknown token")
	}
	return s, nil
}

func (m *memStore) ChatsByStaff(_ context.Context, staffID string, f domain.ChatFilter) ([]domain.Chat, []domain.User, error) {
	if f.Unknown || !slices.Equal(f.Statuses, inService().Statuses) {
		return nil, nil, errNotHeld
	}
	chats, users := m.chats[staffID], m.users[staffID]
	if f.Limit > 0 && len(chats) > f.Limit {
		chats, users = chats[:f.Limit], users[:f.Limit]
	}
	return chats, users, nil
}

func (m *memStore) CountChatsByStaff(_ context.Context, staffID string, f domain.ChatFilter) (int, error) {
	if f.Unknown || !slices.Equal(f.Statuses, inService().Statuses) {
		return 0, errNotHeld
	}
	return len(m.chats[staffID]), nil
}

func (m *memStore) StaffByIDs(_ context.Context, ids []string) (map[string]domain.Staff, error) {
	return pick(m.staff, ids), nil
}

func (m *memStore) UsersByIDs(_ context.Context, ids []string) (map[string]domain.User, error) {
	return pick(m.byID, ids), nil
}

func (m *memStore) GradesByUserIDs(_ context.Context, ids []string) (map[string]domain.Grade, error) {
	out := make(map[string]domain.Grade, len(ids))
	for _, id := range ids {
		out[id] = m.grades[id] // zero counts for a user with no rows, as the store answers
	}
	return out, nil
}

// ClientByID holds no legacy client: the floor is measured on the GraphQL
// path.
func (m *memStore) ClientByID(context.Context, string) (domain.Client, error) {
	return domain.Client{}, errNotHeld
}

// Fingerprints: the rows held never change.
func (m *memStore) Fingerprints(_ context.Context, watches []domain.Watch) (map[string]domain.Fingerprint, error) {
	out := make(map[string]domain.Fingerprint, len(watches))
	for _, w := range watches {
		if s, ok := m.staff[w.StaffID]; ok {
			out[w.StaffID] = domain.Fingerprint{Staff: s}
		}
	}
	return out, nil
}

// SessionByToken: the tokens held do not expire while the benchmark runs.
func (m *memStore) SessionByToken(ctx context.Context, token string) (domain.Session, error) {
	s, err := m.StaffByToken(ctx, token)
	return domain.Session{Staff: s, Expires: time.Now().Add(time.Hour)}, err
}

// Ready: the rows are at hand.
func (m *memStore) Ready(context.Context) error { return nil }

// pick is the entries of all that ids name.
func pick[V any](all map[string]V, ids []string) map[string]V {
	out := make(map[string]V, len(ids))
	for _, id := range ids {
		if v, ok := all[id]; ok {
			out[id] = v
		}
	}
	return out
}
