-- Reverse of up.sql. Indexes and constraints go with the table.
DROP TABLE presence_sessions;
