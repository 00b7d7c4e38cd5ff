package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"opfacade/domain"
)

type chatRow struct {
	ChatID      string         `db:"chat_id"`
	UserID      string         `db:"user_id"`
	StaffID     sql.NullString `db:"staff_id"`
	GroupID     string         `db:"group_id"`
	Title       string         `db:"title"`
	Status      string         `db:"status"`
	Address     string         `db:"address"`
	LastMessage string         `db:"last_message"`
	CreateTime  time.Time      `db:"create_time"`
	// The chat's user, from a LEFT JOIN: ProfileID is NULL when the user
	// has no app_user row.
	ProfileID sql.NullString `db:"profile_id"`
	NickName  sql.NullString `db:"nick_name"`
	IconURL   sql.NullString `db:"icon_url"`
}

// ChatFilter selects an OP's chats by status.
type ChatFilter struct {
	// Statuses are stored statuses to include, e.g. domain.ChatService.
	Statuses []string
	// Unknown also includes chats whose status is none of
	// domain.KnownChatStatuses.
	Unknown bool
}

const chatsByStaff = `SELECT c.chat_id, c.user_id, c.staff_id, c.group_id, c.title, c.status, c.address, c.last_message, c.create_time,
 u.user_id AS profile_id, u.nick_name, u.icon_url
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
	var rows []chatRow
	if err := s.selectRows(ctx, &rows, query, args...); err != nil {
		return nil, nil, s.classify(err, "chats by staff")
	}
	chats := make([]domain.Chat, len(rows))
	users := make([]domain.User, len(rows))
	for i, r := range rows {
		chats[i] = domain.Chat{
			ID: r.ChatID, UserID: r.UserID, StaffID: r.StaffID.String, GroupID: r.GroupID,
			Title: r.Title, Status: r.Status, Address: r.Address, LastMessage: r.LastMessage,
			CreateTime: s.localTime(r.CreateTime),
		}
		users[i] = userRow{UserID: r.UserID, NickName: r.NickName, IconURL: r.IconURL}.user()
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
