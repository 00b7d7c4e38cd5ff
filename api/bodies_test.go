package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestBodiesKeepOnlyWhatNoRequestChanges checks which decoded bodies are
// kept, and that a kept one answers as decodeParams does.
func TestBodiesKeepOnlyWhatNoRequestChanges(t *testing.T) {
	long := `{"query":"{ me { id } }","operationName":"` + strings.Repeat("A", maxKeptBody) + `"}`
	tests := []struct {
		name string
		body string
		ok   bool
		kept bool
	}{
		{"query and name", `{"query":"query Mine { me { id } }","operationName":"Mine"}`, true, true},
		{"query alone", `{"query":"{ me { id } }"}`, true, true},
		{"null variables", `{"query":"{ me { id } }","variables":null}`, true, true},
		{"variables", `{"query":"query($s: [ChatStatus!]) { me { chats(statuses: $s) { id } } }","variables":{"s":["SERVICE"]}}`, true, false},
		{"empty variables", `{"query":"{ me { id } }","variables":{}}`, true, false},
		{"extensions", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`, true, false},
		{"documentId", `{"documentId":"sha256:00"}`, true, false},
		{"longer than kept", long, true, false},
		{"not an object", `["query"]`, false, false},
		{"trailing bytes", `{"query":"{ me { id } }"} {}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBodies()
			want, wantOK := decodeParams([]byte(tt.body))
			first, ok := b.decode([]byte(tt.body))
			if ok != tt.ok || wantOK != tt.ok {
				t.Fatalf("decode ok = %v, decodeParams ok = %v, want %v", ok, wantOK, tt.ok)
			}
			if !ok {
				if len(b.kept) != 0 {
					t.Errorf("a body that does not decode was kept")
				}
				return
			}
			again, _ := b.decode([]byte(tt.body))
			if (first == again) != tt.kept {
				t.Errorf("second decode returned the first's value: %v, want %v", first == again, tt.kept)
			}
			for _, got := range []*bodyParams{first, again} {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("decoded %+v, want %+v", got, want)
				}
			}
		})
	}
}

// TestBodiesStartAgainWhenFull checks the bound: past maxKeptBodies the
// kept bodies are dropped, and the new one kept.
func TestBodiesStartAgainWhenFull(t *testing.T) {
	b := newBodies()
	body := func(i int) []byte { return fmt.Appendf(nil, `{"query":"query Q%d { me { id } }"}`, i) }
	for i := range maxKeptBodies {
		b.decode(body(i))
	}
	if len(b.kept) != maxKeptBodies {
		t.Fatalf("%d bodies kept, want %d", len(b.kept), maxKeptBodies)
	}
	b.decode(body(maxKeptBodies))
	if len(b.kept) != 1 {
		t.Fatalf("%d bodies kept after the bound, want 1", len(b.kept))
	}
	if _, ok := b.kept[string(body(maxKeptBodies))]; !ok {
		t.Errorf("the body past the bound was not kept")
	}
}
