package store

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"

	"opfacade/domain"
)

// staffByToken finds the token through its primary key. On MySQL the key
// compares by the column's collation, which may ignore case and trailing
// spaces (utf8mb4_general_ci does); StaffByToken keeps only the exact
// match, so a credential means the same on every engine.
const staffByToken = `SELECT t.token, s.staff_id, s.staff_name, s.online, s.role, CAST(t.expire_time AS CHAR)
FROM op_token t JOIN op_staff s ON s.staff_id = t.staff_id
WHERE t.token = ?`

// StaffByToken returns the OP whose console session token this is, byte
// for byte. A token that is unknown, past its expire_time, or names no OP
// is EUNAUTHENTICATED.
func (s *Store) StaffByToken(ctx context.Context, token string) (domain.Staff, error) {
	sess, err := s.SessionByToken(ctx, token)
	return sess.Staff, err
}

// SessionByToken is StaffByToken with the token's expiry, which a live
// subscription watches.
func (s *Store) SessionByToken(ctx context.Context, token string) (domain.Session, error) {
	// Scanned by hand, and the expiry read as text (see chatsByStaff):
	// every request runs this.
	var found bool
	var row staffRow
	var expireText string
	err := s.read(ctx, "staff by token", staffByToken, []any{token}, func(rows *sqlx.Rows) error {
		for rows.Next() {
			var tok, exp string
			var r staffRow
			if err := rows.Scan(&tok, &r.StaffID, &r.StaffName, &r.Online, &r.Role, &exp); err != nil {
				return err
			}
			if tok == token && !found {
				found, row, expireText = true, r, exp
			}
		}
		return nil
	})
	if err != nil {
		return domain.Session{}, err
	}
	if !found {
		return domain.Session{}, domain.Wrap(domain.EUNAUTHENTICATED, errUnknownToken, "invalid or expired token")
	}
	expires, err := s.readDateTime(expireText)
	if err != nil {
		return domain.Session{}, err
	}
	if s.now().After(expires) {
		return domain.Session{}, domain.Wrap(domain.EUNAUTHENTICATED, errExpiredToken, "invalid or expired token")
	}
	return domain.Session{Staff: row.staff(), Expires: expires}, nil
}

// Why a token is refused, for the log: the client is told only that it
// is invalid or expired.
var (
	errUnknownToken = errors.New("unknown token")
	errExpiredToken = errors.New("expired token")
)

const clientByID = `SELECT client_id, client_secret, enabled FROM api_client WHERE client_id = ?`

// ClientByID returns the API client with exactly this id (byte for byte,
// as StaffByToken), or ENOTFOUND. Scanned by hand: every legacy call
// runs it.
func (s *Store) ClientByID(ctx context.Context, id string) (domain.Client, error) {
	var c domain.Client
	var found bool
	err := s.read(ctx, "client by id", clientByID, []any{id}, func(rows *sqlx.Rows) error {
		for rows.Next() {
			var r domain.Client
			var enabled int
			if err := rows.Scan(&r.ID, &r.Secret, &enabled); err != nil {
				return err
			}
			if r.ID == id && !found {
				r.Enabled = enabled != 0
				c, found = r, true
			}
		}
		return nil
	})
	if err != nil {
		return domain.Client{}, err
	}
	if !found {
		return domain.Client{}, domain.Errorf(domain.ENOTFOUND, "unknown client")
	}
	return c, nil
}
