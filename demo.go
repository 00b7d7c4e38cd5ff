package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"opfacade/legacydb"
	"opfacade/store"
)

// demoToken is the console session of the example fixture's OP (小李),
// part of every demo database.
const demoToken = "o0001403351be22c648efa24c20e842fd7351"

// demoInfo tells a new user how to call a freshly created demo database.
type demoInfo struct {
	Token        string
	ClientID     string
	ClientSecret string
}

// prepareDemo creates a SQLite file with the legacy tables and demo data
// when cfg.DB names a file that does not exist yet. It never touches an
// existing database, and never a MySQL one.
func prepareDemo(ctx context.Context, cfg config) (*demoInfo, error) {
	if strings.HasPrefix(cfg.DB, "mysql://") {
		return nil, nil
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(cfg.DB, "file:"), "?")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if !cfg.Demo {
		return nil, fmt.Errorf("database file %s does not exist (start with -demo to create one with demo data)", path)
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{Zone: cfg.Zone})
	if err != nil {
		return nil, fmt.Errorf("create demo database: %w", err)
	}
	defer st.Close()
	db := st.DB().DB
	if err := legacydb.Exec(ctx, db, legacydb.Schema); err != nil {
		return nil, fmt.Errorf("create demo database: %w", err)
	}
	if err := legacydb.Exec(ctx, db, legacydb.ExampleFixture); err != nil {
		return nil, fmt.Errorf("create demo database: %w", err)
	}
	gen, err := legacydb.Generate(ctx, db, legacydb.DemoSizes(), 1)
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("create demo database: %w", err)
	}
	return &demoInfo{Token: demoToken, ClientID: gen.ClientID, ClientSecret: gen.ClientSecret}, nil
}

// printBanner tells the user where to point a browser and how to call the API.
func printBanner(w io.Writer, addr *net.TCPAddr, cfg config, demo *demoInfo) {
	host := "localhost"
	if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	base := fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
	fmt.Fprintf(w, "opfacade serving %s (%s)\n", cfg.DB, base)
	fmt.Fprintf(w, "  playground:   %s/\n", base)
	fmt.Fprintf(w, "  GraphQL:      POST %s/query\n", base)
	fmt.Fprintf(w, "  legacy v2:    POST %s/op/v2/receives\n", base)
	if demo == nil {
		return
	}
	fmt.Fprintf(w, "\nDemo data was created. Demo token (OP 小李): %s\n", demo.Token)
	fmt.Fprintf(w, "  curl -s %s/query -H 'Content-Type: application/json' -H 'Authorization: Bearer %s' \\\n", base, demo.Token)
	fmt.Fprintf(w, "    -d '{\"query\":\"{ me { name isOnline chats { title createTime user { nickName grade { chatCount orderCount serviceCount } } } } }\"}'\n")
}
