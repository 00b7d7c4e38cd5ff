// Package view holds the schema's Staff, Chat and User as the resolvers
// hand them to gqlgen: the domain values plus what the schema derives from
// their own row (an OP's role and a chat's status in the schema's terms, a
// user's icon with the default filled in).
//
// gqlgen resolves a field bound to a struct field in the goroutine that
// marshals its object, but runs every resolver field in a goroutine of its
// own. Deriving these with the row keeps one chat of a thousand-chat answer
// from costing a goroutine per derived field.
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
}

// User is an app user as the schema shows them.
type User struct {
	domain.User
	// Icon is the user's icon URL, or the platform's default.
	Icon string
}
