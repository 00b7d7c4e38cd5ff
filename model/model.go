// Package model holds the values the schema's types resolve to, as the
// resolvers build them and the front doors render them: plain values,
// named as the schema names their fields, with a chat's relations filled
// in by the resolver that lists the chats. gqlgen binds the schema to
// these types (gqlgen.yml); nothing in them reaches back into a request.
package model

import (
	"time"

	"opfacade/domain"
)

// Staff is an operator (OP).
type Staff struct {
	ID       string
	Name     string
	Role     StaffRole
	IsOnline bool
}

// Chat is a conversation between an app user and the OP serving it.
type Chat struct {
	ID           string
	GroupID      string
	Title        string
	Status       ChatStatus
	StoredStatus string // as the platform stores it
	Address      string
	Message      string
	CreateTime   time.Time // in the platform's zone
	User         *User
	Staff        *Staff // nil while the chat waits for an OP
}

// User is an app user.
type User struct {
	ID       string
	NickName *string // nil when the user never set one
	Icon     string  // the platform's default when the user has none
	// Grade is nil unless the operation asked for it.
	Grade *domain.Grade
}

// StaffRole is what an OP may see.
type StaffRole string

// The schema's StaffRole values.
const (
	StaffRoleOP    StaffRole = "OP"
	StaffRoleAdmin StaffRole = "ADMIN"
)

// ChatStatus is where a chat stands.
type ChatStatus string

// The schema's ChatStatus values.
const (
	ChatStatusWait    ChatStatus = "WAIT"
	ChatStatusService ChatStatus = "SERVICE"
	ChatStatusClosed  ChatStatus = "CLOSED"
	// ChatStatusUnknown is a stored status the schema does not know.
	ChatStatusUnknown ChatStatus = "UNKNOWN"
)

// ChatConnection is a page of an OP's chats. What the operation does not
// select is left unread: the page (Edges, Nodes, PageInfo), or the count.
type ChatConnection struct {
	Edges      []ChatEdge
	Nodes      []Chat
	PageInfo   PageInfo
	TotalCount int // the whole list's length
}

// ChatEdge is a chat of a page, with its cursor.
type ChatEdge struct {
	Cursor string
	Node   *Chat // in its connection's Nodes
}

// PageInfo is where a page stands in its list.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string // nil when the page is empty
	EndCursor       *string
}
