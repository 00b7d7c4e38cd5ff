package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

// fingerprints reads, for a set of OPs, one row each: the OP's row and a
// digest of their chats with the watched statuses (status among the
// columns, so a chat that moves between watched statuses changes it too),
// read through idx_op_chat_staff as the chat list reads them; no table
// is written. %[1]s is the OPs' IN list, %[2]s the digest's expression
// (chatsDigest) over the chats of the condition on status (see
// statusCondition), or ” when no chat is watched.
const fingerprints = `SELECT s.staff_id, s.staff_name, s.online, s.role, %[2]s AS chats
FROM op_staff s WHERE s.staff_id IN (%[1]s)`

// fingerprintChats is the digest's expression: %[1]s the digest of the
// chats' rows for the engine (chatsDigest), %[2]s the condition on
// status.
const fingerprintChats = `(SELECT %[1]s FROM op_chat c WHERE c.staff_id = s.staff_id AND (%[2]s))`

// chatRowText is a chat's columns as one text, joined by a unit
// separator, which appears in no column the platform writes.
const chatRowText = `CONCAT_WS('` + "\x1f" + `', c.chat_id, c.status, c.user_id, c.group_id, c.title, c.address, c.last_message, c.create_time)`

// chatsDigest is, for the engine, what a fingerprint reads of an OP's
// watched chats. MySQL sums a CRC-32 of each row, with their count,
// where the database is: a few bytes an OP cross the network. SQLite,
// in the process, hands over the rows' text in the index's order, hashed
// here: a CRC-32 of each row would be a call into Go per row, which
// costs more than the rest of the statement.
func (s *Store) chatsDigest() string {
	if s.engine == "mysql" {
		return `CONCAT(COUNT(*), ' ', COALESCE(SUM(CRC32(` + chatRowText + `)), 0))`
	}
	return `group_concat(` + chatRowText + `, '` + "\x1e" + `')`
}

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
	query, args, err := s.fingerprintsQuery(f, ids)
	if err != nil {
		return err
	}
	return s.read(ctx, "fingerprints", query, args, func(rows *sqlx.Rows) error {
		var r staffRow // declared once: Scan's pointers move them to the heap
		var digest sql.NullString
		for rows.Next() {
			if err := rows.Scan(&r.StaffID, &r.StaffName, &r.Online, &r.Role, &digest); err != nil {
				return err
			}
			out[r.StaffID] = domain.Fingerprint{Staff: r.staff(), Sum: s.fingerprint(r.staff(), digest.String, f)}
		}
		return nil
	})
}

// fingerprintsQuery is the statement reading the fingerprints of ids
// watched with f, and its arguments.
func (s *Store) fingerprintsQuery(f domain.ChatFilter, ids []string) (string, []any, error) {
	marks, args := inList(ids)
	cond, statusArgs, err := statusCondition(f)
	if err != nil {
		return "", nil, err
	}
	chats := "''"
	if cond != "" {
		chats = fmt.Sprintf(fingerprintChats, s.chatsDigest(), cond)
		args = append(slices.Clone(statusArgs), args...) // the subquery's marks come first
	}
	return fmt.Sprintf(fingerprints, marks, chats), args, nil
}

// fingerprint folds the OP's row, the digest of their chats and the
// statuses watched into one number. It is seeded per store: fingerprints
// are compared within a process, never kept.
func (s *Store) fingerprint(st domain.Staff, chats string, f domain.ChatFilter) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, v := range []string{st.ID, st.Name, string(st.Role), strconv.FormatBool(st.Online), chats, strconv.FormatBool(f.Unknown), strings.Join(f.Statuses, "\x1f")} {
		h.WriteString(v)
		h.WriteByte(0x1e)
	}
	return h.Sum64()
}
