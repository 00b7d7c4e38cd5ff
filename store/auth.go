package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"opfacade/domain"
)

type tokenRow struct {
	staffRow
	Token      string    `db:"token"`
	ExpireTime time.Time `db:"expire_time"`
}

// staffByToken finds the token through its primary key. On MySQL the key
// compares by the column's collation, which may ignore case and trailing
// spaces (utf8mb4_general_ci does); StaffByToken keeps only the exact
// match, so a credential means the same on every engine.
const staffByToken = `SELECT t.token, s.staff_id, s.staff_name, s.online, s.role, t.expire_time
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
	var rows []tokenRow
	if err := s.selectRows(ctx, "staff by token", &rows, staffByToken, token); err != nil {
		return domain.Session{}, err
	}
	rows = exactly(rows, token, func(r tokenRow) string { return r.Token })
	if len(rows) == 0 {
		return domain.Session{}, domain.Wrap(domain.EUNAUTHENTICATED, errUnknownToken, "invalid or expired token")
	}
	expires := s.localTime(rows[0].ExpireTime)
	if s.now().After(expires) {
		return domain.Session{}, domain.Wrap(domain.EUNAUTHENTICATED, errExpiredToken, "invalid or expired token")
	}
	return domain.Session{Staff: rows[0].staff(), Expires: expires}, nil
}

// Why a token is refused, for the log: the client is told only that it
// is invalid or expired.
var (
	errUnknownToken = errors.New("unknown token")
	errExpiredToken = errors.New("expired token")
)

type clientRow struct {
	ID      string `db:"client_id"`
	Secret  string `db:"client_secret"`
	Enabled int    `db:"enabled"`
}

const clientByID = `SELECT client_id, client_secret, enabled FROM api_client WHERE client_id = ?`

// ClientByID returns the API client with exactly this id (byte for byte,
// as StaffByToken), or ENOTFOUND.
func (s *Store) ClientByID(ctx context.Context, id string) (domain.Client, error) {
	var rows []clientRow
	if err := s.selectRows(ctx, "client by id", &rows, clientByID, id); err != nil {
		return domain.Client{}, err
	}
	rows = exactly(rows, id, func(c clientRow) string { return c.ID })
	if len(rows) == 0 {
		return domain.Client{}, domain.Errorf(domain.ENOTFOUND, "unknown client")
	}
	r := rows[0]
	return domain.Client{ID: r.ID, Secret: r.Secret, Enabled: r.Enabled != 0}, nil
}

// exactly keeps the rows whose key is want byte for byte. Lookups by a
// credential use it after the indexed, collation-aware comparison in SQL.
func exactly[R any](rows []R, want string, key func(R) string) []R {
	return slices.DeleteFunc(rows, func(r R) bool { return key(r) != want })
}
