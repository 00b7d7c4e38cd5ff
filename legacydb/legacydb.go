// Package legacydb holds the legacy OP platform's database as files and data:
// its DDL, the example fixture, and a deterministic generator of demo and
// benchmark rows. It sets up demo, test and benchmark databases (SQLite and
// MySQL/MariaDB); nothing in it runs against a production database unless a
// caller points it there.
package legacydb

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
)

// Schema is the legacy DDL, as it stands in production.
//
//go:embed sql/schema.sql
var Schema string

// ExampleFixture is the rows that reproduce the legacy API documentation's
// example response. Load it after Schema.
//
//go:embed sql/example-fixture.sql
var ExampleFixture string

// Execer runs one statement. *sql.DB, *sql.Tx, *sql.Conn and *sqlx.DB have it.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Exec runs a SQL script statement by statement, in order. Drivers are set
// up without multi-statement support (MySQL's multiStatements=false), so the
// script is split here.
func Exec(ctx context.Context, db Execer, script string) error {
	for i, stmt := range splitStatements(script) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("legacydb: statement %d (%.60q): %w", i+1, stmt, err)
		}
	}
	return nil
}

// splitStatements cuts a script at the semicolons that end statements. It
// knows quoted text ('...', "..." and `...`, a doubled quote standing for
// itself) and drops "--" line comments, so that a ';' or an apostrophe in
// either does not cut a statement. Backslash escapes (a MySQL extension that
// SQLite lacks) and /* */ comments are not understood. Statements that are
// empty once comments are gone are left out.
func splitStatements(script string) []string {
	var stmts []string
	var cur strings.Builder
	emit := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			stmts = append(stmts, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(script); i++ {
		switch c := script[i]; {
		case c == '\'' || c == '"' || c == '`':
			end := closingQuote(script, i)
			cur.WriteString(script[i:end])
			i = end - 1
		case c == '-' && strings.HasPrefix(script[i:], "--"):
			nl := strings.IndexByte(script[i:], '\n')
			if nl < 0 {
				i = len(script)
			} else {
				i += nl - 1 // the newline itself is kept
			}
		case c == ';':
			emit()
		default:
			cur.WriteByte(c)
		}
	}
	emit()
	return stmts
}

// closingQuote returns the index just past the quoted text that starts at
// start, or len(s) when the quote is never closed.
func closingQuote(s string, start int) int {
	q := s[start]
	for i := start + 1; i < len(s); i++ {
		if s[i] != q {
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			i++ // a doubled quote is part of the text
			continue
		}
		return i + 1
	}
	return len(s)
}
