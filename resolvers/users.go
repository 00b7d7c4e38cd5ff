package resolvers

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"opfacade/domain"
	"opfacade/loader"
	"opfacade/resolvers/view"
)

// loadUser is a chat's user, read from the request's loader when the query
// asks for it (primed by the chats resolver, so it waits for nothing).
func (r *Resolver) loadUser(ctx context.Context, l *loader.Loaders, id string) func() (*view.User, error) {
	return func() (*view.User, error) {
		u, err := l.Users.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		return &view.User{User: u, Icon: r.icon(&u), LoadGrade: loadGrade(ctx, l, u.ID)}, nil
	}
}

// loadGrade is a user's counts, read from the request's loader when the
// query asks for them (primed by the chats resolver when it saw them asked
// for; otherwise batched with the other users' lookups).
func loadGrade(ctx context.Context, l *loader.Loaders, userID string) func() (*domain.Grade, error) {
	return func() (*domain.Grade, error) {
		g, err := l.Grades.Load(ctx, userID)
		if err != nil {
			return nil, err
		}
		return &g, nil
	}
}

// icon is the user's icon URL, or the platform's default.
func (r *Resolver) icon(u *domain.User) string {
	if u.IconURL == "" {
		return r.DefaultIcon
	}
	return u.IconURL
}

// ignoreNotFound turns a loader's not-found into "no value".
func ignoreNotFound(err error) error {
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil
	}
	return err
}
