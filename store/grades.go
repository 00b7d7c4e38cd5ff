package store

import (
	"context"
	"fmt"

	"opfacade/domain"
)

type gradeRow struct {
	UserID string `db:"user_id"`
	Kind   string `db:"kind"`
	N      int    `db:"n"`
}

// gradesByUserIDs counts a user's chats, orders and service orders in one
// statement; each part is an index range scan on the table's user_id index.
const gradesByUserIDs = `SELECT user_id, 'c' AS kind, COUNT(*) AS n FROM op_chat WHERE user_id IN (%[1]s) GROUP BY user_id
UNION ALL SELECT user_id, 'o', COUNT(*) FROM user_order WHERE user_id IN (%[1]s) GROUP BY user_id
UNION ALL SELECT user_id, 's', COUNT(*) FROM service_order WHERE user_id IN (%[1]s) GROUP BY user_id`

// GradesByUserIDs returns every given user's grade counts; a user with no
// rows counts zero.
func (s *Store) GradesByUserIDs(ctx context.Context, ids []string) (map[string]domain.Grade, error) {
	out := make(map[string]domain.Grade, len(ids))
	for _, id := range ids {
		out[id] = domain.Grade{}
	}
	for _, chunk := range chunks(ids) {
		marks, args := inList(chunk)
		var rows []gradeRow
		all := append(append(append(make([]any, 0, 3*len(args)), args...), args...), args...)
		if err := s.selectRows(ctx, &rows, fmt.Sprintf(gradesByUserIDs, marks), all...); err != nil {
			return nil, s.classify(err, "grades by user ids")
		}
		for _, r := range rows {
			g := out[r.UserID]
			switch r.Kind {
			case "c":
				g.ChatCount = r.N
			case "o":
				g.OrderCount = r.N
			case "s":
				g.ServiceCount = r.N
			}
			out[r.UserID] = g
		}
	}
	return out, nil
}
