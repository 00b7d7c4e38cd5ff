package resolvers

import (
	"errors"

	"github.com/vikstrous/dataloadgen"

	"opfacade/domain"
)

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
