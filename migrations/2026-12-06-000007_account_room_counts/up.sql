-- How many rooms each account holds, and how many of them are active, so that a room list's
-- `total` reads one row instead of counting the account's rooms (a count over 1,000,000
-- rooms read the whole table: 230 ms). Kept exact by triggers on rooms, which run inside
-- the statements that insert, delete and (de)activate rooms, so the counts commit or roll
-- back with the change, whoever makes it (the store, a bulk INSERT … SELECT, a cascade).
--
-- The row is apart from `accounts`, which every authenticated request reads: a room created
-- or deleted writes this row, not the account's. Rooms created at once in one account take
-- turns on it (the row lock is held until the creating transaction commits).
CREATE TABLE account_room_counts (
    account_id   BIGINT PRIMARY KEY
                     REFERENCES accounts (id) ON DELETE CASCADE,
    rooms        BIGINT NOT NULL DEFAULT 0 CONSTRAINT account_room_counts_rooms_check
                     CHECK (rooms >= 0),
    active_rooms BIGINT NOT NULL DEFAULT 0 CONSTRAINT account_room_counts_active_rooms_check
                     CHECK (active_rooms >= 0 AND active_rooms <= rooms)
);

-- Every account has its row from the start; the triggers below only ever update it (an
-- update of a row that a cascade has deleted already finds nothing, where an insert would
-- break the foreign key).
CREATE FUNCTION account_room_counts_open() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_room_counts (account_id) VALUES (NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER account_room_counts_open
    AFTER INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION account_room_counts_open();

-- Rooms inserted or deleted: once per statement, over its rows grouped by account, so that
-- a bulk insert of a million rooms updates each account's row once.
CREATE FUNCTION account_room_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_room_counts c
       SET rooms = c.rooms + n.rooms,
           active_rooms = c.active_rooms + n.active_rooms
      FROM (SELECT account_id, count(*) AS rooms, count(*) FILTER (WHERE is_active) AS active_rooms
              FROM inserted_rooms GROUP BY account_id) n
     WHERE c.account_id = n.account_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION account_room_counts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_room_counts c
       SET rooms = c.rooms - o.rooms,
           active_rooms = c.active_rooms - o.active_rooms
      FROM (SELECT account_id, count(*) AS rooms, count(*) FILTER (WHERE is_active) AS active_rooms
              FROM deleted_rooms GROUP BY account_id) o
     WHERE c.account_id = o.account_id;
    RETURN NULL;
END
$$;

-- A room activated or deactivated (or moved, which the store never does): once per row, and
-- only when the room's state changes, so the updates of the send path (last_seq, counters),
-- which do not name is_active, never call it.
CREATE FUNCTION account_room_counts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_room_counts
       SET rooms = rooms - 1, active_rooms = active_rooms - OLD.is_active::int
     WHERE account_id = OLD.account_id;
    UPDATE account_room_counts
       SET rooms = rooms + 1, active_rooms = active_rooms + NEW.is_active::int
     WHERE account_id = NEW.account_id;
    RETURN NULL;
END
$$;

-- A truncated table holds no rooms.
CREATE FUNCTION account_room_counts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_room_counts SET rooms = 0, active_rooms = 0;
    RETURN NULL;
END
$$;

-- Creating the triggers locks rooms against writes until this migration commits, so the
-- counts below cannot miss a room that a running server inserts meanwhile.
CREATE TRIGGER account_room_counts_insert
    AFTER INSERT ON rooms
    REFERENCING NEW TABLE AS inserted_rooms
    FOR EACH STATEMENT EXECUTE FUNCTION account_room_counts_insert();

CREATE TRIGGER account_room_counts_delete
    AFTER DELETE ON rooms
    REFERENCING OLD TABLE AS deleted_rooms
    FOR EACH STATEMENT EXECUTE FUNCTION account_room_counts_delete();

CREATE TRIGGER account_room_counts_update
    AFTER UPDATE OF is_active, account_id ON rooms
    FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.account_id IS DISTINCT FROM NEW.account_id)
    EXECUTE FUNCTION account_room_counts_update();

CREATE TRIGGER account_room_counts_truncate
    AFTER TRUNCATE ON rooms
    FOR EACH STATEMENT EXECUTE FUNCTION account_room_counts_truncate();

INSERT INTO account_room_counts (account_id, rooms, active_rooms)
SELECT a.id, count(r.id), count(r.id) FILTER (WHERE r.is_active)
  FROM accounts a LEFT JOIN rooms r ON r.account_id = a.id
 GROUP BY a.id;
