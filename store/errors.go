package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"syscall"
)

// isUnavailable reports whether err means the database cannot serve now
// (unreachable, busy, or out of time) rather than that something is wrong.
func isUnavailable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		isSQLiteUnavailable(err) ||
		isMySQLUnavailable(err)
}
