package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"opfacade/legacydb"
	"opfacade/store"
)

// login is an OP the load driver signs in as.
type login struct {
	StaffID string `json:"staffId"`
	Token   string `json:"token"`
	Chats   int    `json:"chats"` // chats in service
}

// dataset is a generated legacy database and who can call it.
type dataset struct {
	Path  string         `json:"-"`
	Sizes legacydb.Sizes `json:"sizes"`
	Seed  int64          `json:"seed"`
	// OPs are Generate's OPs (admins left out): the load picks one at
	// random per request.
	OPs []login `json:"ops"`
	// Growth are the OPs with exactly a known number of chats in service,
	// by that number.
	Growth   map[int]login `json:"growth"`
	ClientID string        `json:"clientId"`
	Secret   string        `json:"secret"`
	// Took is how long generating it took; zero when it came from the cache.
	Took time.Duration `json:"-"`
}

// datasetVersion changes whenever what a cached file holds changes, so an
// old cache is never read as a new one.
const datasetVersion = 1

// growthStaff returns the id and token of the OP with exactly n chats in
// service. Their prefixes ("u0009", "o0009") are neither the fixture's nor
// legacydb's.
func growthStaff(n int) (staffID, token string) {
	return fmt.Sprintf("u0009%032x", n), fmt.Sprintf("o0009%032x", n)
}

// openDataset returns the database for sizes, seed and growth, from the
// cache folder when an earlier run made it, else generated into it.
func openDataset(ctx context.Context, cacheDir string, sizes legacydb.Sizes, seed int64, growth []int) (*dataset, error) {
	key, _ := json.Marshal(struct {
		V      int
		Schema [32]byte
		Sizes  legacydb.Sizes
		Seed   int64
		Growth []int
	}{datasetVersion, sha256.Sum256([]byte(legacydb.Schema)), sizes, seed, growth})
	name := fmt.Sprintf("legacy-%x", sha256.Sum256(key))[:23]
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cacheDir, name+".db")
	metaPath := filepath.Join(cacheDir, name+".json")
	if raw, err := os.ReadFile(metaPath); err == nil {
		var ds dataset
		if err := json.Unmarshal(raw, &ds); err == nil {
			if _, err := os.Stat(dbPath); err == nil {
				ds.Path = dbPath
				return &ds, nil
			}
		}
	}
	start := time.Now()
	ds, err := generate(ctx, dbPath, sizes, seed, growth)
	if err != nil {
		return nil, err
	}
	ds.Took = time.Since(start)
	raw, _ := json.Marshal(ds)
	// The metadata is written last: a run cut short leaves no cache entry.
	if err := os.WriteFile(metaPath, raw, 0o644); err != nil {
		return nil, err
	}
	return ds, nil
}

// generate writes a fresh database at path: Generate's data plus one OP
// per growth size.
func generate(ctx context.Context, path string, sizes legacydb.Sizes, seed int64, growth []int) (*dataset, error) {
	tmp := path + ".tmp"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		_ = os.Remove(f)
	}
	st, err := store.Open(ctx, tmp, store.Options{})
	if err != nil {
		return nil, err
	}
	db := st.DB().DB
	fail := func(err error) (*dataset, error) {
		_ = st.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("generate %s: %w", path, err)
	}
	ds, err := fill(ctx, db, path, sizes, seed, growth)
	if err != nil {
		return fail(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fail(err)
	}
	if err := st.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	for _, f := range []string{tmp + "-wal", tmp + "-shm"} {
		_ = os.Remove(f)
	}
	return ds, nil
}

// generateMySQL writes the data into the MySQL database at dsn, its
// tables dropped first: no cache, the database is the caller's.
func generateMySQL(ctx context.Context, dsn string, sizes legacydb.Sizes, seed int64, growth []int) (*dataset, error) {
	start := time.Now()
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	db := st.DB().DB
	for _, t := range []string{"op_staff", "op_token", "app_user", "op_chat", "user_order", "service_order", "api_client"} {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			return nil, err
		}
	}
	ds, err := fill(ctx, db, dsn, sizes, seed, growth)
	if err != nil {
		return nil, err
	}
	ds.Took = time.Since(start)
	return ds, nil
}

// fill writes the legacy schema, Generate's data and one OP per growth
// size into db, which path names.
func fill(ctx context.Context, db *sql.DB, path string, sizes legacydb.Sizes, seed int64, growth []int) (*dataset, error) {
	if err := legacydb.Exec(ctx, db, legacydb.Schema); err != nil {
		return nil, err
	}
	gen, err := legacydb.Generate(ctx, db, sizes, seed)
	if err != nil {
		return nil, err
	}
	ds := &dataset{Path: path, Sizes: sizes, Seed: seed, ClientID: gen.ClientID, Secret: gen.ClientSecret, Growth: map[int]login{}}
	for _, s := range gen.Staff {
		if s.Role == "OP" {
			ds.OPs = append(ds.OPs, login{StaffID: s.StaffID, Token: s.Token, Chats: s.ServiceChats})
		}
	}
	for _, n := range growth {
		id, tok := growthStaff(n)
		if err := legacydb.GenerateStaffWithChats(ctx, db, id, tok, n, seed); err != nil {
			return nil, err
		}
		ds.Growth[n] = login{StaffID: id, Token: tok, Chats: n}
	}
	if len(ds.OPs) == 0 {
		return nil, errors.New("the sizes make no OP to sign in as")
	}
	return ds, nil
}
