package app

import (
	"opfacade/store"
	"opfacade/tracing"
)

// statementSpans gives each SQL statement a span (see tracing.Statements),
// its db.system the engine c.DB names.
func (c Config) statementSpans() store.Observer {
	engine := "mysql"
	if _, ok := store.SQLiteFile(c.DB); ok {
		engine = "sqlite"
	}
	return tracing.Statements(c.Tracing, engine)
}
