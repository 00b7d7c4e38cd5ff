package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/mattn/go-sqlite3"

	"opfacade/domain"
)

// Fault is why the database failed a statement, in the terms an operator
// acts on: wait for it, or mend the configuration.
type Fault string

const (
	// Unreachable: no connection (refused, lost, the server shutting down
	// or full), or a SQLite file missing, unreadable or corrupt.
	Unreachable Fault = "unreachable"
	// TimedOut: the database is too slow or locked, past the deadline.
	TimedOut Fault = "timed out"
	// AccessDenied: the server refuses the facade's user: a wrong user or
	// password, or a missing grant.
	AccessDenied Fault = "access denied"
	// SchemaWrong: the database lacks the legacy tables or columns.
	SchemaWrong Fault = "schema wrong"
)

// Configuration reports whether f is the configuration's fault: it lasts
// until an operator mends it, where an outage may end on its own.
func (f Fault) Configuration() bool { return f == AccessDenied || f == SchemaWrong }

// FaultError is a driver error with its class and what to do about it.
// It keeps the driver's text, for the log.
type FaultError struct {
	Fault Fault
	Hint  string // what an operator can do, for /readyz and the log
	Err   error
}

func (e *FaultError) Error() string { return e.Err.Error() }
func (e *FaultError) Unwrap() error { return e.Err }

// FaultOf returns the class of a store error, "" when it has none (a
// caller that went away, or something unexpected).
func FaultOf(err error) Fault {
	var fe *FaultError
	if errors.As(err, &fe) {
		return fe.Fault
	}
	return ""
}

// Explain says in one line, fit for a readiness probe's body, why the
// database cannot serve: "database access denied: check the user and
// password in -db". It names no user, table or host.
func Explain(err error) string {
	var fe *FaultError
	if errors.As(err, &fe) {
		return fmt.Sprintf("database %s: %s", fe.Fault, fe.Hint)
	}
	if domain.Code(err) == domain.EUNAVAILABLE {
		return "database unavailable"
	}
	return "database not ready: an unexpected error (see the log)"
}

// Hints for the faults a driver's error alone tells apart.
const (
	hintCredentials = "check the user and password in -db"
	hintGrants      = "grant SELECT on the legacy tables to the facade's user (see the README's Grants)"
	hintDatabase    = "the user may not use the database -db names: grant SELECT on its legacy tables"
	hintNoDatabase  = "the database -db names does not exist"
	hintTables      = "the legacy tables are missing or differ: is -db the platform's database? (opfacade init-db creates them in an empty one)"
	hintConnect     = "check the host and port in -db, and that the server runs"
	hintSlow        = "the database is too slow or locked"
	hintFile        = "the database file is missing, unreadable, corrupt or not a database"
)

// diagnose classifies a driver error; nil when it is none of the faults.
func diagnose(err error) *FaultError {
	fault, hint := mysqlFault(err)
	if fault == "" {
		fault, hint = sqliteFault(err)
	}
	if fault == "" {
		fault, hint = connFault(err)
	}
	if fault == "" {
		return nil
	}
	return &FaultError{Fault: fault, Hint: hint, Err: err}
}

// mysqlFault classifies the server errors of MySQL and MariaDB.
func mysqlFault(err error) (Fault, string) {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return "", ""
	}
	switch me.Number {
	case 1045, 1698: // wrong password; no password given
		return AccessDenied, hintCredentials
	case 1820, 1862: // the password must be changed; it expired
		return AccessDenied, "the user's password has expired: set a new one"
	case 3118, 4151: // account locked (MySQL, MariaDB)
		return AccessDenied, "the user's account is locked"
	case 1130: // host not allowed
		return AccessDenied, "the user may not connect from this host"
	case 1044: // no privilege on the database
		return AccessDenied, hintDatabase
	case 1142, 1143: // SELECT (or a column) denied on a table
		return AccessDenied, hintGrants
	case 1049:
		return SchemaWrong, hintNoDatabase
	case 1146, 1054: // no such table; no such column
		return SchemaWrong, hintTables
	case 1205, 1213, // lock wait timeout; deadlock
		1317, 1969, 3024, // query interrupted; statement time limit (MariaDB, MySQL)
		1159, 1161: // timeouts reading and writing packets
		return TimedOut, hintSlow
	case 1040, 1203, 1226, // too many connections; per-user connection and query limits
		1053, 1927, 4031, // shutting down; connection killed; disconnected for inactivity
		1152, 1158, 1160, // aborted connection; network read and write errors
		2002, 2003, 2006, 2013: // cannot connect; server gone away; lost connection
		return Unreachable, hintConnect
	}
	return "", ""
}

// sqliteFault classifies SQLite's errors and the store's file checks. A
// file missing, unreadable, corrupt or not a database is an outage, an
// operator's mishap mended by putting the right file back; a busy or
// locked one, or a statement interrupted at its deadline, a slow one.
func sqliteFault(err error) (Fault, string) {
	if errors.As(err, new(errFileGone)) {
		return Unreachable, hintFile
	}
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return "", ""
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrInterrupt:
		return TimedOut, hintSlow
	case sqlite3.ErrCantOpen, sqlite3.ErrIoErr, sqlite3.ErrPerm, sqlite3.ErrAuth, sqlite3.ErrNotADB, sqlite3.ErrCorrupt, sqlite3.ErrProtocol:
		return Unreachable, hintFile
	case sqlite3.ErrError:
		if msg := se.Error(); strings.Contains(msg, "no such table") || strings.Contains(msg, "no such column") {
			return SchemaWrong, hintTables
		}
	}
	return "", ""
}

// connFault classifies what the network and database/sql report. A dial
// that times out found no server; a read that times out, a slow one.
func connFault(err error) (Fault, string) {
	if errors.Is(err, context.DeadlineExceeded) {
		return TimedOut, hintSlow
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return Unreachable, hintConnect
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return TimedOut, hintSlow
	}
	if ne != nil || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return Unreachable, hintConnect
	}
	return "", ""
}
