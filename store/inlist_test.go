package store

import (
	"fmt"
	"strings"
	"testing"
)

func TestInList(t *testing.T) {
	tests := []struct {
		keys      []string
		wantMarks int
	}{
		{[]string{"a"}, 1},
		{[]string{"a", "b"}, 2},
		{[]string{"a", "b", "c"}, 4},
		{make([]string, 5), 8},
		{make([]string, 1000), 1024},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(len(tt.keys)), func(t *testing.T) {
			for i := range tt.keys {
				if tt.keys[i] == "" {
					tt.keys[i] = fmt.Sprint("k", i)
				}
			}
			marks, args := inList(tt.keys)
			if n := strings.Count(marks, "?"); n != tt.wantMarks || len(args) != tt.wantMarks {
				t.Fatalf("%d marks, %d args; want %d", n, len(args), tt.wantMarks)
			}
			seen := map[any]bool{}
			for _, a := range args {
				seen[a] = true
			}
			for _, k := range tt.keys {
				if !seen[k] {
					t.Fatalf("key %s missing from the arguments", k)
				}
			}
			if len(seen) != len(tt.keys) {
				t.Fatalf("padding added a key that was not asked for")
			}
		})
	}
}

func TestChunks(t *testing.T) {
	for _, n := range []int{0, 1, maxInList, maxInList + 1, 3*maxInList + 7} {
		keys := make([]string, n)
		var total int
		for _, c := range chunks(keys) {
			if len(c) == 0 || len(c) > maxInList {
				t.Fatalf("%d keys: a chunk of %d", n, len(c))
			}
			total += len(c)
		}
		if total != n {
			t.Fatalf("%d keys: chunks hold %d", n, total)
		}
	}
}
