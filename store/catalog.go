package store

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jmoiron/sqlx"
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
	err := s.read(ctx, "list tables", q, nil, func(rows *sqlx.Rows) error {
		return scanAll(rows, &names)
	})
	return names, err
}

// Charset names the character set new tables get by default: utf8mb4 is
// what the legacy data needs on MySQL; SQLite answers its encoding
// (UTF-8).
func (s *Store) Charset(ctx context.Context) (string, error) {
	q := `PRAGMA encoding`
	if s.engine == "mysql" {
		q = `SELECT @@character_set_database`
	}
	var cs []string
	if err := s.read(ctx, "character set", q, nil, func(rows *sqlx.Rows) error { return scanAll(rows, &cs) }); err != nil {
		return "", err
	}
	if len(cs) != 1 {
		return "", fmt.Errorf("character set: %d rows", len(cs))
	}
	return cs[0], nil
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CountRows returns the number of rows in table.
func (s *Store) CountRows(ctx context.Context, table string) (int64, error) {
	if !identifier.MatchString(table) {
		return 0, fmt.Errorf("count rows: bad table name %q", table)
	}
	var n []int64
	if err := s.read(ctx, "count rows of "+table, "SELECT COUNT(*) FROM "+table, nil, func(rows *sqlx.Rows) error { return scanAll(rows, &n) }); err != nil {
		return 0, err
	}
	return n[0], nil
}

// scanAll appends the first column of every row to dest.
func scanAll[T any](rows *sqlx.Rows, dest *[]T) error {
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return err
		}
		*dest = append(*dest, v)
	}
	return nil
}
