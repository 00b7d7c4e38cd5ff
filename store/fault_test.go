package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/mattn/go-sqlite3"

	"opfacade/domain"
)

// TestFaultClasses classifies what the drivers and the network report
// into the classes an operator acts on, and checks what each answers
// callers and what /readyz says of it.
func TestFaultClasses(t *testing.T) {
	my := func(n uint16) error { return &mysql.MySQLError{Number: n, Message: "…"} }
	lite := func(code sqlite3.ErrNo, msg string) error {
		return fmt.Errorf("%s: %w", msg, sqlite3.Error{Code: code})
	}
	tests := []struct {
		name    string
		err     error
		fault   Fault
		code    domain.ErrorCode
		explain string // a part of what Explain says
	}{
		{"wrong password", my(1045), AccessDenied, domain.EUNAVAILABLE, "database access denied: check the user and password"},
		{"no grant on a table", my(1142), AccessDenied, domain.EUNAVAILABLE, "database access denied: grant SELECT"},
		{"no grant on the database", my(1044), AccessDenied, domain.EUNAVAILABLE, "database access denied: the user may not use"},
		{"unknown database", my(1049), SchemaWrong, domain.EINTERNAL, "database schema wrong: the database -db names does not exist"},
		{"no such table (MySQL)", my(1146), SchemaWrong, domain.EINTERNAL, "database schema wrong: the legacy tables"},
		{"lock wait", my(1205), TimedOut, domain.EUNAVAILABLE, "database timed out"},
		{"gone away", my(2006), Unreachable, domain.EUNAVAILABLE, "database unreachable"},
		{"busy file", lite(sqlite3.ErrBusy, "database is locked"), TimedOut, domain.EUNAVAILABLE, "database timed out"},
		{"corrupt file", lite(sqlite3.ErrCorrupt, "malformed"), Unreachable, domain.EUNAVAILABLE, "database unreachable: the database file"},
		{"file gone", errFileGone{errors.New("stat: no such file")}, Unreachable, domain.EUNAVAILABLE, "database unreachable"},
		{"deadline", context.DeadlineExceeded, TimedOut, domain.EUNAVAILABLE, "database timed out"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, Unreachable, domain.EUNAVAILABLE, "check the host and port"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, Unreachable, domain.EUNAVAILABLE, "database unreachable"},
		{"caller gone", context.Canceled, "", domain.EUNAVAILABLE, "database unavailable"},
		{"syntax error", my(1064), "", domain.EINTERNAL, "database not ready: an unexpected error"},
	}
	s := &Store{engine: "mysql"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.classify(fmt.Errorf("scan: %w", tt.err), "chats by staff")
			if f := FaultOf(got); f != tt.fault {
				t.Errorf("fault %q, want %q", f, tt.fault)
			}
			if c := domain.Code(got); c != tt.code {
				t.Errorf("code %s, want %s", c, tt.code)
			}
			if e := Explain(got); !strings.Contains(e, tt.explain) {
				t.Errorf("Explain = %q, want it to say %q", e, tt.explain)
			}
			if !errors.Is(got, tt.err) && !strings.Contains(got.Error(), tt.err.Error()) {
				t.Errorf("the cause is lost: %v", got)
			}
		})
	}
	// SQLite names a missing table or column in its message only.
	missing := s.classify(sqliteNoSuch(t), "chats by staff")
	if FaultOf(missing) != SchemaWrong || domain.Code(missing) != domain.EINTERNAL {
		t.Errorf("SQLite's no such table: %s %q", domain.Code(missing), FaultOf(missing))
	}
}

// sqliteNoSuch returns the error SQLite gives for a missing table.
func sqliteNoSuch(t *testing.T) error {
	t.Helper()
	st, err := Open(context.Background(), t.TempDir()+"/empty.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.DB().Exec("SELECT 1 FROM op_chat")
	if err == nil {
		t.Fatal("no error from a missing table")
	}
	return err
}

// TestReadyExplainsAMissingSchema runs the readiness check on a SQLite
// database without the legacy tables: it fails as a schema fault.
func TestReadyExplainsAMissingSchema(t *testing.T) {
	st, err := Open(context.Background(), t.TempDir()+"/empty.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Ready(context.Background())
	if FaultOf(err) != SchemaWrong || !strings.Contains(Explain(err), "legacy tables") {
		t.Fatalf("Ready = %v (%q), want a schema fault", err, Explain(err))
	}
}
