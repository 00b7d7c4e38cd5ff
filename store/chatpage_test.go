package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"opfacade/domain"
)

// TestChatPageTextsBounded builds the statements of every page shape a
// client can ask for: however many statuses, and wherever a page starts,
// a page and a count are each one of a handful of texts.
func TestChatPageTextsBounded(t *testing.T) {
	for _, engine := range []string{"sqlite", "mysql"} {
		s := &Store{engine: engine, zone: time.UTC}
		key := &domain.ChatKey{CreateTime: "2016-03-01 12:00:00", ID: "c-1"}
		pages, counts := map[string]bool{}, map[string]bool{}
		for mask := range 1 << 4 {
			var f domain.ChatFilter
			for i, st := range domain.KnownChatStatuses {
				if mask&(1<<i) != 0 {
					f.Statuses = append(f.Statuses, st, st)
				}
			}
			f.Unknown = mask&8 != 0
			for limit := range 102 {
				for _, after := range []*domain.ChatKey{nil, key} {
					f.Limit, f.After = limit, after
					q, args, err := s.chatsQuery("op", f)
					if err != nil {
						t.Fatal(err)
					}
					if q == "" {
						continue
					}
					if len(args) > 1+4+4+3+1 {
						t.Fatalf("%+v bound %d arguments", f, len(args))
					}
					pages[q] = true
				}
			}
			if cond, _, _ := statusCondition(f); cond != "" {
				counts[fmt.Sprintf(countChatsByStaff, cond)] = true
			}
		}
		// The 7 status conditions, each whole, limited, and limited after
		// a key (the legacy path's lists have no limit, only it).
		if len(pages) > 7*3+7 || len(counts) > 7 {
			t.Errorf("%s: %d page statements and %d counts; want at most 28 and 7", engine, len(pages), len(counts))
		}
	}
}

// TestChatPages pages through an OP's chats with ChatsByStaff, by every
// page size, from each chat's key: the pages make the whole list, in its
// order, ties on create_time and ids that MySQL's collation folds
// included; and CountChatsByStaff counts it, whatever the page.
func TestChatPages(t *testing.T) {
	eachStoreEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var rows [][]any
		for i := range 30 {
			created := []string{"2016-03-01 12:00:00", "2016-03-01 11:00:00", "2016-02-29 23:59:59"}[i%3]
			rows = append(rows, []any{fmt.Sprintf("%c-%02d", "aBcDzY"[i%6], i), "u", "op", "g", "Service", created})
		}
		rows = append(rows, []any{"closed", "u", "op", "g", "Closed", "2016-03-01 12:00:00"}, []any{"other", "u", "op2", "g", "Service", "2016-03-01 12:00:00"})
		insertRows(t, s, "op_chat", "chat_id, user_id, staff_id, group_id, status, create_time", rows)
		inService := domain.ChatFilter{Statuses: []string{domain.ChatService}}
		all, _, err := s.ChatsByStaff(ctx, "op", inService)
		if err != nil || len(all) != 30 {
			t.Fatalf("%d chats, %v", len(all), err)
		}
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if a.StoredCreateTime < b.StoredCreateTime || a.StoredCreateTime == b.StoredCreateTime && a.ID >= b.ID {
				t.Fatalf("%s (%s) listed before %s (%s)", a.ID, a.StoredCreateTime, b.ID, b.StoredCreateTime)
			}
		}
		ids := func(chats []domain.Chat) []string {
			var out []string
			for _, c := range chats {
				out = append(out, c.ID)
			}
			return out
		}
		for size := 1; size <= 31; size += 3 {
			var paged []domain.Chat
			f := inService
			f.Limit = size
			for {
				page, users, err := s.ChatsByStaff(ctx, "op", f)
				if err != nil {
					t.Fatal(err)
				}
				if len(users) != len(page) || len(page) > size {
					t.Fatalf("size %d: %d chats, %d users", size, len(page), len(users))
				}
				paged = append(paged, page...)
				if len(page) < size {
					break
				}
				k := page[len(page)-1].Key()
				f.After = &k
			}
			if !slices.Equal(ids(paged), ids(all)) {
				t.Errorf("size %d: pages\n %v, want\n %v", size, ids(paged), ids(all))
			}
		}
		for i, c := range all {
			k := c.Key()
			f := inService
			f.After = &k
			rest, _, err := s.ChatsByStaff(ctx, "op", f)
			if err != nil || !slices.Equal(ids(rest), ids(all[i+1:])) {
				t.Errorf("after %s: %v, %v", c.ID, ids(rest), err)
			}
			if n, err := s.CountChatsByStaff(ctx, "op", f); err != nil || n != 30 {
				t.Errorf("count after %s: %d, %v", c.ID, n, err)
			}
		}
		if n, err := s.CountChatsByStaff(ctx, "op", domain.ChatFilter{Statuses: domain.KnownChatStatuses}); err != nil || n != 31 {
			t.Errorf("every status: %d, %v", n, err)
		}
		if n, err := s.CountChatsByStaff(ctx, "op", domain.ChatFilter{}); err != nil || n != 0 {
			t.Errorf("no status: %d, %v", n, err)
		}
	})
}

// TestChatKeyRefused hands ChatsByStaff keys the store cannot have read:
// each is EINVALID, and no statement runs.
func TestChatKeyRefused(t *testing.T) {
	eachStoreEngine(t, func(t *testing.T, s *Store) {
		keys := []domain.ChatKey{
			{CreateTime: "2016-03-01 12:00:00", ID: ""},
			{CreateTime: "yesterday", ID: "c"},
			{CreateTime: "", ID: "c"},
			{CreateTime: "2016-03-01 12:00:00", ID: "c\x00"},
			{CreateTime: "2016-03-01 12:00:00", ID: "\xff"},
			{CreateTime: "2016-03-01 12:00:00", ID: strings.Repeat("x", MaxKeyID+1)},
			{CreateTime: "2016-03-01 12:00:00" + strings.Repeat("0", MaxKeyTime), ID: "c"},
			{CreateTime: "2016-13-01 12:00:00", ID: "c"},
		}
		if s.Engine() == "mysql" {
			// A layout SQLite reads, but MySQL never answers.
			keys = append(keys, domain.ChatKey{CreateTime: "2016-03-01T12:00:00Z", ID: "c"})
		}
		for _, k := range keys {
			before := s.Statements()
			_, _, err := s.ChatsByStaff(context.Background(), "op", domain.ChatFilter{Statuses: []string{domain.ChatService}, After: &k, Limit: 3})
			if domain.Code(err) != domain.EINVALID || s.Statements() != before {
				t.Errorf("key %q: %v, %d statements", k, err, s.Statements()-before)
			}
		}
	})
}
