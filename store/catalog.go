package store

import (
	"context"
	"fmt"
	"regexp"
)

// This file reads the database's catalog, for setting up demo and test
// databases (init-db); serving never needs it.

// Tables returns the names of the database's tables, in name order.
func (s *Store) Tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`
	if s.engine == "mysql" {
		q = `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`
	}
	var names []string
	s.statements.Add(1)
	if err := s.db.SelectContext(ctx, &names, q); err != nil {
		return nil, s.classify(err, "list tables")
	}
	return names, nil
}

// Charset names the character set new tables get by default: utf8mb4 is
// what the legacy data needs on MySQL; SQLite answers its encoding
// (UTF-8).
func (s *Store) Charset(ctx context.Context) (string, error) {
	q := `PRAGMA encoding`
	if s.engine == "mysql" {
		q = `SELECT @@character_set_database`
	}
	var cs string
	s.statements.Add(1)
	if err := s.db.GetContext(ctx, &cs, q); err != nil {
		return "", s.classify(err, "character set")
	}
	return cs, nil
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CountRows returns the number of rows in table.
func (s *Store) CountRows(ctx context.Context, table string) (int64, error) {
	if !identifier.MatchString(table) {
		return 0, fmt.Errorf("count rows: bad table name %q", table)
	}
	var n int64
	s.statements.Add(1)
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM "+table); err != nil {
		return 0, s.classify(err, "count rows of "+table)
	}
	return n, nil
}
