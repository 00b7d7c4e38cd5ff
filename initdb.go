package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"opfacade/legacydb"
	"opfacade/store"
)

// The sets of rows init-db can load after the legacy tables.
const (
	dataDemo    = "demo"    // the example fixture and generated demo rows
	dataFixture = "fixture" // the example fixture alone
	dataNone    = "none"    // the empty tables
)

// legacyTables are the tables legacydb.Schema creates, in its order.
var legacyTables = func() []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?im)^\s*CREATE\s+TABLE\s+(\w+)`).FindAllStringSubmatch(legacydb.Schema, -1) {
		names = append(names, m[1])
	}
	return names
}()

// initDB is the init-db subcommand: it creates the legacy tables, with
// demo or fixture rows, in a database that has none of them, for test and
// demo setups. It refuses a database that holds any legacy table: the
// facade never creates or alters tables in the platform's database unless
// told to with this command.
func initDB(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout, stderr io.Writer) error {
	db, data, err := parseInitDB(args, getenv, environ(), stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return fillDB(ctx, db, data, stdout)
}

// parseInitDB reads init-db's flags, checked as the server's are: its
// errors are usageErrors. The environment may hold any of the server's
// variables; -db defaults to FACADE_DB.
func parseInitDB(args []string, getenv func(string) string, environ []string, usage io.Writer) (db, data string, err error) {
	if err := checkEnviron(environ, knownVariables(serverFlags(&config{}, new(string)))); err != nil {
		return "", "", usageError{fmt.Errorf("init-db: %w", err)}
	}
	fs := flag.NewFlagSet("opfacade init-db", flag.ContinueOnError)
	db = "opfacade.db"
	fs.Var(text(&db, checkDB), "db", "the `database`: a SQLite file path or file: URI, or "+store.MySQLForms+"; it must have none of the legacy tables (env FACADE_DB)")
	data = dataDemo
	fs.Var(text(&data, checkData), "data", "rows to load: demo (the example fixture and generated demo data), fixture (the example fixture alone) or none")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "opfacade init-db: create the legacy tables, with demo or fixture rows, in a database that has none of them (for tests and demos).\n\nUsage: opfacade init-db -db <database> [-data demo|fixture|none]\n\n")
		fs.PrintDefaults()
	}
	onlyDB := func(name string) string { // -data has no environment twin here
		if name != envName("db") {
			return ""
		}
		return getenv(name)
	}
	if err := setFromEnv(fs, onlyDB); err != nil {
		return "", "", usageError{fmt.Errorf("init-db: %w", err)}
	}
	if err := parseArgs(fs, args, usage); err != nil {
		if errors.As(err, new(usageError)) {
			err = usageError{fmt.Errorf("init-db: %w", errors.Unwrap(err))}
		}
		return "", "", err
	}
	return db, data, nil
}

func checkData(v string) error {
	if !slices.Contains([]string{dataDemo, dataFixture, dataNone}, v) {
		return errors.New("want demo, fixture or none")
	}
	return nil
}

// fillDB creates the legacy tables in db and loads data into them.
func fillDB(ctx context.Context, db, data string, stdout io.Writer) error {
	// A SQLite file this command creates is removed when it fails.
	path, created := store.SQLiteFile(db)
	if created {
		_, err := os.Stat(path)
		created = errors.Is(err, os.ErrNotExist)
	}
	st, err := store.Open(ctx, db, store.Options{MaxOpenConns: 1})
	if err != nil {
		return fmt.Errorf("init-db: open %s: %w", store.Redact(db), err)
	}
	fmt.Fprintf(stdout, "init-db: %s (%s)\n", store.Redact(db), st.Engine())
	info, err := initLegacy(ctx, st, data, stdout)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if created {
			removeSQLite(path)
		}
		return fmt.Errorf("init-db: %w", err)
	}
	fmt.Fprintf(stdout, "done.\n")
	if info != nil {
		fmt.Fprintf(stdout, "  token of OP 小李:  %s\n", info.Token)
		fmt.Fprintf(stdout, "  legacy v2 client: %s (secret %s)\n", info.ClientID, info.ClientSecret)
	}
	return nil
}

// removeSQLite removes a SQLite database file and its WAL files.
func removeSQLite(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
}

// initLegacy checks that st has none of the legacy tables and can hold
// their text, creates them and loads data (dataDemo, dataFixture or
// dataNone), telling w what it does. It returns how to call the data it
// loaded, nil for dataNone.
func initLegacy(ctx context.Context, st *store.Store, data string, w io.Writer) (*demoInfo, error) {
	tables, err := st.Tables(ctx)
	if err != nil {
		return nil, err
	}
	var present []string
	for _, t := range tables {
		if slices.ContainsFunc(legacyTables, func(l string) bool { return strings.EqualFold(l, t) }) {
			present = append(present, t)
		}
	}
	if len(present) > 0 {
		return nil, fmt.Errorf("refusing: the database already has legacy tables (%s); init-db fills only a database that has none of them, and alters no table (nothing was changed)", strings.Join(present, ", "))
	}
	if cs, err := st.Charset(ctx); err != nil {
		return nil, err
	} else if st.Engine() == "mysql" && cs != "utf8mb4" {
		return nil, fmt.Errorf("refusing: the database's default character set is %s, and the legacy data needs utf8mb4 (ALTER DATABASE … CHARACTER SET utf8mb4 first; nothing was changed)", cs)
	}

	db := st.DB()
	if err := legacydb.Exec(ctx, db, legacydb.Schema); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "created tables: %s\n", strings.Join(legacyTables, ", "))
	var info *demoInfo
	switch data {
	case dataFixture, dataDemo:
		if err := legacydb.Exec(ctx, db, legacydb.ExampleFixture); err != nil {
			return nil, err
		}
		info = fixtureLogin()
		fmt.Fprintf(w, "loaded the example fixture\n")
	}
	if data == dataDemo {
		if _, err := legacydb.Generate(ctx, db.DB, legacydb.DemoSizes(), 1); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "generated demo data\n")
	}
	var counts []string
	for _, t := range legacyTables {
		n, err := st.CountRows(ctx, t)
		if err != nil {
			return nil, err
		}
		counts = append(counts, fmt.Sprintf("%s %d", t, n))
	}
	fmt.Fprintf(w, "rows: %s\n", strings.Join(counts, ", "))
	return info, nil
}
