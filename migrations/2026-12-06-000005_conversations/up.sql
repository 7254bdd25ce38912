-- Conversations (CONTRACT §10): search, threads, reactions, mentions, pins, and who
-- deleted a message. Every new column has a default, so existing rows need no rewrite
-- except for the stored search vector (a generated column is computed for every row).

-- The text-search configuration of a language, by ISO 639-1 code ("en", "de", ...) or
-- by PostgreSQL's own name ("english"); NULL for anything else. IMMUTABLE: it is used by
-- a generated column and by queries, and maps only to configurations PostgreSQL ships.
CREATE FUNCTION chat_search_config(language TEXT) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(language)
        WHEN 'ar' THEN 'arabic' WHEN 'arabic' THEN 'arabic'
        WHEN 'ca' THEN 'catalan' WHEN 'catalan' THEN 'catalan'
        WHEN 'da' THEN 'danish' WHEN 'danish' THEN 'danish'
        WHEN 'nl' THEN 'dutch' WHEN 'dutch' THEN 'dutch'
        WHEN 'en' THEN 'english' WHEN 'english' THEN 'english'
        WHEN 'fi' THEN 'finnish' WHEN 'finnish' THEN 'finnish'
        WHEN 'fr' THEN 'french' WHEN 'french' THEN 'french'
        WHEN 'de' THEN 'german' WHEN 'german' THEN 'german'
        WHEN 'el' THEN 'greek' WHEN 'greek' THEN 'greek'
        WHEN 'hu' THEN 'hungarian' WHEN 'hungarian' THEN 'hungarian'
        WHEN 'id' THEN 'indonesian' WHEN 'indonesian' THEN 'indonesian'
        WHEN 'ga' THEN 'irish' WHEN 'irish' THEN 'irish'
        WHEN 'it' THEN 'italian' WHEN 'italian' THEN 'italian'
        WHEN 'lt' THEN 'lithuanian' WHEN 'lithuanian' THEN 'lithuanian'
        WHEN 'no' THEN 'norwegian' WHEN 'nb' THEN 'norwegian' WHEN 'norwegian' THEN 'norwegian'
        WHEN 'pt' THEN 'portuguese' WHEN 'portuguese' THEN 'portuguese'
        WHEN 'ro' THEN 'romanian' WHEN 'romanian' THEN 'romanian'
        WHEN 'ru' THEN 'russian' WHEN 'russian' THEN 'russian'
        WHEN 'es' THEN 'spanish' WHEN 'spanish' THEN 'spanish'
        WHEN 'sv' THEN 'swedish' WHEN 'swedish' THEN 'swedish'
        WHEN 'tr' THEN 'turkish' WHEN 'turkish' THEN 'turkish'
        WHEN 'simple' THEN 'simple'
        ELSE NULL
    END::regconfig
$$;

ALTER TABLE messages
    -- The language a message is indexed in: its meta.language, else its room's
    -- meta.language, else English (chosen by the send statement; see docs/decisions.md).
    ADD COLUMN search_config regconfig NOT NULL DEFAULT 'english',
    -- Threads: the replies to this message that are not deleted, and the newest reply's
    -- time; kept by the statements that send, delete and restore a reply.
    ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0 CONSTRAINT messages_reply_count_check
        CHECK (reply_count >= 0),
    ADD COLUMN last_reply_at TIMESTAMPTZ NULL,
    -- Mentions: the members of the room the message names (meta.mentions /
    -- content_attributes.mentions), sender excluded; message_mentions holds the same, by user.
    ADD COLUMN mentions BIGINT[] NOT NULL DEFAULT '{}',
    -- Their chat user_ids when the message was sent (as sender_label), one per mention.
    ADD COLUMN mention_labels TEXT[] NOT NULL DEFAULT '{}',
    -- Reactions, summarised for rendering without another query: a JSON array of
    -- {"emoji": e, "users": [[user_id, "chat user_id"], ...]} in the order each emoji was
    -- first used; rebuilt from message_reactions in every transaction that changes them.
    ADD COLUMN reactions JSONB NOT NULL DEFAULT '[]' CONSTRAINT messages_reactions_array
        CHECK (jsonb_typeof(reactions) = 'array'),
    -- Pins: when and by whom (NULL user and label 'system': the API key).
    ADD COLUMN pinned_at TIMESTAMPTZ NULL,
    ADD COLUMN pinned_by_user_id BIGINT NULL,
    ADD COLUMN pinned_by_label TEXT NULL,
    -- Who deleted it (NULL user and label 'system': the API key); cleared by a restore.
    ADD COLUMN deleted_by_user_id BIGINT NULL,
    ADD COLUMN deleted_by_label TEXT NULL,
    ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector(search_config, content)) STORED,
    ADD CONSTRAINT messages_mention_labels_check
        CHECK (cardinality(mention_labels) = cardinality(mentions)),
    ADD CONSTRAINT messages_pinned_by_check
        CHECK ((pinned_at IS NULL) = (pinned_by_label IS NULL)
               AND (pinned_by_user_id IS NULL OR pinned_by_label IS NOT NULL)),
    ADD CONSTRAINT messages_deleted_by_check
        CHECK (deleted_by_label IS NULL OR deleted_at IS NOT NULL);

-- Search: one GIN index over the words of the messages that are not deleted. The account is
-- a condition on the rows the index finds, not a column of the index: as a btree_gin column
-- it made every search read the account's whole posting tree (1,162 pages, 11 ms at 5 M
-- messages) to intersect it with the word's (5 pages). fastupdate (the default) batches
-- insertions in the pending list, which keeps a send's cost low.
CREATE INDEX messages_search_idx ON messages USING gin (search_vector)
    WHERE deleted_at IS NULL;

-- A room's pins, newest first.
CREATE INDEX messages_room_pinned_idx ON messages (room_id, pinned_at DESC)
    WHERE pinned_at IS NOT NULL;

-- Mentions by user: a member's unread mentions in a room are the rows after their read
-- position (an index range, only re-counted when the read position moves).
CREATE TABLE message_mentions (
    account_id BIGINT NOT NULL,
    room_id    BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id, seq),
    CONSTRAINT message_mentions_message_fkey FOREIGN KEY (room_id, message_id)
        REFERENCES messages (room_id, id) ON DELETE CASCADE
);
CREATE INDEX message_mentions_message_idx ON message_mentions (message_id);

-- The mentions after the member's read position: kept by the send statement (+1 for each
-- mentioned member) and re-counted from message_mentions when the read position moves.
ALTER TABLE room_members
    ADD COLUMN unread_mentions INTEGER NOT NULL DEFAULT 0
        CONSTRAINT room_members_unread_mentions_check CHECK (unread_mentions >= 0);

-- Reactions: one row per (message, emoji, user); a repeat is a no-op by the primary key.
CREATE TABLE message_reactions (
    account_id BIGINT NOT NULL,
    room_id    BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    emoji      TEXT NOT NULL CONSTRAINT message_reactions_emoji_length
                   CHECK (octet_length(emoji) BETWEEN 1 AND 64),
    user_id    BIGINT NOT NULL,
    -- The reacting user's chat user_id when they reacted (as messages.sender_label).
    user_label TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, emoji, user_id),
    CONSTRAINT message_reactions_message_fkey FOREIGN KEY (room_id, message_id)
        REFERENCES messages (room_id, id) ON DELETE CASCADE,
    CONSTRAINT message_reactions_user_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES users (account_id, id) ON DELETE CASCADE
);
CREATE INDEX message_reactions_user_idx ON message_reactions (account_id, user_id);
