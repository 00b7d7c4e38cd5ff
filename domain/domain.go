// Package domain holds the facade's vocabulary: the platform's operators,
// chats, users and grades as the rest of the code speaks of them, and the
// errors that carry meaning across the GraphQL and legacy front doors.
package domain

import "time"

// Role says what an OP may see.
type Role string

// The roles the platform stores in op_staff.role.
const (
	RoleOP    Role = "OP"
	RoleAdmin Role = "ADMIN"
)

// Staff is an operator (OP) of the customer-service platform.
type Staff struct {
	ID     string
	Name   string
	Role   Role
	Online bool
}

// IsAdmin reports whether the OP may look at every other OP.
func (s Staff) IsAdmin() bool { return s.Role == RoleAdmin }

// The chat statuses the platform stores in op_chat.status.
const (
	ChatWait    = "Wait"
	ChatService = "Service"
	ChatClosed  = "Closed"
)

// KnownChatStatuses are the stored statuses this facade understands; any
// other stored value is passed through as it is, never refused.
var KnownChatStatuses = []string{ChatWait, ChatService, ChatClosed}

// Chat is a conversation between an app user and the OP serving it.
type Chat struct {
	ID          string
	UserID      string
	StaffID     string // empty while the chat waits for an OP
	GroupID     string
	Title       string
	Status      string // as stored
	Address     string
	LastMessage string
	CreateTime  time.Time // in the platform's zone
	// StoredCreateTime is create_time as the database answered it, read
	// as text: what a chat's place in a list (its Key) holds, so that a
	// page starts where the database's own order says, whatever the
	// stored format.
	StoredCreateTime string
}

// Key is the chat's place in its OP's chat list.
func (c Chat) Key() ChatKey { return ChatKey{CreateTime: c.StoredCreateTime, ID: c.ID} }

// ChatKey is a chat's place in an OP's chat list, which is ordered by
// create_time, newest first, then by the bytes of the chat id, ascending
// (on every engine). A page of the list starts after a key.
type ChatKey struct {
	CreateTime string // create_time as the database answered it (Chat.StoredCreateTime)
	ID         string
}

// User is an app user. A chat may name a user who has no profile row (the
// legacy database has no foreign keys); such a user has only an ID.
type User struct {
	ID       string
	NickName *string
	IconURL  string // empty when the user has no icon of their own
}

// Grade counts what a user has done on the platform.
type Grade struct {
	ChatCount    int
	OrderCount   int
	ServiceCount int
}

// ChatFilter selects an OP's chats by status, and a window of them in
// list order (see ChatKey).
type ChatFilter struct {
	// Statuses are stored statuses to include, e.g. ChatService.
	Statuses []string
	// Unknown also includes chats whose status is none of
	// KnownChatStatuses.
	Unknown bool
	// After, when set, starts the list after this chat's place: keyset
	// paging, so chats added to the list's head since the key was read
	// neither shift nor repeat what follows it. Counting ignores it.
	After *ChatKey
	// Limit, when above 0, is the most chats to list. Counting ignores it.
	Limit int
}

// Client is an app allowed to call the legacy v2 API, with the secret
// its requests are signed with.
type Client struct {
	ID      string
	Secret  string
	Enabled bool
}
