package store

import (
	"context"
	"database/sql"
	"fmt"

	"opfacade/domain"
)

type userRow struct {
	UserID   string         `db:"user_id"`
	NickName sql.NullString `db:"nick_name"`
	IconURL  sql.NullString `db:"icon_url"`
}

func (r userRow) user() domain.User {
	u := domain.User{ID: r.UserID, IconURL: r.IconURL.String}
	if r.NickName.Valid {
		nick := r.NickName.String
		u.NickName = &nick
	}
	return u
}

const usersByIDs = `SELECT user_id, nick_name, icon_url FROM app_user WHERE user_id IN (%s)`

// UsersByIDs returns the users with the given ids. A user with no app_user
// row (the legacy database has no foreign keys) is returned with its id
// alone, so every id gets an answer.
func (s *Store) UsersByIDs(ctx context.Context, ids []string) (map[string]domain.User, error) {
	out := make(map[string]domain.User, len(ids))
	for _, chunk := range s.batch("users by ids", ids) {
		marks, args := inList(chunk)
		var rows []userRow
		if err := s.selectRows(ctx, "users by ids", &rows, fmt.Sprintf(usersByIDs, marks), args...); err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.UserID] = r.user()
		}
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			out[id] = domain.User{ID: id}
		}
	}
	return out, nil
}
