-- Reverse of up.sql. Indexes and constraints go with their tables.
DROP TABLE credentials;
DROP TABLE users;
DROP TABLE accounts;
