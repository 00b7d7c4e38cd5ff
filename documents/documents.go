// Package documents holds the GraphQL operations the OP consoles send,
// one .graphql file each, and their trusted-documents manifest,
// manifest.json, in Apollo's persisted query manifest format:
//
//	{"format": "apollo-persisted-query-manifest", "version": 1,
//	 "operations": [{"id": "<sha256 hex of body>", "name": "MyChats", "type": "query", "body": "query MyChats { … }"}]}
//
// the format @apollo/generate-persisted-query-manifest writes and
// @apollo/persisted-query-lists reads. The server loads such a file with
// -trusted-documents and serves its operations by id; with -trusted-only
// it runs nothing else.
//
// manifest.json is made from the .graphql files: TestManifestUpToDate
// fails when it is stale, and `go test ./documents -update` rewrites it.
// The files are written as graphql-js prints documents (two-space
// indents, a field a line), so that a client hashing print(document) of
// the same document, with no field added, sends the manifest's ids.
package documents

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// files are the consoles' operations, one .graphql file each, named as
// the operation it holds.
//
//go:embed *.graphql
var files embed.FS

//go:embed manifest.json
var manifestJSON []byte

// MyChats is the consoles' main query: the calling OP, their chats in
// service, each chat's user with the user's grade and the chat's OP. The
// playground can open on it.
var MyChats = mustBody("MyChats.graphql")

// Receives is the operation the legacy path POST /op/v2/receives answers
// (an OP's chats in service), for consoles that move to GraphQL; it takes
// the OP's id as $staffId.
var Receives = mustBody("Receives.graphql")

// Format is the manifest's format member, Apollo's.
const Format = "apollo-persisted-query-manifest"

// Manifest is a persisted query manifest: the operations a server trusts,
// by id.
type Manifest struct {
	Format     string      `json:"format"`
	Version    int         `json:"version"`
	Operations []Operation `json:"operations"`
}

// Operation is one trusted operation: its body, and its id, the SHA-256
// of the body in lower-case hex.
type Operation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"` // query, mutation or subscription
	Body string `json:"body"`
}

// ID is the id of an operation with this body: the lower-case hex SHA-256
// of its bytes, as Apollo's APQ sha256Hash and manifest ids are.
func ID(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// Consoles is the manifest of the consoles' operations, manifest.json.
func Consoles() *Manifest {
	m, err := Parse(manifestJSON)
	if err != nil {
		panic("documents: manifest.json: " + err.Error())
	}
	return m
}

// Load reads the manifest at path.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse reads a manifest and checks it: Apollo's format, version 1, and
// each operation with a body whose SHA-256 is its id, which is the
// sha256Hash clients send. Members it does not know are ignored.
func Parse(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not a persisted query manifest: %w", err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("format is %q, want %q", m.Format, Format)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("version is %d, want 1", m.Version)
	}
	seen := map[string]bool{}
	for i, op := range m.Operations {
		what := fmt.Sprintf("operation %d (%s)", i+1, op.Name)
		switch {
		case strings.TrimSpace(op.Body) == "":
			return nil, fmt.Errorf("%s has no body", what)
		case op.ID != ID(op.Body):
			return nil, fmt.Errorf("%s: id %q is not the sha256 of its body (%s)", what, op.ID, ID(op.Body))
		case seen[op.ID]:
			return nil, fmt.Errorf("%s: id %s appears twice", what, op.ID)
		}
		switch op.Type {
		case "query", "mutation", "subscription":
		default:
			return nil, fmt.Errorf("%s: type %q, want query, mutation or subscription", what, op.Type)
		}
		seen[op.ID] = true
	}
	return &m, nil
}

// FromFiles makes the manifest of the .graphql files in fsys: each holds
// one named operation (and the fragments it spreads), and is named as the
// operation. The body is the file's text without surrounding space; the
// operations are in name order.
func FromFiles(fsys fs.FS) (*Manifest, error) {
	names, err := fs.Glob(fsys, "*.graphql")
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, Version: 1, Operations: []Operation{}}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		body := strings.TrimSpace(string(data))
		doc, err := parser.ParseQuery(&ast.Source{Name: name, Input: body})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(doc.Operations) != 1 {
			return nil, fmt.Errorf("%s holds %d operations, want one", name, len(doc.Operations))
		}
		op := doc.Operations[0]
		if want := strings.TrimSuffix(path.Base(name), ".graphql"); op.Name != want {
			return nil, fmt.Errorf("%s holds the operation %q: name the file as its operation, or the operation as its file", name, op.Name)
		}
		m.Operations = append(m.Operations, Operation{ID: ID(body), Name: op.Name, Type: string(op.Operation), Body: body})
	}
	if len(m.Operations) == 0 {
		return nil, errors.New("no .graphql files")
	}
	sort.Slice(m.Operations, func(i, j int) bool { return m.Operations[i].Name < m.Operations[j].Name })
	return m, nil
}

// JSON is m as manifest.json holds it: indented by two spaces, with a
// final newline.
func (m *Manifest) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		panic(err) // strings and ints only
	}
	return b.Bytes()
}

// mustBody is the body of the operation in the embedded file name.
func mustBody(name string) string {
	data, err := files.ReadFile(name)
	if err != nil {
		panic("documents: " + err.Error())
	}
	return strings.TrimSpace(string(data))
}
