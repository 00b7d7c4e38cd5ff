package resolvers

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"opfacade/domain"
	"opfacade/loader"
	"opfacade/resolvers/view"
)

// user is the user a chat names, from the request's loader (primed by the
// chats resolver, so this waits for nothing).
func (r *Resolver) user(ctx context.Context, id string) (*view.User, error) {
	u, err := loader.For(ctx).Users.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	return &view.User{User: u, Icon: r.icon(&u)}, nil
}

// grade is a user's counts, from the request's loader (primed by the chats
// resolver when the query asks for grades).
func (r *Resolver) grade(ctx context.Context, userID string) (*domain.Grade, error) {
	g, err := loader.For(ctx).Grades.Load(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &g, nil
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
