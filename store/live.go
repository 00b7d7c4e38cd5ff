package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

// fingerprints reads, for a set of OPs, their rows and a sum over the
// chats with the watched statuses: per OP, the chats' count and the sum of
// a CRC-32 of each chat's columns (status among them, so a chat that moves
// between watched statuses changes it too). Both engines take the same
// text: MySQL's CRC32 and CONCAT_WS are built in, and the store gives each
// SQLite connection a crc32 function (see openSQLiteDB); SQLite has
// concat_ws since 3.44. The chats are read through idx_op_chat_staff and
// their rows, as the chat list reads them; no table is written. %[1]s is
// the OPs' IN list, %[2]s the chats' part or nothing.
const fingerprints = `SELECT 's' AS kind, s.staff_id, s.staff_name, s.online, s.role, 0 AS n, 0 AS h
FROM op_staff s WHERE s.staff_id IN (%[1]s)%[2]s`

// fingerprintChats is the chats' part of fingerprints: %[1]s the OPs' IN
// list again, %[2]s the condition on status (see statusCondition). The
// separator, a unit separator, appears in no column the platform writes.
const fingerprintChats = `
UNION ALL SELECT 'c', c.staff_id, '', 0, '', COUNT(*), SUM(CRC32(CONCAT_WS('` + "\x1f" + `', c.chat_id, c.status, c.user_id, c.group_id, c.title, c.address, c.last_message, c.create_time)))
FROM op_chat c WHERE c.staff_id IN (%[1]s) AND (%[2]s) GROUP BY c.staff_id`

// Fingerprints returns the fingerprint of each watch whose OP exists, by
// the OP's id: one statement for each distinct set of statuses watched
// (OPs watched with the same statuses share it), per 1,024 OPs. Repeated
// OPs are read once, with the first watch given for them.
func (s *Store) Fingerprints(ctx context.Context, watches []domain.Watch) (map[string]domain.Fingerprint, error) {
	out := make(map[string]domain.Fingerprint, len(watches))
	for _, g := range groupWatches(watches) {
		for _, chunk := range chunks(g.ids) {
			if err := s.readFingerprints(ctx, g.filter, chunk, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// watchGroup is the OPs watched with one set of statuses.
type watchGroup struct {
	filter domain.ChatFilter
	ids    []string
}

// groupWatches groups watches by the statuses they watch, in a stable
// order, each OP once.
func groupWatches(watches []domain.Watch) []watchGroup {
	byKey := map[string]int{}
	seen := map[string]bool{}
	var groups []watchGroup
	for _, w := range watches {
		if seen[w.StaffID] {
			continue
		}
		seen[w.StaffID] = true
		f := domain.ChatFilter{Statuses: distinct(w.Chats.Statuses), Unknown: w.Chats.Unknown}
		key := fmt.Sprint(f.Unknown, f.Statuses)
		i, ok := byKey[key]
		if !ok {
			i = len(groups)
			byKey[key] = i
			groups = append(groups, watchGroup{filter: f})
		}
		groups[i].ids = append(groups[i].ids, w.StaffID)
	}
	for i := range groups {
		slices.Sort(groups[i].ids)
	}
	return groups
}

// readFingerprints runs one statement for ids watched with f, and adds
// their fingerprints to out.
func (s *Store) readFingerprints(ctx context.Context, f domain.ChatFilter, ids []string, out map[string]domain.Fingerprint) error {
	marks, in := inList(ids)
	args := slices.Clone(in)
	chats := ""
	cond, statusArgs, err := statusCondition(f)
	if err != nil {
		return err
	}
	if cond != "" {
		chats = fmt.Sprintf(fingerprintChats, marks, cond)
		args = append(append(args, in...), statusArgs...)
	}
	query := fmt.Sprintf(fingerprints, marks, chats)
	sums := map[string]*sum{}
	err = s.read(ctx, "fingerprints", query, args, func(rows *sqlx.Rows) error {
		for rows.Next() {
			var kind string
			var r staffRow
			var n, h int64
			if err := rows.Scan(&kind, &r.StaffID, &r.StaffName, &r.Online, &r.Role, &n, &h); err != nil {
				return err
			}
			p := sums[r.StaffID]
			if p == nil {
				p = &sum{}
				sums[r.StaffID] = p
			}
			if kind == "s" {
				p.staff, p.found = r.staff(), true
			} else {
				p.chats, p.sum = n, h
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, p := range sums {
		if p.found {
			out[id] = domain.Fingerprint{Staff: p.staff, Sum: p.fingerprint(f)}
		}
	}
	return nil
}

// sum is what one statement read of an OP.
type sum struct {
	staff      domain.Staff
	found      bool
	chats, sum int64
}

// fingerprint folds the OP's row, the chats' count and sum, and the
// statuses watched into one number.
func (p *sum) fingerprint(f domain.ChatFilter) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x1f%s\x1f%s\x1f%t\x1f%d\x1f%d\x1f%t\x1f%s", p.staff.ID, p.staff.Name, p.staff.Role, p.staff.Online,
		p.chats, p.sum, f.Unknown, strings.Join(f.Statuses, "\x1f"))
	return h.Sum64()
}
