package api

import "sync"

// Bounds of the decoded bodies kept (see bodies).
const (
	maxKeptBodies = 512
	maxKeptBody   = 4 << 10
)

// bodies keeps the decoded parameters of the POST bodies that carry only
// a query and an operation name: the consoles send the same few bodies
// every few seconds, and decoding one took about 3% of a request. Such
// parameters hold nothing a request may change (no variables, no
// extensions: postJSON copies the rest), so one decoded value serves
// every request with the same bytes. When full, it starts again empty:
// a client sending ever new bodies costs a decode each, as without it.
type bodies struct {
	mu   sync.RWMutex
	kept map[string]*bodyParams
}

func newBodies() *bodies { return &bodies{kept: make(map[string]*bodyParams)} }

// decode returns body's parameters as decodeParams does, from what is
// kept when it can.
func (b *bodies) decode(body []byte) (*bodyParams, bool) {
	b.mu.RLock()
	p, ok := b.kept[string(body)]
	b.mu.RUnlock()
	if ok {
		return p, true
	}
	p, ok = decodeParams(body)
	if !ok || len(body) > maxKeptBody || p.Variables != nil || p.Extensions != nil || p.DocumentID != nil {
		return p, ok
	}
	b.mu.Lock()
	if len(b.kept) >= maxKeptBodies {
		clear(b.kept)
	}
	b.kept[string(body)] = p
	b.mu.Unlock()
	return p, true
}
