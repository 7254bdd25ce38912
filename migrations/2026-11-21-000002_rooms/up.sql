-- Rooms of an account, and who belongs to them.

-- Trigram operator classes, for the GIN indexes that serve case-insensitive substring
-- search (ILIKE '%...%'). A trusted extension since PostgreSQL 13: the database owner may
-- create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE rooms (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The ChatAPI dialect's room id. UNIQUE also gives the index that finds a room by it.
    uuid            UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    -- The constraint name is matched by the store: a missing account is reported as not found.
    account_id      BIGINT NOT NULL CONSTRAINT rooms_account_id_fkey
                        REFERENCES accounts (id) ON DELETE CASCADE,
    -- Bounds repeat the domain's (RoomName, Description, RoomMeta), in characters, as a last
    -- line of defence.
    name            TEXT NOT NULL CONSTRAINT rooms_name_length
                        CHECK (char_length(name) BETWEEN 1 AND 255),
    description     TEXT NULL CONSTRAINT rooms_description_length
                        CHECK (char_length(description) <= 10000),
    meta            JSONB NOT NULL DEFAULT '{}' CONSTRAINT rooms_meta_object
                        CHECK (jsonb_typeof(meta) = 'object'),
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    -- The number of room_members rows of the room, kept exact by the transactions that add
    -- and remove members, so that lists show member counts without counting.
    member_count    INTEGER NOT NULL DEFAULT 0 CONSTRAINT rooms_member_count_check
                        CHECK (member_count >= 0),
    message_count   BIGINT NOT NULL DEFAULT 0 CONSTRAINT rooms_message_count_check
                        CHECK (message_count >= 0),
    -- The room's created_at until its first message. The three defaults read the same
    -- now() (the transaction's start), so they are equal on insert.
    last_message_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Redundant with the primary key, but lets tenant tables reference (account_id, room_id)
    -- so that a row can never point at a room of another account.
    CONSTRAINT rooms_account_id_id_key UNIQUE (account_id, id)
);

-- Listing an account's rooms newest first (ChatAPI default `-created_at`), or oldest first
-- by scanning it backwards: one index range per account, already in order, so a page of
-- 50 out of 100,000 rooms reads about 50 index entries.
CREATE INDEX rooms_account_created_idx
    ON rooms (account_id, created_at DESC, id DESC);

-- Listing an account's rooms by name (`name`, `-name`, the latter scanning backwards).
CREATE INDEX rooms_account_name_idx
    ON rooms (account_id, name, id);

-- Listing an account's rooms by most recent activity (the account dialect's order).
CREATE INDEX rooms_account_last_message_idx
    ON rooms (account_id, last_message_at DESC, id DESC);

-- Case-insensitive substring search (`name ILIKE '%term%' OR description ILIKE
-- '%term%'`): a B-tree cannot serve a leading wildcard, trigram GIN indexes can (a bitmap
-- OR of the two, then the account filter). Terms shorter than three characters give no
-- trigram and fall back to the account's other indexes.
CREATE INDEX rooms_name_trgm_idx
    ON rooms USING gin (name gin_trgm_ops);
CREATE INDEX rooms_description_trgm_idx
    ON rooms USING gin (description gin_trgm_ops);

CREATE TABLE room_members (
    account_id BIGINT NOT NULL,
    room_id    BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    -- clock_timestamp(), not now(): members added in one transaction still get distinct,
    -- increasing times, which is their join order.
    joined_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    meta       JSONB NOT NULL DEFAULT '{}' CONSTRAINT room_members_meta_object
                   CHECK (jsonb_typeof(meta) = 'object'),
    -- A user is a member of a room at most once; also the index for "is this user a member".
    PRIMARY KEY (room_id, user_id),
    -- Both parents in the same account. The constraint names are matched by the store: a
    -- missing room or user (or one of another account) is reported as not found.
    CONSTRAINT room_members_account_id_room_id_fkey FOREIGN KEY (account_id, room_id)
        REFERENCES rooms (account_id, id) ON DELETE CASCADE,
    CONSTRAINT room_members_account_id_user_id_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES users (account_id, id) ON DELETE CASCADE
);

-- An agent's rooms (the member filter of room lists), and the look-up that deleting a user
-- cascades through.
CREATE INDEX room_members_account_user_idx
    ON room_members (account_id, user_id, room_id);

-- A room's members in join order (room views, participant lists).
CREATE INDEX room_members_room_joined_idx
    ON room_members (room_id, joined_at, user_id);
