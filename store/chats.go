package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

// chatsByStaff reads create_time as text: the SQLite driver would try
// several layouts on each DATETIME (failing, and allocating an error, on
// the first ones), where readDateTime tries the one the platform writes.
const chatsByStaff = `SELECT c.chat_id, c.user_id, c.staff_id, c.group_id, c.title, c.status, c.address, c.last_message,
 CAST(c.create_time AS CHAR), u.nick_name, u.icon_url
FROM op_chat c LEFT JOIN app_user u ON u.user_id = c.user_id
WHERE c.staff_id = ? AND (%[1]s)
ORDER BY c.create_time DESC, %[2]s ASC`

// ChatsByStaff returns the OP's chats that match f, newest first (ties by
// the bytes of the chat id, on every engine), with the users they name:
// one per chat, in chat order.
func (s *Store) ChatsByStaff(ctx context.Context, staffID string, f domain.ChatFilter) ([]domain.Chat, []domain.User, error) {
	query, args, err := s.chatsQuery(staffID, f)
	if err != nil || query == "" {
		return []domain.Chat{}, nil, err
	}
	chats := []domain.Chat{}
	var users []domain.User
	err = s.read(ctx, "chats by staff", query, args, func(rows *sqlx.Rows) error {
		// Scanned by hand: this is the hot path, and sqlx's reflection
		// costs more per row than the row itself.
		for rows.Next() {
			var c domain.Chat
			var staff, nick, icon sql.NullString
			var created string
			if err := rows.Scan(&c.ID, &c.UserID, &staff, &c.GroupID, &c.Title, &c.Status, &c.Address, &c.LastMessage,
				&created, &nick, &icon); err != nil {
				return err
			}
			c.StaffID = staff.String
			var err error
			if c.CreateTime, err = s.readDateTime(created); err != nil {
				return err
			}
			chats = append(chats, c)
			users = append(users, userRow{UserID: c.UserID, NickName: nick, IconURL: icon}.user())
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return chats, users, nil
}

// chatsQuery is the statement ChatsByStaff runs and its arguments; ""
// when f selects no chats.
func (s *Store) chatsQuery(staffID string, f domain.ChatFilter) (string, []any, error) {
	cond, args, err := statusCondition(f)
	if err != nil || cond == "" {
		return "", nil, err
	}
	return fmt.Sprintf(chatsByStaff, cond, s.bytewise("c.chat_id")), append([]any{staffID}, args...), nil
}

// statusCondition builds the WHERE condition on status. Its text depends only on how many
// distinct statuses are asked for, rounded up to a power of two, and on
// Unknown: however a client repeats or orders statuses, the store
// prepares one of a handful of statements.
func statusCondition(f domain.ChatFilter) (string, []any, error) {
	var conds []string
	var args []any
	if statuses := distinct(f.Statuses); len(statuses) > 0 {
		if len(statuses) > maxInList {
			return "", nil, domain.Errorf(domain.EINVALID, "at most %d statuses may be asked for at once", maxInList)
		}
		marks, in := inList(statuses)
		conds = append(conds, "c.status IN ("+marks+")")
		args = append(args, in...)
	}
	if f.Unknown {
		marks, in := inList(domain.KnownChatStatuses)
		conds = append(conds, "c.status NOT IN ("+marks+")")
		args = append(args, in...)
	}
	return strings.Join(conds, " OR "), args, nil
}
