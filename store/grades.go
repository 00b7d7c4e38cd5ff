package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

// gradesByUserIDs counts a user's chats, orders and service orders in one
// statement; each part is an index range scan on the table's user_id index.
// Each row's kind is a small number rather than a letter: a driver boxes
// small integers without allocating, and a text column costs a string and
// its box per row.
const gradesByUserIDs = `SELECT user_id, 0 AS kind, COUNT(*) AS n FROM op_chat WHERE user_id IN (%[1]s) GROUP BY user_id
UNION ALL SELECT user_id, 1, COUNT(*) FROM user_order WHERE user_id IN (%[1]s) GROUP BY user_id
UNION ALL SELECT user_id, 2, COUNT(*) FROM service_order WHERE user_id IN (%[1]s) GROUP BY user_id`

// The kinds of gradesByUserIDs' rows.
const (
	gradeChats = iota
	gradeOrders
	gradeServiceOrders
)

// GradesByUserIDs returns every given user's grade counts; a user with no
// rows counts zero.
func (s *Store) GradesByUserIDs(ctx context.Context, ids []string) (map[string]domain.Grade, error) {
	out := make(map[string]domain.Grade, len(ids))
	for _, id := range ids {
		out[id] = domain.Grade{}
	}
	for _, chunk := range s.batch("grades by user ids", ids) {
		args := paddedArgs(chunk)
		all := args
		if s.engine != "sqlite" {
			all = append(append(append(make([]any, 0, 3*len(args)), args...), args...), args...)
		}
		if err := s.readGrades(ctx, s.gradesTexts.get(len(args), s.gradesText), all, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// gradesText is the grades statement over n ids, built once for each n
// (a power of two; see inList). SQLite numbers its parameters: the three
// arms share them, and each id is bound once rather than three times (a
// cgo call each); other engines bind the ids once for each arm.
func (s *Store) gradesText(n int) string {
	in := marks(n)
	if s.engine == "sqlite" {
		in = numberedMarks(n)
	}
	return fmt.Sprintf(gradesByUserIDs, in)
}

// readGrades runs one chunk's statement and adds its counts to out. Rows
// are scanned by hand: a thousand users give three thousand rows.
func (s *Store) readGrades(ctx context.Context, query string, args []any, out map[string]domain.Grade) error {
	return s.read(ctx, "grades by user ids", query, args, func(rows *sqlx.Rows) error {
		var user string // declared once: Scan's pointers move them to the heap
		var kind, n int
		for rows.Next() {
			if err := rows.Scan(&user, &kind, &n); err != nil {
				return err
			}
			g := out[user]
			switch kind {
			case gradeChats:
				g.ChatCount = n
			case gradeOrders:
				g.OrderCount = n
			case gradeServiceOrders:
				g.ServiceCount = n
			}
			out[user] = g
		}
		return nil
	})
}
