package store

import (
	"context"
	"testing"

	"opfacade/domain"
	"opfacade/legacydb"
)

// TestFingerprints changes the database under a watch, one column at a
// time, and checks that the OP's fingerprint changes exactly when a
// watched row does; that OPs watched with the same statuses share one
// statement; and that an OP without a row has no fingerprint.
func TestFingerprints(t *testing.T) {
	eachStoreEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exec := func(q string) {
			t.Helper()
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := legacydb.Exec(ctx, s.DB(), legacydb.ExampleFixture); err != nil {
			t.Fatal(err)
		}
		const li = "u0001a5f0c3d2e1b04c7e9f8a6b5c4d3e2f10"
		const wang = "u0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50"
		service := domain.ChatFilter{Statuses: []string{domain.ChatService}}
		watches := []domain.Watch{{StaffID: li, Chats: service}, {StaffID: wang, Chats: service}, {StaffID: "nobody", Chats: service}}
		read := func() map[string]domain.Fingerprint {
			t.Helper()
			before := s.Statements()
			fps, err := s.Fingerprints(ctx, watches)
			if err != nil {
				t.Fatal(err)
			}
			if n := s.Statements() - before; n != 1 {
				t.Errorf("%d statements for one set of statuses, want 1", n)
			}
			if _, ok := fps["nobody"]; ok {
				t.Error("an OP without a row has a fingerprint")
			}
			return fps
		}
		last := read()
		if last[li].Staff.Name != "小李" || last[li].Staff.Role != domain.RoleOP {
			t.Errorf("the OP's row read with the fingerprint: %+v", last[li].Staff)
		}
		steps := []struct {
			what    string
			sql     string
			changes bool
		}{
			{"a chat retitled", `UPDATE op_chat SET title = 'retitled' WHERE chat_id = (SELECT MIN(chat_id) FROM op_chat WHERE staff_id = '` + li + `' AND status = 'Service')`, true},
			{"the same title again", `UPDATE op_chat SET title = 'retitled' WHERE title = 'retitled'`, false},
			{"a new message", `UPDATE op_chat SET last_message = 'hello' WHERE title = 'retitled'`, true},
			{"another user", `UPDATE op_chat SET user_id = 'someone-else' WHERE title = 'retitled'`, true},
			{"a chat added", `INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES ('new-chat', 'u1', '` + li + `', 'g', '', 'Service', '', '', '2016-01-09 00:00:00')`, true},
			{"a chat of another status added", `INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES ('closed-chat', 'u1', '` + li + `', 'g', '', 'Closed', '', '', '2016-01-09 00:00:00')`, false},
			{"a watched chat closed", `UPDATE op_chat SET status = 'Closed' WHERE chat_id = 'new-chat'`, true},
			{"the OP signs in or out", `UPDATE op_staff SET online = 1 - online WHERE staff_id = '` + li + `'`, true},
			{"the OP's update time alone", `UPDATE op_staff SET update_time = '2020-01-01 00:00:00' WHERE staff_id = '` + li + `'`, false},
		}
		for _, st := range steps {
			exec(st.sql)
			now := read()
			if changed := now[li].Sum != last[li].Sum; changed != st.changes {
				t.Errorf("%s: fingerprint changed %t, want %t", st.what, changed, st.changes)
			}
			if now[wang].Sum != last[wang].Sum {
				t.Errorf("%s: another OP's fingerprint changed", st.what)
			}
			last = now
		}
		// Watching more statuses is another fingerprint, and another
		// statement.
		before := s.Statements()
		fps, err := s.Fingerprints(ctx, []domain.Watch{{StaffID: li, Chats: service}, {StaffID: wang, Chats: domain.ChatFilter{Statuses: []string{domain.ChatClosed, domain.ChatService}, Unknown: true}}, {StaffID: li}})
		if err != nil {
			t.Fatal(err)
		}
		if n := s.Statements() - before; n != 2 {
			t.Errorf("%d statements for two sets of statuses, want 2", n)
		}
		if fps[wang].Sum == last[wang].Sum {
			t.Error("watching more statuses left the fingerprint as it was")
		}
	})
}
