-- Reverse of up.sql. Indexes and constraints go with their tables. The pg_trgm extension
-- stays: other objects may use it, and dropping it is not needed to undo the tables.
DROP TABLE room_members;
DROP TABLE rooms;
