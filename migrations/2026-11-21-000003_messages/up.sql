-- Messages, each room's sequence of them, and how far each member has got.

-- The seq of the room's newest message (0 before the first), and the room's sequence
-- counter: a send takes the next number with `UPDATE rooms SET last_seq = last_seq + 1
-- ... RETURNING last_seq`. The row lock that update takes makes the senders of one room
-- take turns, and a rolled-back send rolls its number back too, so a room's seqs are
-- 1, 2, 3, ... without gaps. Kept with the room, it also answers "how many unread" as
-- last_seq - last_read_seq, without counting messages.
ALTER TABLE rooms
    ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0 CONSTRAINT rooms_last_seq_check
        CHECK (last_seq >= 0);

-- How many of the room's messages are soft-deleted, kept in the transactions that delete
-- and restore them: an unfiltered list's total is last_seq - deleted_message_count, read
-- in O(1) however long the history.
ALTER TABLE rooms
    ADD COLUMN deleted_message_count BIGINT NOT NULL DEFAULT 0
        CONSTRAINT rooms_deleted_message_count_check
        CHECK (deleted_message_count >= 0 AND deleted_message_count <= last_seq);

-- How far each member has got, as seqs of the room: messages up to delivered_seq have
-- reached one of their devices, messages up to last_read_seq they have read. Both only
-- move forward, and reading implies receiving.
ALTER TABLE room_members
    ADD COLUMN last_read_seq BIGINT NOT NULL DEFAULT 0 CONSTRAINT room_members_last_read_seq_check
        CHECK (last_read_seq >= 0),
    ADD COLUMN delivered_seq BIGINT NOT NULL DEFAULT 0,
    ADD CONSTRAINT room_members_read_not_past_delivered
        CHECK (delivered_seq >= last_read_seq);

-- A member joins with both positions at the room's newest message: a newcomer has nothing
-- unread, and a message's delivery status (measured over the current members) never goes
-- backwards because someone joined. Done here rather than in the store so that every way
-- of inserting a member (a room's creator, added members, joins) gets it, and a value
-- given in the INSERT is overridden.
--
-- The room row is locked as appending a message locks it (every membership change of the
-- store holds that lock already; then this costs nothing more), so no message can be
-- appended between reading last_seq here and the membership committing. A missing room
-- reads as 0 and the insert then fails room_members_account_id_room_id_fkey, as before.
CREATE FUNCTION room_members_start_at_last_seq() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_read_seq := COALESCE(
        (SELECT r.last_seq FROM rooms r
          WHERE r.id = NEW.room_id AND r.account_id = NEW.account_id
          FOR NO KEY UPDATE),
        0);
    NEW.delivered_seq := NEW.last_read_seq;
    RETURN NEW;
END
$$;

CREATE TRIGGER room_members_start_at_last_seq
    BEFORE INSERT ON room_members
    FOR EACH ROW EXECUTE FUNCTION room_members_start_at_last_seq();

CREATE TABLE messages (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The ChatAPI dialect's message id. UNIQUE also gives the index that finds a message by it.
    uuid           UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    account_id     BIGINT NOT NULL,
    room_id        BIGINT NOT NULL,
    -- The message's place in its room: 1, 2, 3, ... (see rooms.last_seq).
    seq            BIGINT NOT NULL CONSTRAINT messages_seq_check CHECK (seq >= 1),
    -- The sending user; NULL for the system.
    sender_user_id BIGINT NULL,
    -- The ChatAPI sender_id: the user's chat id when it sent the message, or 'system'. What
    -- sender filters and echo ids are matched on.
    sender_label   TEXT NOT NULL CONSTRAINT messages_sender_label_length
                       CHECK (char_length(sender_label) BETWEEN 1 AND 255),
    sender_name    TEXT NULL CONSTRAINT messages_sender_name_length
                       CHECK (char_length(sender_name) <= 255),
    -- Bounds repeat the domain's (Content, MessageKind, MessageMeta, EchoId) as a last line
    -- of defence. Content may be empty when files come with the message.
    content        TEXT NOT NULL CONSTRAINT messages_content_length
                       CHECK (char_length(content) <= 10000),
    message_type   TEXT NOT NULL CONSTRAINT messages_message_type_check
                       CHECK (message_type IN ('text', 'system', 'image', 'file', 'audio', 'video')),
    meta           JSONB NOT NULL DEFAULT '{}' CONSTRAINT messages_meta_object
                       CHECK (jsonb_typeof(meta) = 'object'),
    reply_to_id    BIGINT NULL,
    echo_id        TEXT NULL CONSTRAINT messages_echo_id_length
                       CHECK (char_length(echo_id) BETWEEN 1 AND 255),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at      TIMESTAMPTZ NULL,
    -- Soft delete: a deleted message keeps its row (and its seq) and can be restored.
    deleted_at     TIMESTAMPTZ NULL,
    -- One message per place: the gapless per-room order. Also THE index of a room's
    -- history: newest N (scanned backwards), oldest N, and the keyset cursors
    -- (seq > after_seq, seq < before_seq) each read one index range, already in order.
    CONSTRAINT messages_room_seq_key UNIQUE (room_id, seq),
    -- Redundant with the primary key, but lets a reply reference (room_id, id), so that it
    -- can only name a message of its own room.
    CONSTRAINT messages_room_id_id_key UNIQUE (room_id, id),
    -- The room in the same account; its messages go with it.
    CONSTRAINT messages_account_id_room_id_fkey FOREIGN KEY (account_id, room_id)
        REFERENCES rooms (account_id, id) ON DELETE CASCADE,
    -- The sender is a user of the same account (not checked when NULL: the system). A user
    -- who has sent messages cannot be deleted. Checked at commit (DEFERRED) so that deleting
    -- an account still works: its users and its rooms go by separate cascades, and a check
    -- at the end of the users' cascade would still see the messages that the rooms' cascade
    -- deletes next.
    CONSTRAINT messages_account_id_sender_user_id_fkey FOREIGN KEY (account_id, sender_user_id)
        REFERENCES users (account_id, id) DEFERRABLE INITIALLY DEFERRED,
    -- A reply names a message of the same room (not checked when reply_to_id is NULL).
    CONSTRAINT messages_room_id_reply_to_id_fkey FOREIGN KEY (room_id, reply_to_id)
        REFERENCES messages (room_id, id),
    -- The system, and only the system, is labelled 'system'.
    CONSTRAINT messages_sender_check CHECK ((sender_user_id IS NULL) = (sender_label = 'system'))
);

-- An echo id names one message per sender and room: a retried send finds the first one
-- (and the lookup uses this index), and two concurrent retries, in this process or
-- another, cannot both store one. The name is matched by the store. Partial: most
-- messages have no echo id.
CREATE UNIQUE INDEX messages_echo_key
    ON messages (room_id, sender_label, echo_id) WHERE echo_id IS NOT NULL;

-- The created_after / created_before filters of a room's list.
CREATE INDEX messages_room_created_idx
    ON messages (room_id, created_at);

-- The sender_id filter of a room's list, in seq order (either direction).
CREATE INDEX messages_room_sender_seq_idx
    ON messages (room_id, sender_label, seq);

-- The message_type filter of a room's list, in seq order (either direction).
CREATE INDEX messages_room_type_seq_idx
    ON messages (room_id, message_type, seq);

-- Case-insensitive substring search in content (ILIKE '%term%'), as for rooms: a B-tree
-- cannot serve a leading wildcard, a trigram GIN index can (then the room filter).
CREATE INDEX messages_content_trgm_idx
    ON messages USING gin (content gin_trgm_ops);

-- The look-up behind messages_account_id_sender_user_id_fkey when a user (or an account,
-- cascading to its users) is deleted. Partial: system messages reference nobody.
CREATE INDEX messages_account_sender_idx
    ON messages (account_id, sender_user_id) WHERE sender_user_id IS NOT NULL;

-- The look-up behind messages_room_id_reply_to_id_fkey when messages are deleted (a room's
-- messages, cascading from the room, are each checked for replies): without it, deleting
-- a room of n messages reads the room's history n times. Also "the replies to a message".
CREATE INDEX messages_room_reply_idx
    ON messages (room_id, reply_to_id) WHERE reply_to_id IS NOT NULL;
