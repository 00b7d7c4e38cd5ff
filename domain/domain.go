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

// ChatFilter selects an OP's chats by status.
type ChatFilter struct {
	// Statuses are stored statuses to include, e.g. ChatService.
	Statuses []string
	// Unknown also includes chats whose status is none of
	// KnownChatStatuses.
	Unknown bool
}

// Client is an app allowed to call the legacy v2 API, with the secret
// its requests are signed with.
type Client struct {
	ID      string
	Secret  string
	Enabled bool
}
