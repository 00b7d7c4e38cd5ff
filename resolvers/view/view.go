// Package view holds the schema's Staff, Chat and User as the resolvers
// hand them to gqlgen: the domain values, what the schema derives from
// their own row (an OP's role and a chat's status in the schema's terms, a
// user's icon with the default filled in), and their relations as thunks
// over the request's loaders.
//
// gqlgen resolves a field bound to a struct field, or to a method without
// a context, in the goroutine that marshals its object, but runs every
// resolver field in a goroutine of its own. Deriving these with the row,
// and reaching relations through methods, keeps one chat of a thousand-chat
// answer from costing a goroutine per field.
package view

import (
	"opfacade/domain"
	"opfacade/graph/model"
)

// Staff is an OP as the schema shows them.
type Staff struct {
	domain.Staff
	// SchemaRole is Role in the schema's enum; an unknown stored role is
	// OP, the least privilege.
	SchemaRole model.StaffRole
}

// Chat is a chat as the schema shows it.
type Chat struct {
	domain.Chat
	// SchemaStatus is Status in the schema's enum; UNKNOWN for a stored
	// status the schema does not know.
	SchemaStatus model.ChatStatus
	// LoadUser and LoadStaff read the chat's user and OP from the
	// request's loaders when the query asks for them.
	LoadUser  func() (*User, error)
	LoadStaff func() (*Staff, error)
}

// User is the user the chat names.
func (c *Chat) User() (*User, error) { return c.LoadUser() }

// Staff is the OP serving the chat; nil when there is none.
func (c *Chat) Staff() (*Staff, error) { return c.LoadStaff() }

// User is an app user as the schema shows them.
type User struct {
	domain.User
	// Icon is the user's icon URL, or the platform's default.
	Icon string
	// LoadGrade reads the user's grade from the request's loaders when the
	// query asks for it.
	LoadGrade func() (*domain.Grade, error)
}

// Grade is the user's counts.
func (u *User) Grade() (*domain.Grade, error) { return u.LoadGrade() }
