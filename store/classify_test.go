package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"

	"opfacade/domain"
)

// TestMySQLServerErrorsAreUnavailable feeds the store's classification
// the MySQL/MariaDB server errors that mean "not now" (too many
// connections, lock waits, deadlocks, interrupted or timed-out statements,
// lost connections), as the driver returns them and as the store wraps
// them: each is EUNAVAILABLE, keeping its cause for the log. So is a
// refused user or grant (see classify). Errors that mean something is
// wrong (a missing table, bad SQL) stay EINTERNAL.
func TestMySQLServerErrorsAreUnavailable(t *testing.T) {
	tests := []struct {
		number uint16
		what   string
		want   domain.ErrorCode
	}{
		{1040, "too many connections", domain.EUNAVAILABLE},
		{1203, "user has more than max_user_connections", domain.EUNAVAILABLE},
		{1226, "user exceeded a resource limit", domain.EUNAVAILABLE},
		{1053, "server shutdown in progress", domain.EUNAVAILABLE},
		{1927, "connection was killed", domain.EUNAVAILABLE},
		{4031, "disconnected for inactivity", domain.EUNAVAILABLE},
		{1152, "aborted connection", domain.EUNAVAILABLE},
		{1158, "error reading communication packets", domain.EUNAVAILABLE},
		{1159, "timeout reading communication packets", domain.EUNAVAILABLE},
		{1160, "error writing communication packets", domain.EUNAVAILABLE},
		{1161, "timeout writing communication packets", domain.EUNAVAILABLE},
		{1205, "lock wait timeout exceeded", domain.EUNAVAILABLE},
		{1213, "deadlock found", domain.EUNAVAILABLE},
		{1317, "query execution was interrupted", domain.EUNAVAILABLE},
		{1969, "max_statement_time exceeded (MariaDB)", domain.EUNAVAILABLE},
		{3024, "maximum statement execution time exceeded (MySQL)", domain.EUNAVAILABLE},
		{2002, "cannot connect through the socket", domain.EUNAVAILABLE},
		{2003, "cannot connect to the server", domain.EUNAVAILABLE},
		{2006, "server has gone away", domain.EUNAVAILABLE},
		{2013, "lost connection during query", domain.EUNAVAILABLE},
		// Refused: not the caller's fault, and served once an operator
		// mends the user or its grants.
		{1142, "command denied (a missing grant)", domain.EUNAVAILABLE},
		{1045, "access denied (a wrong password)", domain.EUNAVAILABLE},
		{1044, "access denied to the database", domain.EUNAVAILABLE},
		// Not transient: retrying later would not help.
		{1146, "table doesn't exist", domain.EINTERNAL},
		{1064, "syntax error", domain.EINTERNAL},
		{1054, "unknown column", domain.EINTERNAL},
	}
	s := &Store{engine: "mysql"}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.number), func(t *testing.T) {
			cause := &mysql.MySQLError{Number: tt.number, Message: tt.what}
			// As the driver returns it from a query, and as it comes out of
			// preparing a statement and of a wrapped step.
			for _, err := range []error{cause, fmt.Errorf("prepare: %w", cause), fmt.Errorf("scan: %w", fmt.Errorf("rows: %w", cause))} {
				got := s.classify(err, "chats by staff")
				if code := domain.Code(got); code != tt.want {
					t.Errorf("Error %d (%s) as %q: classified %s, want %s", tt.number, tt.what, err, code, tt.want)
				}
				var me *mysql.MySQLError
				if !errors.As(got, &me) || me.Number != tt.number {
					t.Errorf("Error %d: the cause is lost: %v", tt.number, got)
				}
				if domain.Message(got) == tt.what || domain.Message(got) == err.Error() {
					t.Errorf("Error %d: the client-safe message shows the driver's: %q", tt.number, domain.Message(got))
				}
			}
		})
	}
}
