package app

import (
	"net/http"

	"opfacade/legacy"
	"opfacade/migrate"
)

// LegacySettings are the configuration's choices for the migration from
// the old v2 service.
func (c Config) LegacySettings() migrate.Settings {
	return migrate.Settings{Upstream: c.LegacyUpstream, Serve: c.LegacyServe, Shadow: c.LegacyShadow}
}

// mustMigration stands the facade in front of the old v2 service, when
// c names one (nil otherwise): receives is the facade's own handler, lc
// its configuration, whose envelopes the proxy answers with. Open checks
// the settings first, and reports what is wrong as an error.
func (c Config) mustMigration(receives http.Handler, lc legacy.Config) *migrate.Migration {
	m, err := migrate.New(migrate.Config{
		Settings: c.LegacySettings(),
		Tuning:   c.LegacyMigration,
		Receives: receives,
		Answers:  legacy.NewAnswers(lc),
		MaxBody:  lc.MaxBody,
		Metrics:  c.Metrics,
		Log:      c.Log,
	})
	if err != nil {
		panic("app: " + err.Error() + " (app.Open reports this as an error)")
	}
	return m
}
