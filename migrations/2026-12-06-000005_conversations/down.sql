DROP TABLE message_reactions;
ALTER TABLE room_members DROP COLUMN unread_mentions;
DROP TABLE message_mentions;
DROP INDEX messages_room_pinned_idx;
DROP INDEX messages_search_idx;
ALTER TABLE messages
    DROP COLUMN search_vector,
    DROP COLUMN deleted_by_label,
    DROP COLUMN deleted_by_user_id,
    DROP COLUMN pinned_by_label,
    DROP COLUMN pinned_by_user_id,
    DROP COLUMN pinned_at,
    DROP COLUMN reactions,
    DROP COLUMN mentions,
    DROP COLUMN last_reply_at,
    DROP COLUMN reply_count,
    DROP COLUMN search_config;
DROP FUNCTION chat_search_config(TEXT);
