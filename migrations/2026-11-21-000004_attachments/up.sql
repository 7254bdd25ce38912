-- Files: attachments of messages, and room avatars.
--
-- A file is stored before the row that refers to it commits, and removed after the row
-- that referred to it is gone, so a row never points at a missing file; files no row
-- refers to (a crash between the two steps) are removed by `chatd files sweep`.

-- Where a room's avatar is stored (a storage key), when it has one. UNIQUE gives the
-- sweep its index; no two rooms share an avatar file.
ALTER TABLE rooms
    ADD COLUMN avatar_key TEXT NULL CONSTRAINT rooms_avatar_key_key UNIQUE
        CONSTRAINT rooms_avatar_key_length CHECK (char_length(avatar_key) BETWEEN 1 AND 255);

-- How many attachments a message has, so that reading a page of messages only looks
-- for attachments when one of them has some.
ALTER TABLE messages
    ADD COLUMN attachment_count INTEGER NOT NULL DEFAULT 0
        CONSTRAINT messages_attachment_count_check CHECK (attachment_count >= 0);

CREATE TABLE attachments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The ChatAPI dialect's attachment id; also the file name in the storage key.
    uuid        UUID NOT NULL UNIQUE,
    account_id  BIGINT NOT NULL,
    room_id     BIGINT NOT NULL,
    message_id  BIGINT NOT NULL,
    -- The order the files came in, within the message.
    position    INTEGER NOT NULL CONSTRAINT attachments_position_check CHECK (position >= 0),
    -- UNIQUE gives the sweep its index.
    storage_key TEXT NOT NULL CONSTRAINT attachments_storage_key_key UNIQUE
                    CONSTRAINT attachments_storage_key_length
                    CHECK (char_length(storage_key) BETWEEN 1 AND 255),
    -- What the bytes said the file is (the domain's Sniffed), stored as its extension.
    extension   TEXT NOT NULL CONSTRAINT attachments_extension_length
                    CHECK (char_length(extension) BETWEEN 1 AND 16),
    file_size   BIGINT NOT NULL CONSTRAINT attachments_file_size_check CHECK (file_size >= 0),
    width       INTEGER NULL CONSTRAINT attachments_width_check CHECK (width > 0),
    height      INTEGER NULL CONSTRAINT attachments_height_check CHECK (height > 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT attachments_dimensions_check CHECK ((width IS NULL) = (height IS NULL)),
    -- The message is of the same room, and the room of the same account; deleting the
    -- message (or its room, or its account) deletes its attachment rows.
    CONSTRAINT attachments_account_id_room_id_fkey FOREIGN KEY (account_id, room_id)
        REFERENCES rooms (account_id, id) ON DELETE CASCADE,
    CONSTRAINT attachments_room_id_message_id_fkey FOREIGN KEY (room_id, message_id)
        REFERENCES messages (room_id, id) ON DELETE CASCADE,
    CONSTRAINT attachments_message_position_key UNIQUE (message_id, position)
);

-- A room's attachments, for collecting their keys when the room is deleted.
CREATE INDEX attachments_room_idx ON attachments (room_id);
