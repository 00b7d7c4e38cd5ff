package store

import (
	"context"
	"database/sql/driver"
)

// mysqlConnector opens the MySQL driver's connections as mysqlConns (see
// detached), dialing with the context a detached one holds.
type mysqlConnector struct{ driver.Connector }

func (c mysqlConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, err := attached(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return attachConn(conn)
}

// mysqlDriverConn is what the MySQL driver's connections are: beside
// what both drivers' are, the interfaces database/sql asks a connection
// for that only MySQL's have.
type mysqlDriverConn interface {
	driverConn
	mysqlConnExtras
}

type mysqlConnExtras interface {
	driver.NamedValueChecker
	driver.SessionResetter
	driver.Validator
}

// mysqlConn is an attachingConn that passes on, as they are, the methods
// only the MySQL driver's connections have.
type mysqlConn struct {
	attachingConn
	mysqlConnExtras
}

// mysqlDriverStmt is what the MySQL driver's statements are.
type mysqlDriverStmt interface {
	driverStmt
	mysqlStmtExtras
}

type mysqlStmtExtras interface {
	//lint:ignore SA1019 the driver's statements implement it, and database/sql still asks for it
	driver.ColumnConverter
	driver.NamedValueChecker
}

// mysqlStmt is an attachingStmt that passes on, as they are, the methods
// only the MySQL driver's statements have.
type mysqlStmt struct {
	attachingStmt
	mysqlStmtExtras
}
