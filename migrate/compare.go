package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// A Difference is one place where two answers differ, as the contract
// sees them: Path is a JSON path such as data.chats[3].nickName ("$" for
// the whole document), What says how, without either value (answers
// name users and carry their messages, which the log does not keep).
type Difference struct {
	Path string
	What string
}

func (d Difference) String() string { return d.Path + " (" + d.What + ")" }

// ignored are the members of a legacy envelope that differ between any
// two answers and that the contract lets differ: the time of the answer
// and the machine that gave it.
var ignored = map[string]bool{
	"foot.operationTime": true,
	"foot.host":          true,
}

// CompareJSON compares two JSON documents token by token, as a legacy
// app reads them, and lists where they differ: members and their order,
// each number as written (1.0 is not 1), each string as written (\u0026
// is not &), null apart from "" and from a missing member, array lengths
// and elements in order. Whitespace between tokens is not compared, nor
// the members in ignored. a and b name the two sides in What ("facade",
// "upstream"). It fails when either document is not one JSON value.
func CompareJSON(x, y []byte, a, b string) ([]Difference, error) {
	nx, err := parseRaw(x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a, err)
	}
	ny, err := parseRaw(y)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b, err)
	}
	c := comparer{a: a, b: b}
	c.value("", nx, ny)
	return c.diffs, nil
}

// node is a JSON value as written: scalars keep their text, objects
// their members in order with each name as written.
type node struct {
	kind  kind
	raw   string   // a scalar's text, escapes and all
	names []string // an object's member names, decoded
	keys  []string // and as written
	kids  []*node  // an object's member values, an array's elements
}

type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindObject
	kindArray
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "object", "array"}[k]
}

// parseRaw reads one JSON value with json.Decoder's tokens, keeping each
// token's text from the input: Token decodes strings and, with UseNumber,
// keeps numbers as written, and InputOffset says where each token ends.
func parseRaw(doc []byte) (*node, error) {
	p := &rawParser{src: doc, dec: json.NewDecoder(bytes.NewReader(doc))}
	p.dec.UseNumber()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return n, nil
}

type rawParser struct {
	src []byte
	dec *json.Decoder
}

// token is the next token and its text as written. The text between two
// offsets may start with the whitespace and the , or : the decoder
// consumed before the token; no token starts with those.
func (p *rawParser) token() (json.Token, string, error) {
	start := p.dec.InputOffset()
	t, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, "", err
	}
	raw := bytes.TrimLeft(p.src[start:p.dec.InputOffset()], " \t\r\n,:")
	return t, string(raw), nil
}

func (p *rawParser) value() (*node, error) {
	t, raw, err := p.token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		if t == '{' {
			return p.object()
		}
		return p.array()
	case string:
		return &node{kind: kindString, raw: raw}, nil
	case json.Number:
		return &node{kind: kindNumber, raw: raw}, nil
	case bool:
		return &node{kind: kindBool, raw: raw}, nil
	case nil:
		return &node{kind: kindNull, raw: raw}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", t)
}

func (p *rawParser) object() (*node, error) {
	n := &node{kind: kindObject}
	for p.dec.More() {
		t, raw, err := p.token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.names, n.keys, n.kids = append(n.names, name), append(n.keys, raw), append(n.kids, v)
	}
	_, _, err := p.token() // }
	return n, err
}

func (p *rawParser) array() (*node, error) {
	n := &node{kind: kindArray}
	for p.dec.More() {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, v)
	}
	_, _, err := p.token() // ]
	return n, err
}

type comparer struct {
	a, b  string
	diffs []Difference
}

func (c *comparer) add(path, what string) {
	if path == "" {
		path = "$"
	}
	c.diffs = append(c.diffs, Difference{Path: path, What: what})
}

func (c *comparer) value(path string, x, y *node) {
	if ignored[path] {
		return
	}
	switch {
	case x.kind != y.kind:
		c.add(path, fmt.Sprintf("%s %s, %s %s", c.a, x.kind, c.b, y.kind))
	case x.kind == kindObject:
		c.object(path, x, y)
	case x.kind == kindArray:
		c.array(path, x, y)
	case x.raw != y.raw:
		c.add(path, x.kind.String()+"s differ")
	}
}

// object compares members by name, then their order and how their names
// are written. A name the object repeats is compared occurrence by
// occurrence.
func (c *comparer) object(path string, x, y *node) {
	if slices.Equal(x.keys, y.keys) {
		for i, name := range x.names {
			c.value(member(path, name), x.kids[i], y.kids[i])
		}
		return
	}
	ix, iy := identities(x.names), identities(y.names)
	inY := make(map[string]int, len(iy))
	for j, id := range iy {
		inY[id] = j
	}
	inX := make(map[string]bool, len(ix))
	var common []string // in x's order
	for i, id := range ix {
		inX[id] = true
		name := x.names[i]
		j, ok := inY[id]
		if !ok {
			c.add(member(path, name), "only in "+c.a)
			continue
		}
		common = append(common, id)
		if x.keys[i] != y.keys[j] {
			c.add(member(path, name), "the name is written differently")
		}
		c.value(member(path, name), x.kids[i], y.kids[j])
	}
	var inOrder []string // in y's order
	for j, id := range iy {
		if !inX[id] {
			c.add(member(path, y.names[j]), "only in "+c.b)
			continue
		}
		inOrder = append(inOrder, id)
	}
	if !slices.Equal(common, inOrder) {
		c.add(path, "the members are in another order")
	}
}

// identities tells apart the occurrences of a repeated name: the second
// "a" is "a\x001".
func identities(names []string) []string {
	seen := make(map[string]int, len(names))
	ids := make([]string, len(names))
	for i, name := range names {
		ids[i] = name
		if n := seen[name]; n > 0 {
			ids[i] = name + "\x00" + strconv.Itoa(n)
		}
		seen[name]++
	}
	return ids
}

// array compares elements in order.
func (c *comparer) array(path string, x, y *node) {
	if len(x.kids) != len(y.kids) {
		c.add(path, fmt.Sprintf("%s has %d elements, %s %d", c.a, len(x.kids), c.b, len(y.kids)))
	}
	for i := range min(len(x.kids), len(y.kids)) {
		c.value(path+"["+strconv.Itoa(i)+"]", x.kids[i], y.kids[i])
	}
}

// member is the path of an object's member: .name, or ["name"] for a
// name that is not a plain identifier.
func member(path, name string) string {
	plain := name != ""
	for _, r := range name {
		if !(r == '_' || r == '$' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return path + "[" + strconv.Quote(name) + "]"
	case path == "":
		return name
	}
	return path + "." + name
}
