package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

const mysqlPrefix = "mysql://"

func isMySQL(dsn string) bool { return strings.HasPrefix(dsn, mysqlPrefix) }

// Redact returns dsn fit for logs, banners and errors: a MySQL DSN's
// password is replaced by "xxxxx", and the DSN written in the driver's
// form. Other DSNs are returned as they are.
func Redact(dsn string) string {
	if !isMySQL(dsn) {
		return dsn
	}
	cfg, err := parseMySQLDSN(dsn)
	if err != nil {
		return redactRaw(dsn)
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "xxxxx"
	}
	return mysqlPrefix + cfg.FormatDSN()
}

// MySQLConfig parses a mysql:// DSN, in either of MySQLForms, and sets
// what the store relies on, whatever the DSN's author wrote: DATETIMEs
// as time.Time holding the stored wall clock (parseTime, loc=UTC; the
// store puts them in the platform zone), utf8mb4, and bounded network
// timeouts.
func MySQLConfig(dsn string) (*mysql.Config, error) {
	cfg, err := parseMySQLDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
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
	db := sqlx.NewDb(sql.OpenDB(mysqlConnector{conn}), "mysql") // see detached
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
