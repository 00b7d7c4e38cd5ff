package store

import (
	"context"
	"fmt"

	"opfacade/domain"
)

type staffRow struct {
	StaffID   string `db:"staff_id"`
	StaffName string `db:"staff_name"`
	Online    int    `db:"online"`
	Role      string `db:"role"`
}

func (r staffRow) staff() domain.Staff {
	return domain.Staff{ID: r.StaffID, Name: r.StaffName, Role: domain.Role(r.Role), Online: r.Online != 0}
}

const staffByIDs = `SELECT staff_id, staff_name, online, role FROM op_staff WHERE staff_id IN (%s)`

// StaffByIDs returns the OPs with the given ids; ids with no OP are absent.
func (s *Store) StaffByIDs(ctx context.Context, ids []string) (map[string]domain.Staff, error) {
	out := make(map[string]domain.Staff, len(ids))
	for _, chunk := range s.batch("staff by ids", ids) {
		marks, args := inList(chunk)
		var rows []staffRow
		if err := s.selectRows(ctx, "staff by ids", &rows, fmt.Sprintf(staffByIDs, marks), args...); err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.StaffID] = r.staff()
		}
	}
	return out, nil
}
