package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"opfacade/datetime"
	"opfacade/domain"
)

// chatsByStaff reads create_time as text: the SQLite driver would try
// several layouts on each DATETIME (failing, and allocating an error, on
// the first ones), where readDateTime tries the one the platform writes;
// and the text is what a chat's place in the list (domain.ChatKey) holds.
// %[3]s is empty or chatsAfter (a page after a key), %[4]s empty or
// "\nLIMIT ?".
const chatsByStaff = `SELECT c.chat_id, c.user_id, c.staff_id, c.group_id, c.title, c.status, c.address, c.last_message,
 CAST(c.create_time AS CHAR), u.nick_name, u.icon_url
FROM op_chat c LEFT JOIN app_user u ON u.user_id = c.user_id
WHERE c.staff_id = ? AND (%[1]s)%[3]s
ORDER BY c.create_time DESC, %[2]s ASC%[4]s`

// chatsAfter starts the list after a key (create_time, chat id): keyset
// paging, with no OFFSET. Its first condition, redundant with the second,
// is a range on idx_op_chat_staff's create_time that the optimizer can
// read; the second breaks ties within a second by the chat id's bytes, as
// the ORDER BY does. %[1]s is the chat id, %[2]s the key's id, as bytes.
const chatsAfter = `
 AND c.create_time <= ? AND (c.create_time < ? OR %[1]s > %[2]s)`

// countChatsByStaff counts an OP's chats by status: an index-only range
// of idx_op_chat_staff.
const countChatsByStaff = `SELECT COUNT(*) FROM op_chat c WHERE c.staff_id = ? AND (%s)`

// ChatsByStaff returns the OP's chats that match f, newest first (ties by
// the bytes of the chat id, on every engine), with the users they name:
// one per chat, in chat order. With f.After it starts after that key, with
// f.Limit it lists at most that many. A key the store did not write (see
// domain.ChatKey) is EINVALID.
func (s *Store) ChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) ([]domain.Chat, []domain.User, error) {
	query, args, err := s.chatsQuery(staffID, f)
	if err != nil || query == "" {
		return []domain.Chat{}, nil, err
	}
	sc, _ := s.scratch.Get().(*chatRows)
	if sc == nil {
		sc = new(chatRows)
	}
	defer s.putChatRows(sc)
	err = s.read(ctx, "chats by staff", query, args, func(rows *sqlx.Rows) error {
		// Scanned by hand: this is the hot path, and sqlx's reflection
		// costs more per row than the row itself. The destinations are
		// declared once, not per row, where Scan's pointers would move
		// each row's to the heap; a row sets every one of them.
		var c domain.Chat
		var staff, nick, icon sql.NullString
		var created string
		for rows.Next() {
			if err := rows.Scan(&c.ID, &c.UserID, &staff, &c.GroupID, &c.Title, &c.Status, &c.Address, &c.LastMessage,
				&created, &nick, &icon); err != nil {
				return err
			}
			c.StaffID = staff.String
			c.StoredCreateTime = created
			var err error
			if c.CreateTime, err = s.readDateTime(created); err != nil {
				return err
			}
			sc.chats = append(sc.chats, c)
			sc.users = append(sc.users, domain.User{ID: c.UserID, IconURL: icon.String})
			sc.nicks = append(sc.nicks, nick)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Copied out at their length: the lists grow in the scratch, which
	// the next request reuses, rather than by doubling on each request.
	return append([]domain.Chat{}, sc.chats...), sc.copyUsers(), nil
}

// chatRows is a chat list's scratch: the rows as they are read.
type chatRows struct {
	chats []domain.Chat
	users []domain.User    // their NickName not yet set
	nicks []sql.NullString // the users' nick_name
}

// copyUsers copies the users out of the scratch with their nicknames,
// which live in one slice: one allocation a list rather than one a user.
func (sc *chatRows) copyUsers() []domain.User {
	users := slices.Clone(sc.users)
	nicks := make([]string, len(users))
	for i, n := range sc.nicks {
		if n.Valid {
			nicks[i] = n.String
			users[i].NickName = &nicks[i]
		}
	}
	return users
}

// maxScratchRows bounds the scratch kept for the next list: a list this
// long is rare, and its rows are not worth holding.
const maxScratchRows = 1024

// putChatRows empties the scratch, so that it holds no row's strings, and
// returns it to the pool unless it grew past maxScratchRows.
func (s *Store) putChatRows(sc *chatRows) {
	if cap(sc.chats) > maxScratchRows {
		return
	}
	clear(sc.chats)
	clear(sc.users)
	clear(sc.nicks)
	sc.chats, sc.users, sc.nicks = sc.chats[:0], sc.users[:0], sc.nicks[:0]
	s.scratch.Put(sc)
}

// chatsQuery is the statement ChatsByStaff runs and its arguments; ""
// when f selects no chats. Its text depends on f's shape alone (see
// chatsShape), and is built once per shape.
func (s *Store) chatsQuery(staffID string, f domain.ChatFilter) (string, []any, error) {
	cond, statusArgs, err := statusArgs(f)
	if err != nil || cond.empty() {
		return "", nil, err
	}
	args := make([]any, 0, 1+len(statusArgs)+4)
	args = append(append(args, staffID), statusArgs...)
	shape := chatsShape{cond: cond, after: f.After != nil, limit: f.Limit > 0}
	if k := f.After; k != nil {
		if err := s.checkKey(*k); err != nil {
			return "", nil, err
		}
		args = append(args, k.CreateTime, k.CreateTime, k.ID)
	}
	if f.Limit > 0 {
		args = append(args, f.Limit)
	}
	return s.texts.get(shape, s.chatsText), args, nil
}

// chatsShape is what the text of a chat list's statement depends on.
type chatsShape struct {
	cond         condShape
	after, limit bool
}

// chatsText is the statement of a chat list of this shape.
func (s *Store) chatsText(shape chatsShape) string {
	var after, limit string
	if shape.after {
		after = fmt.Sprintf(chatsAfter, s.bytewise("c.chat_id"), s.bytewise("?"))
	}
	if shape.limit {
		limit = "\nLIMIT ?"
	}
	return fmt.Sprintf(chatsByStaff, shape.cond.text(), s.bytewise("c.chat_id"), after, limit)
}

// The longest parts of a key the store reads: chat_id is a VARCHAR(40),
// at most 160 bytes of UTF-8; a DATETIME's text is 26 bytes at most.
const (
	MaxKeyID   = 160
	MaxKeyTime = 64
)

// checkKey refuses a key the store cannot have written: its create_time
// must read as a DATETIME, its id be text of a chat id's length.
func (s *Store) checkKey(k domain.ChatKey) error {
	bad := k.ID == "" || len(k.ID) > MaxKeyID || len(k.CreateTime) > MaxKeyTime ||
		!utf8.ValidString(k.ID) || strings.ContainsRune(k.ID, 0)
	if !bad {
		var err error
		if s.engine == "mysql" {
			// MySQL answers a DATETIME in this layout, and compares the
			// key's text with the column as the DATETIME it reads as.
			_, err = datetime.Parse(k.CreateTime, time.UTC)
		} else {
			_, err = s.readDateTime(k.CreateTime)
		}
		bad = err != nil
	}
	if bad {
		return domain.Errorf(domain.EINVALID, "the cursor names no place in a chat list")
	}
	return nil
}

// CountChatsByStaff counts the OP's chats that match f's statuses; f's
// After and Limit do not narrow the count.
func (s *Store) CountChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) (int, error) {
	cond, args, err := statusCondition(f)
	if err != nil || cond == "" {
		return 0, err
	}
	var n int
	err = s.read(ctx, "count chats by staff", fmt.Sprintf(countChatsByStaff, cond), append([]any{staffID}, args...), func(rows *sqlx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// statusCondition builds the WHERE condition on status. Its text depends
// only on how many distinct statuses are asked for, rounded up to a power
// of two, and on Unknown: however a client repeats or orders statuses,
// the store prepares one of a handful of statements.
func statusCondition(f domain.ChatFilter) (string, []any, error) {
	shape, args, err := statusArgs(f)
	return shape.text(), args, err
}

// condShape is what the text of the condition on status depends on: the
// number of statuses in its IN list (a power of two, or 0 for none), and
// whether it also lists unknown statuses.
type condShape struct {
	in      int
	unknown bool
}

func (c condShape) empty() bool { return c.in == 0 && !c.unknown }

// text is the condition; "" when it selects nothing.
func (c condShape) text() string {
	var conds []string
	if c.in > 0 {
		conds = append(conds, "c.status IN ("+marks(c.in)+")")
	}
	if c.unknown {
		conds = append(conds, "c.status NOT IN ("+marks(padded(len(domain.KnownChatStatuses)))+")")
	}
	return strings.Join(conds, " OR ")
}

// statusArgs is the shape of f's condition on status and its arguments.
func statusArgs(f domain.ChatFilter) (condShape, []any, error) {
	var c condShape
	var args []any
	if statuses := distinct(f.Statuses); len(statuses) > 0 {
		if len(statuses) > maxInList {
			return condShape{}, nil, domain.Errorf(domain.EINVALID, "at most %d statuses may be asked for at once", maxInList)
		}
		args = paddedArgs(statuses)
		c.in = len(args)
	}
	if f.Unknown {
		args = append(args, paddedArgs(domain.KnownChatStatuses)...)
		c.unknown = true
	}
	return c, args, nil
}
