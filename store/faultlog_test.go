package store

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestFaultLog replays statements meeting configuration faults and
// checks the lines written: one when a fault starts, one when it is
// mended, none per request, even while other statements succeed.
func TestFaultLog(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	denied := &FaultError{Fault: AccessDenied, Hint: hintGrants, Err: &mysql.MySQLError{Number: 1142, Message: "SELECT command denied for table 'app_user'"}}
	password := &FaultError{Fault: AccessDenied, Hint: hintCredentials, Err: &mysql.MySQLError{Number: 1045, Message: "Access denied for user 'f'"}}
	type event struct {
		what    string
		err     *FaultError // nil: the statement succeeded
		started int
		all     bool // the readiness check's success
	}
	tests := []struct {
		name   string
		events []event
		want   []string
	}{
		{"one grant missing, other statements succeeding between requests", []event{
			{"token", nil, 0, false}, {"chats", denied, 1, false},
			{"token", nil, 2, false}, {"chats", denied, 3, false},
			{"token", nil, 4, false}, {"chats", denied, 5, false},
		}, []string{"database misconfigured"}},
		{"mended: the failing statement succeeds", []event{
			{"chats", denied, 1, false}, {"chats", nil, 2, false}, {"chats", denied, 3, false},
		}, []string{"database misconfigured", "database configuration mended", "database misconfigured"}},
		{"mended: the readiness check reads every table", []event{
			{"chats", denied, 1, false}, {"users", denied, 2, false}, {"readiness", nil, 3, true},
		}, []string{"database misconfigured", "database configuration mended"}},
		{"a success that started before the fault is old news", []event{
			{"chats", denied, 5, false}, {"chats", nil, 1, false}, {"chats", denied, 6, false},
		}, []string{"database misconfigured"}},
		{"two faults, a line each", []event{
			{"chats", denied, 1, false}, {"token", password, 2, false}, {"chats", denied, 3, false}, {"token", password, 4, false},
		}, []string{"database misconfigured", "database misconfigured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			f := newFaultLog(slog.New(slog.NewTextHandler(&buf, nil)), "mysql")
			for _, e := range tt.events {
				if e.err == nil {
					f.succeeded(at(e.started), e.what, e.all)
				} else {
					f.failed(at(e.started), e.what, e.err)
				}
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if _, msg, ok := strings.Cut(l, `msg="`); ok {
					msg, _, _ = strings.Cut(msg, `"`)
					msg, _, _ = strings.Cut(msg, ":")
					got = append(got, msg)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines %q, want %q\n%s", got, tt.want, buf.String())
			}
			if f.changes.Load() != uint64(len(got)) { // each line a change of state readiness notices
				t.Errorf("%d changes counted, want %d, one a line", f.changes.Load(), len(got))
			}
			if strings.Contains(buf.String(), "database misconfigured") && !strings.Contains(buf.String(), `cause="access denied"`) {
				t.Errorf("the line does not name the class:\n%s", buf.String())
			}
		})
	}
}
