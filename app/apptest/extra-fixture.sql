-- Rows beside example-fixture.sql for the edge cases the example does not
-- cover: a chat whose user has no app_user row (the legacy database has no
-- foreign keys), a chat in a status the API does not know, and an OP with
-- no chats at all.
INSERT INTO op_staff (staff_id, staff_name, online, role, update_time) VALUES
  ('u0001ffff0000000000000000000000000001', '小赵', 1, 'OP', '2016-01-08 09:10:00');

INSERT INTO op_chat (chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time) VALUES
  ('u0001eeee0000000000000000000000000001', 'u0001dddd00000000000000000000000orphan', 'u0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50', '135000000000000010', '', 'Service', '', '你好', '2016-01-08 08:00:00'),
  ('u0001eeee0000000000000000000000000002', 'u0001e5b1f07a9c2d4e6f8a0b1c2d3e4f5a61', 'u0001b7e2d4c6a8f04e1b9c3d5f7a9b1c3e50', '135000000000000011', '转接中', 'Transfer', '', '', '2016-01-08 07:00:00');

INSERT INTO op_token (token, staff_id, expire_time) VALUES
  ('o0001ffff000000000000000000000000001', 'u0001ffff0000000000000000000000000001', '2099-12-31 23:59:59'),
  ('o0001ffff0000000000000000000000ghost', 'u0001ffff00000000000000000000000ghost', '2099-12-31 23:59:59');
