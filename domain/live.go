package domain

import "time"

// Session is a console session: the OP a bearer token names, and when the
// token expires.
type Session struct {
	Staff   Staff
	Expires time.Time // in the platform's zone
}

// Watch is what a live answer about an OP depends on: the OP's row, and
// their chats with the statuses the answer lists (Chats.Statuses and
// Chats.Unknown; its After and Limit are ignored). A watch of no statuses
// is of the OP's row alone.
type Watch struct {
	StaffID string
	Chats   ChatFilter
}

// Fingerprint sums up, in a number, everything a Watch depends on: when
// the number changes, so may the answer. Staff is the OP's row as it was
// read with it.
type Fingerprint struct {
	Staff Staff
	Sum   uint64
}
