-- Reverse of up.sql. Indexes and constraints go with their table and columns.
DROP TABLE messages;
DROP TRIGGER room_members_start_at_last_seq ON room_members;
DROP FUNCTION room_members_start_at_last_seq();
ALTER TABLE room_members
    DROP CONSTRAINT room_members_read_not_past_delivered,
    DROP COLUMN delivered_seq,
    DROP COLUMN last_read_seq;
ALTER TABLE rooms DROP COLUMN deleted_message_count;
ALTER TABLE rooms DROP COLUMN last_seq;
