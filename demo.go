package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"opfacade/legacy"
	"opfacade/store"
)

// Every demo database holds the example fixture: its OP 小李's console
// session and its legacy API client.
const (
	demoToken        = "o0001403351be22c648efa24c20e842fd7351"
	demoClientID     = "b2736195b38346639463ee889d6b8ff4"
	demoClientSecret = "5e8dd316726b0335fcdb27a4d3c2a9b7"
)

// demoInfo tells a new user how to call a demo database.
type demoInfo struct {
	Created      bool // made by this start
	Token        string
	ClientID     string
	ClientSecret string
}

// detectDemo recognises a SQLite demo database made by an earlier start,
// so the playground and banner still offer the demo token.
func detectDemo(ctx context.Context, cfg config) *demoInfo {
	path, ok := store.SQLiteFile(cfg.DB)
	if !ok {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{Zone: cfg.Zone})
	if err != nil {
		return nil
	}
	defer st.Close()
	if _, err := st.StaffByToken(ctx, demoToken); err != nil {
		return nil
	}
	return fixtureLogin()
}

// fixtureLogin is how to call the example fixture's rows.
func fixtureLogin() *demoInfo {
	return &demoInfo{Token: demoToken, ClientID: demoClientID, ClientSecret: demoClientSecret}
}

// headers prefill the playground's headers editor with the demo token;
// none when the server runs on a database of its own.
func (d *demoInfo) headers() string {
	if d == nil {
		return ""
	}
	return `{"Authorization": "Bearer ` + d.Token + `"}`
}

// prepareDemo creates a SQLite file with the legacy tables and demo data
// when cfg.DB names a file that does not exist yet and cfg.Demo asks for
// it; without it, a missing file is refused (a usageError): a mistyped
// path or variable must not serve demo data with a well-known token. It
// never touches an existing database, and never a MySQL one.
func prepareDemo(ctx context.Context, cfg config) (*demoInfo, error) {
	path, ok := store.SQLiteFile(cfg.DB)
	if !ok {
		return nil, nil
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if !cfg.Demo {
		return nil, usageError{fmt.Errorf("the database file %s does not exist: start with -demo to create it with demo data, or create the legacy tables with: opfacade init-db -db %s", path, cfg.DB)}
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{Zone: cfg.Zone})
	if err != nil {
		return nil, fmt.Errorf("create demo database: %w", err)
	}
	demo, err := initLegacy(ctx, st, dataDemo, io.Discard)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		removeSQLite(path)
		return nil, fmt.Errorf("create demo database: %w", err)
	}
	demo.Created = true
	return demo, nil
}

// printBanner tells the user where to point a browser and how to call the API.
func printBanner(w io.Writer, addr *net.TCPAddr, cfg config, demo *demoInfo) {
	base := baseURL(addr)
	fmt.Fprintf(w, "opfacade serving %s (%s)\n", store.Redact(cfg.DB), base)
	fmt.Fprintf(w, "  playground:   %s/\n", base)
	fmt.Fprintf(w, "  GraphQL:      POST %s/query\n", base)
	fmt.Fprintf(w, "  legacy v2:    POST %s/op/v2/receives\n", base)
	if demo == nil {
		return
	}
	if demo.Created {
		fmt.Fprintf(w, "\nDemo data was created in %s.\n", cfg.DB)
	}
	fmt.Fprintf(w, "\nDemo token (OP 小李): %s  (prefilled in the playground)\n", demo.Token)
	fmt.Fprintf(w, "\nGraphQL:\n  curl -s %s/query -H 'Content-Type: application/json' -H 'Authorization: Bearer %s' \\\n", base, demo.Token)
	fmt.Fprintf(w, "    -d '{\"query\":\"{ me { name isOnline chats { title createTime user { nickName grade { chatCount orderCount serviceCount } } } } }\"}'\n")
	params := map[string]string{"apiVersion": "01", "client": demo.ClientID, "token": demo.Token}
	fmt.Fprintf(w, "\nLegacy v2 (signed with the demo client's secret):\n  curl -s %s/op/v2/receives -d 'apiVersion=01&client=%s&token=%s&sign=%s'\n",
		base, demo.ClientID, demo.Token, legacy.Sign(params, demo.ClientSecret))
	if !cfg.CheckSign {
		fmt.Fprintf(w, "  (signature checks are off: -legacy-sign=false)\n")
	}
}
