package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

const mysqlPrefix = "mysql://"

func isMySQL(dsn string) bool { return strings.HasPrefix(dsn, mysqlPrefix) }

// MySQLConfig parses a mysql:// DSN and sets what the store relies on,
// whatever the DSN's author wrote: DATETIMEs as time.Time holding the
// stored wall clock (parseTime, loc=UTC; the store puts them in the
// platform zone), utf8mb4, and bounded network timeouts.
func MySQLConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, mysqlPrefix))
	if err != nil {
		return nil, fmt.Errorf("mysql: bad DSN: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if err := cfg.Apply(mysql.Charset("utf8mb4", "utf8mb4_general_ci")); err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	return cfg, nil
}

func openMySQL(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := MySQLConfig(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(conn), "mysql")
	maxOpen := opt.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 32
	}
	maxIdle := opt.MaxIdleConns
	if maxIdle <= 0 {
		maxIdle = maxOpen
	}
	life := opt.ConnMaxLifetime
	if life <= 0 {
		life = 5 * time.Minute
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxLifetime(life)
	// The server starts even while MySQL is down: readiness says so, and
	// requests succeed as soon as it is back.
	return newStore(db, "mysql", opt), nil
}

// isMySQLUnavailable reports errors that mean the server cannot be reached
// or is overloaded right now.
func isMySQLUnavailable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, 1053, 1152, 1158, 1159, 1160, 1161, 1205, 1213, 2002, 2003, 2006, 2013:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, mysql.ErrInvalidConn)
}
