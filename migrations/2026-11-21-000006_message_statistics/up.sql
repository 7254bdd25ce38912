-- A room belongs to one account, so a message's room_id determines its account_id.
-- Without saying so, the planner multiplies the selectivities of `account_id = $1` and
-- `room_id = $2` (every tenant query has both), estimates a room's page at about one
-- row, and for "the newest 50 of a room" prefers reading the room's whole history and
-- sorting it (49 ms for a room of 12,890 messages) over reading messages_room_seq_key
-- backwards and stopping after 50 rows (0.3 ms). Functional-dependency statistics tell
-- it; they are gathered by ANALYZE (autovacuum does it as the table grows).
CREATE STATISTICS messages_account_room_dependencies (dependencies)
    ON account_id, room_id FROM messages;
ANALYZE messages;
