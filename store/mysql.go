package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

const mysqlPrefix = "mysql://"

func isMySQL(dsn string) bool { return strings.HasPrefix(dsn, mysqlPrefix) }

// Redact returns dsn fit for logs and banners: a MySQL DSN's password is
// replaced by "xxxxx". Other DSNs are returned as they are.
func Redact(dsn string) string {
	if !isMySQL(dsn) {
		return dsn
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, mysqlPrefix))
	if err != nil {
		return mysqlPrefix + "(malformed DSN)"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "xxxxx"
	}
	return mysqlPrefix + cfg.FormatDSN()
}

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

// mysqlPool is the default pool of each replica. Connections are recycled
// well within MySQL's wait_timeout and so that replicas rebalance after a
// failover.
var mysqlPool = Pool{MaxOpen: 32, ConnMaxLifetime: 5 * time.Minute}

func openMySQL(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := MySQLConfig(dsn)
	if err != nil {
		return nil, err
	}
	if opt.Log != nil {
		cfg.Logger = &driverLog{log: opt.Log, interval: cmp.Or(opt.OutageSummary, defaultOutageSummary)}
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(conn), "mysql")
	// No ping: the server starts even while MySQL is down; readiness says
	// so, and requests succeed as soon as it is back.
	s := newStore(db, "mysql", opt)
	s.usePool(opt.pool(mysqlPool))
	return s, nil
}

// driverLog passes the MySQL driver's reports to the server's log, one
// an interval: the driver reports each broken connection, and an outage
// under load breaks thousands. The next line counts those left out.
type driverLog struct {
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	last    time.Time
	dropped int
}

func (d *driverLog) Print(v ...any) {
	d.mu.Lock()
	now := time.Now()
	if !d.last.IsZero() && now.Sub(d.last) < d.interval {
		d.dropped++
		d.mu.Unlock()
		return
	}
	dropped := d.dropped
	d.last, d.dropped = now, 0
	d.mu.Unlock()
	var args []any
	if dropped > 0 {
		args = append(args, "similar_lines_left_out", dropped)
	}
	d.log.Warn("mysql driver: "+fmt.Sprint(v...), args...)
}

// isMySQLUnavailable reports errors that mean the server cannot be reached
// or is overloaded right now: network errors (refused, reset, timed out:
// the DSN's timeout and readTimeout bound them), a connection the driver
// found broken, and the server errors below.
func isMySQLUnavailable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, 1203, 1226, // too many connections; per-user connection and query limits
			1053, 1927, 4031, // shutting down; connection killed; disconnected for inactivity
			1152, 1158, 1159, 1160, 1161, // aborted connection; network read and write errors
			1205, 1213, // lock wait timeout; deadlock
			1317, 1969, 3024, // query interrupted; statement time limit (MariaDB, MySQL)
			2002, 2003, 2006, 2013: // cannot connect; server gone away; lost connection
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, mysql.ErrInvalidConn)
}
