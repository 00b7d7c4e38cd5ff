package store

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// MySQLForms are the two ways a mysql:// DSN may be written.
const MySQLForms = "mysql://user:pass@tcp(host:port)/db?params (go-sql-driver's form) or mysql://user:pass@host:port/db?params (a URL: user and password percent-encoded; port 3306 when left out)"

// CheckDSN reports whether the store can read dsn, before anything is
// opened: a MySQL DSN in either form, or a SQLite file path or file: URI.
// Its errors say what would be accepted, and never show a password.
func CheckDSN(dsn string) error {
	if isMySQL(dsn) {
		_, err := parseMySQLDSN(dsn)
		return err
	}
	if scheme := urlScheme(dsn); scheme != "" {
		return fmt.Errorf("%s:// is no database the facade reads: give a SQLite file path, a file: URI, or %s", scheme, MySQLForms)
	}
	_, err := SQLiteDSN(dsn)
	return err
}

// urlScheme returns the scheme of a "scheme://…" value, which can only be
// a mistake where a file path is expected.
func urlScheme(dsn string) string {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/\\?") {
		return ""
	}
	return scheme
}

// parseMySQLDSN reads a mysql:// DSN in go-sql-driver's form or as a URL.
// The driver's form is tried first: it fails on a URL's host:port, which
// it takes for a network name, and reads user@tcp/db (no address) as the
// driver documents.
func parseMySQLDSN(dsn string) (*mysql.Config, error) {
	rest := strings.TrimPrefix(dsn, mysqlPrefix)
	cfg, derr := mysql.ParseDSN(rest)
	if derr == nil {
		return cfg, nil
	}
	cfg, uerr := parseMySQLURL(dsn)
	if uerr == nil {
		return cfg, nil
	}
	err := uerr
	if strings.Contains(rest, "(") {
		err = derr // meant as the driver's form
	}
	return nil, fmt.Errorf("cannot read the MySQL DSN (%v); write it as %s", err, MySQLForms)
}

// parseMySQLURL reads mysql://user:pass@host:port/db?params. The params
// are the driver's, read by the driver.
func parseMySQLURL(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error quotes the whole DSN, password and all
		}
		return nil, err
	}
	if !hostName(u.Hostname()) {
		return nil, fmt.Errorf("no host name in %q", u.Host)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, errors.New("the path must be one database name")
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	// The driver takes the last '/' for the end of the address, so none
	// may be left in the params; it unescapes their values.
	params := strings.ReplaceAll(u.RawQuery, "/", "%2F")
	cfg, err := mysql.ParseDSN("tcp(" + net.JoinHostPort(u.Hostname(), port) + ")/?" + params)
	if err != nil {
		return nil, err
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = db
	return cfg, nil
}

// hostName reports whether h is a host name or IP address: url.Parse
// lets pass what the driver's form puts there, tcp(host, say.
func hostName(h string) bool {
	return h != "" && strings.IndexFunc(h, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".-_:%", r))
	}) < 0
}

// redactRaw hides the password of a DSN that does not parse: whatever
// lies between the user's ':' and the last '@'.
func redactRaw(dsn string) string {
	rest := strings.TrimPrefix(dsn, mysqlPrefix)
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return dsn
	}
	return mysqlPrefix + user + ":xxxxx" + rest[at:]
}
