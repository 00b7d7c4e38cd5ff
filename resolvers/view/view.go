// Package view holds the schema's Staff, Chat and User as the resolvers
// hand them to gqlgen: the domain values plus what the schema shows of them that the
// domain does not store (an OP's role and a chat's status in the schema's
// terms, a chat's user
// and the OP serving it, a user's icon with the default filled in and
// grade).
//
// gqlgen resolves a field bound to a struct field in the goroutine that
// marshals its object, and every resolver field in one of its own when an
// object has more than one. Filling these in with the list keeps one chat
// of a thousand-chat answer from costing four goroutines and three loader
// lookups.
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
	// User is the chat's user, read with the chat.
	User *User
	// Staff is the OP serving the chat; nil while it waits for one.
	Staff *Staff
}

// User is an app user as the schema shows them.
type User struct {
	domain.User
	// Icon is the user's icon URL, or the platform's default.
	Icon string
	// Grade is the user's counts. It is read with the chats whenever the
	// query asks for it, and nil (and never shown) when it does not.
	Grade *domain.Grade
}
