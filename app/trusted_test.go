package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"opfacade/app"
	"opfacade/app/apptest"
)

// TestTrustedDocumentsConfig checks that Open refuses a configuration of
// trusted documents it cannot serve, saying why, before it opens the
// database: trusted documents only without a manifest, a manifest that
// cannot be read, one that is not Apollo's format.
func TestTrustedDocumentsConfig(t *testing.T) {
	db := apptest.NewSQLiteDB(t, apptest.FixtureScripts()...)
	dir := t.TempDir()
	notManifest := filepath.Join(dir, "relay.json")
	if err := os.WriteFile(notManifest, []byte(`{"d8f4a1e2": "query Q { me { id } }"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  func(*app.Config)
		want string // in the error; "" when Open must succeed
	}{
		{"trusted documents only, no manifest", func(c *app.Config) { c.TrustedOnly = true }, "no manifest"},
		{"a manifest that is not there", func(c *app.Config) { c.TrustedDocuments = filepath.Join(dir, "nope.json") }, "nope.json"},
		{"a manifest of another format", func(c *app.Config) { c.TrustedDocuments = notManifest }, "relay.json: format"},
		{"the consoles' manifest", func(c *app.Config) {
			c.TrustedDocuments, c.TrustedOnly = filepath.Join("..", "documents", "manifest.json"), true
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := apptest.Config(t, db, tt.set)
			if tt.want != "" {
				cfg.DB = filepath.Join(dir, "missing.db") // refused too, but later
			}
			a, err := app.Open(context.Background(), cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = a.Close()
				return
			}
			if err == nil {
				_ = a.Close()
				t.Fatalf("Open succeeded; want an error saying %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "trusted documents") {
				t.Fatalf("error %q, want one about trusted documents saying %q", err, tt.want)
			}
		})
	}
}
