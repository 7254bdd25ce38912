-- Reverse of up.sql. Indexes and constraints go with their table and columns.
DROP TABLE attachments;
ALTER TABLE messages DROP COLUMN attachment_count;
ALTER TABLE rooms DROP COLUMN avatar_key;
