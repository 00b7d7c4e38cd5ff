package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"opfacade/domain"
	"opfacade/legacydb"
)

// TestMySQLPlansUseTheIndexes asks MariaDB/MySQL how it runs each of the
// store's statements, as the store builds them, over a few thousand
// generated rows: every table is read through the index of schema.sql that
// the statement was written for, never scanned.
func TestMySQLPlansUseTheIndexes(t *testing.T) {
	base := os.Getenv("MYSQL_TEST_DSN")
	if base == "" {
		t.Skip("MYSQL_TEST_DSN is not set: skipping the MariaDB/MySQL query plans (set it to e.g. root@tcp(127.0.0.1:3306)/test)")
	}
	ctx := context.Background()
	s := openMySQLTestDB(t, base)
	gen, err := legacydb.Generate(ctx, s.DB().DB, legacydb.Sizes{Staff: 40, Admins: 1, Users: 4000, ServiceChatsPerStaff: 20,
		ClosedChatsPerStaff: 60, WaitChats: 100, Orders: 20000, ServiceOrders: 6000}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"op_staff", "app_user", "op_chat", "user_order", "service_order", "api_client", "op_token"} {
		if _, err := s.DB().ExecContext(ctx, "ANALYZE TABLE "+table); err != nil {
			t.Fatal(err)
		}
	}
	op := gen.Staff[len(gen.Staff)-1]
	var users []string
	if err := s.DB().SelectContext(ctx, &users, `SELECT user_id FROM op_chat WHERE staff_id = ? LIMIT 13`, op.StaffID); err != nil || len(users) == 0 {
		t.Fatalf("users of %s: %v", op.StaffID, err)
	}
	marks, ids := inList(users)
	service, serviceArgs, _ := s.chatsQuery(op.StaffID, domain.ChatFilter{Statuses: []string{domain.ChatService}})
	every, everyArgs, _ := s.chatsQuery(op.StaffID, domain.ChatFilter{Statuses: domain.KnownChatStatuses, Unknown: true})
	// A page of chatsConnection: the first, and one after a chat's place.
	chats, _, err := s.ChatsByStaff(ctx, op.StaffID, domain.ChatFilter{Statuses: []string{domain.ChatClosed}, Limit: 10})
	if err != nil || len(chats) < 2 {
		t.Fatalf("closed chats of %s: %d, %v", op.StaffID, len(chats), err)
	}
	key := chats[len(chats)/2].Key()
	firstPage, firstPageArgs, _ := s.chatsQuery(op.StaffID, domain.ChatFilter{Statuses: []string{domain.ChatClosed}, Limit: 21})
	nextPage, nextPageArgs, _ := s.chatsQuery(op.StaffID, domain.ChatFilter{Statuses: []string{domain.ChatClosed}, After: &key, Limit: 21})
	everyPage, everyPageArgs, _ := s.chatsQuery(op.StaffID, domain.ChatFilter{Statuses: domain.KnownChatStatuses, Unknown: true, After: &key, Limit: 101})
	countCond, countArgs, _ := statusCondition(domain.ChatFilter{Statuses: []string{domain.ChatService}})
	fingerprints, fingerprintsArgs, _ := s.fingerprintsQuery(domain.ChatFilter{Statuses: []string{domain.ChatService}}, []string{op.StaffID, gen.Staff[0].StaffID})
	tests := []struct {
		name  string
		query string
		args  []any
		want  map[string]string // table: the index it must be read through
	}{
		{"token", staffByToken, []any{op.Token}, map[string]string{"t": "PRIMARY", "s": "PRIMARY"}},
		{"client", clientByID, []any{gen.ClientID}, map[string]string{"api_client": "PRIMARY"}},
		{"an OP's chats in service", service, serviceArgs, map[string]string{"c": "idx_op_chat_staff", "u": "PRIMARY"}},
		{"an OP's chats of every status", every, everyArgs, map[string]string{"c": "idx_op_chat_staff", "u": "PRIMARY"}},
		{"a first page of an OP's chats", firstPage, firstPageArgs, map[string]string{"c": "idx_op_chat_staff", "u": "PRIMARY"}},
		{"a page after a chat", nextPage, nextPageArgs, map[string]string{"c": "idx_op_chat_staff", "u": "PRIMARY"}},
		{"a page of every status after a chat", everyPage, everyPageArgs, map[string]string{"c": "idx_op_chat_staff", "u": "PRIMARY"}},
		{"an OP's chats counted", fmt.Sprintf(countChatsByStaff, countCond), append([]any{op.StaffID}, countArgs...), map[string]string{"c": "idx_op_chat_staff"}},
		{"grades", fmt.Sprintf(gradesByUserIDs, marks), append(append(append([]any{}, ids...), ids...), ids...),
			map[string]string{"op_chat": "idx_op_chat_user", "user_order": "idx_user_order_user", "service_order": "idx_service_order_user"}},
		{"users", fmt.Sprintf(usersByIDs, marks), ids, map[string]string{"app_user": "PRIMARY"}},
		{"staff", fmt.Sprintf(staffByIDs, "?,?"), []any{op.StaffID, gen.Staff[0].StaffID}, map[string]string{"op_staff": "PRIMARY"}},
		{"fingerprints", fingerprints, fingerprintsArgs, map[string]string{"s": "PRIMARY", "c": "idx_op_chat_staff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.DB().QueryxContext(ctx, "EXPLAIN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			keys := map[string]string{}
			for rows.Next() {
				row := map[string]any{}
				if err := rows.MapScan(row); err != nil {
					t.Fatal(err)
				}
				table, key := text(row["table"]), text(row["key"])
				keys[table] = key
				plan = append(plan, fmt.Sprintf("%s: %s via %s (%s)", table, text(row["type"]), key, text(row["Extra"])))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			t.Logf("plan:\n  %s", strings.Join(plan, "\n  "))
			for table, index := range tt.want {
				// The optimizer may drop a LEFT JOIN it needs no column of.
				if got, ok := keys[table]; (ok || table != "u") && got != index {
					t.Errorf("%s is read via %q, want %s", table, got, index)
				}
			}
		})
	}
}

func text(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}
