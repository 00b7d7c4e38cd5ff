package resolvers

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"unicode/utf8"

	"opfacade/domain"
)

// A cursor names a place in one chat list: an OP's chats with some
// statuses. It is opaque to clients: unpadded base64url of
//
//	version (1 byte, cursorV1)
//	list    (8 bytes: the first of SHA-256 over the OP's id and the statuses, see listOf)
//	n       (1 byte: the length of create_time)
//	create_time, as the database answered it (n bytes)
//	chat id (the rest)
//
// The list makes a cursor of another OP's list, or of other statuses,
// refused rather than read as a place in this one; the version lets a
// later encoding refuse, or read, this one. A cursor is not signed: one a
// client makes up names a place in a list it may read anyway.
const cursorV1 = 1

// maxCursorLen bounds what is decoded: the longest cursor the facade can
// write (a key of store.MaxKeyTime and store.MaxKeyID bytes) is 312
// characters; the platform's, about 80.
const maxCursorLen = 312

// chatList identifies a chat list, as cursors carry it.
type chatList [8]byte

// listOf is the list of staffID's chats that f selects by status; f's
// order and repeats of statuses do not matter.
func listOf(staffID string, f domain.ChatFilter) chatList {
	h := sha256.New()
	h.Write([]byte("opfacade chat list\x00"))
	h.Write([]byte(staffID))
	for _, st := range slices.Compact(slices.Sorted(slices.Values(f.Statuses))) {
		h.Write([]byte{0})
		h.Write([]byte(st))
	}
	if f.Unknown {
		h.Write([]byte{1})
	}
	var l chatList
	copy(l[:], h.Sum(nil))
	return l
}

// cursor encodes k, a place in l.
func (l chatList) cursor(k domain.ChatKey) string {
	b := make([]byte, 0, 10+len(k.CreateTime)+len(k.ID))
	b = append(b, cursorV1)
	b = append(b, l[:]...)
	b = append(b, byte(len(k.CreateTime)))
	b = append(b, k.CreateTime...)
	b = append(b, k.ID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errCursor and errForeignCursor refuse an `after` argument.
var (
	errCursor        = domain.Errorf(domain.EINVALID, "after is not a cursor of a chat list")
	errForeignCursor = domain.Errorf(domain.EINVALID, "after is a cursor of another chat list: another OP's, or other statuses'")
)

// place decodes c, a cursor of l, into the place it names.
func (l chatList) place(c string) (domain.ChatKey, error) {
	if len(c) > maxCursorLen {
		return domain.ChatKey{}, errCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil || len(b) < 10 || b[0] != cursorV1 {
		return domain.ChatKey{}, errCursor
	}
	n := int(b[9])
	if len(b) <= 10+n { // the chat id is never empty
		return domain.ChatKey{}, errCursor
	}
	k := domain.ChatKey{CreateTime: string(b[10 : 10+n]), ID: string(b[10+n:])}
	if !utf8.ValidString(k.CreateTime) || !utf8.ValidString(k.ID) {
		return domain.ChatKey{}, errCursor
	}
	if chatList(b[1:9]) != l {
		return domain.ChatKey{}, errForeignCursor
	}
	return k, nil
}
