package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"opfacade/domain"
)

// ChatFilter selects an OP's chats by status.
type ChatFilter struct {
	// Statuses are stored statuses to include, e.g. domain.ChatService.
	Statuses []string
	// Unknown also includes chats whose status is none of
	// domain.KnownChatStatuses.
	Unknown bool
}

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
func (s *Store) ChatsByStaff(ctx context.Context, staffID string, f ChatFilter) ([]domain.Chat, []domain.User, error) {
	query, args := s.chatsQuery(staffID, f)
	if query == "" {
		return []domain.Chat{}, nil, nil
	}
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, nil, s.classify(err, "chats by staff")
	}
	s.statements.Add(1)
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, nil, s.classify(err, "chats by staff")
	}
	defer rows.Close()
	// Scanned by hand: this is the hot path, and sqlx's reflection costs
	// more per row than the row itself.
	var chats []domain.Chat
	var users []domain.User
	for rows.Next() {
		var c domain.Chat
		var staff, nick, icon sql.NullString
		var created string
		if err := rows.Scan(&c.ID, &c.UserID, &staff, &c.GroupID, &c.Title, &c.Status, &c.Address, &c.LastMessage,
			&created, &nick, &icon); err != nil {
			return nil, nil, s.classify(err, "chats by staff")
		}
		c.StaffID = staff.String
		if c.CreateTime, err = s.readDateTime(created); err != nil {
			return nil, nil, s.classify(err, "chats by staff")
		}
		chats = append(chats, c)
		users = append(users, userRow{UserID: c.UserID, NickName: nick, IconURL: icon}.user())
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.classify(err, "chats by staff")
	}
	if chats == nil {
		chats = []domain.Chat{}
	}
	return chats, users, nil
}

// chatsQuery is the statement ChatsByStaff runs and its arguments; "" when
// f selects no chats.
func (s *Store) chatsQuery(staffID string, f ChatFilter) (string, []any) {
	where, args := f.where()
	if where == "" {
		return "", nil
	}
	return fmt.Sprintf(chatsByStaff, where, s.bytewise("c.chat_id")), append([]any{staffID}, args...)
}

// where builds the status condition. The known statuses are constants, so
// the statement's shape depends only on which of them are asked for.
func (f ChatFilter) where() (string, []any) {
	var conds []string
	var args []any
	if len(f.Statuses) > 0 {
		conds = append(conds, "c.status IN ("+marks(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if f.Unknown {
		conds = append(conds, "c.status NOT IN ("+marks(len(domain.KnownChatStatuses))+")")
		for _, st := range domain.KnownChatStatuses {
			args = append(args, st)
		}
	}
	return strings.Join(conds, " OR "), args
}

// marks returns n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
