package resolvers

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"opfacade/domain"
	"opfacade/loader"
)

// icon is the user's icon URL, or the platform's default.
func (r *Resolver) icon(u *domain.User) string {
	if u.IconURL == "" {
		return r.DefaultIcon
	}
	return u.IconURL
}

func (r *Resolver) grade(ctx context.Context, userID string) (*domain.Grade, error) {
	g, err := loader.For(ctx).Grades.Load(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// ignoreNotFound turns a loader's not-found into "no value".
func ignoreNotFound(err error) error {
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil
	}
	return err
}
