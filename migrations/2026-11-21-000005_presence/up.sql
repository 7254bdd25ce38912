-- Presence: who has a live socket open, on which server node, across every node.
--
-- UNLOGGED: presence is ephemeral. Its rows change on every socket opened or closed and
-- on every node's heartbeat, so writing them to the WAL would cost much and keep nothing
-- worth keeping: after a crash PostgreSQL empties an unlogged table, which for presence
-- only means that everyone is offline until their sockets reconnect. (Nor is it copied
-- to replicas: presence is read on the primary.)
--
-- Foreign keys: PostgreSQL (15 included) lets an unlogged table reference a permanent
-- one; only the reverse (a permanent table referencing an unlogged one) is refused. So
-- this table keeps the composite tenant keys of every other table: a session can only
-- name a room and a user of its own account, and goes with its account, room or user.
CREATE UNLOGGED TABLE presence_sessions (
    -- The connection's own id.
    id         UUID PRIMARY KEY,
    -- The server node holding the socket; its heartbeat keeps the session alive.
    node_id    UUID NOT NULL,
    account_id BIGINT NOT NULL CONSTRAINT presence_sessions_account_id_fkey
                   REFERENCES accounts (id) ON DELETE CASCADE,
    -- The room of a room socket; NULL for a user's stream of all their rooms.
    room_id    BIGINT NULL,
    -- The ChatAPI user_id of who is connected.
    user_key   TEXT NOT NULL CONSTRAINT presence_sessions_user_key_length
                   CHECK (char_length(user_key) BETWEEN 1 AND 255),
    -- The user, when the connected person is one of the account's users.
    user_id    BIGINT NULL,
    -- Past this, the session is dead (its node stopped renewing it) and is ignored, and
    -- removed by the next heartbeat of any node.
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The room and the user in the same account (not checked when NULL). The constraint
    -- names are matched by the store: a missing room or user (or one of another account)
    -- is reported as not found.
    CONSTRAINT presence_sessions_account_id_room_id_fkey FOREIGN KEY (account_id, room_id)
        REFERENCES rooms (account_id, id) ON DELETE CASCADE,
    CONSTRAINT presence_sessions_account_id_user_id_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES users (account_id, id) ON DELETE CASCADE
);

-- The sessions of a room (who is online there; NULL: the account streams), and of one
-- person in it (how many sockets they still have), read from the index alone. Also the
-- look-up behind deleting a room or an account.
CREATE INDEX presence_sessions_room_idx
    ON presence_sessions (account_id, room_id, user_key);

-- The sessions of a node (its heartbeat).
CREATE INDEX presence_sessions_node_idx
    ON presence_sessions (node_id);

-- The sessions of a user (whether they are online, shown as their availability), and the
-- look-up behind deleting a user. Partial: anonymous sessions name no user.
CREATE INDEX presence_sessions_user_idx
    ON presence_sessions (account_id, user_id) WHERE user_id IS NOT NULL;

-- Expired sessions, removed by heartbeats.
CREATE INDEX presence_sessions_expires_idx
    ON presence_sessions (expires_at);
