-- Custom message types (CONTRACT §10): besides text, system, image, file, audio and video,
-- any type matching [a-z][a-z0-9_]{0,31} is stored (chat_domain::CustomKind keeps the same
-- rule). Expand only: the check only widens, so every existing row still passes it.
--
-- Added NOT VALID and then validated, so the scan of existing rows runs under a SHARE
-- UPDATE EXCLUSIVE lock rather than holding ACCESS EXCLUSIVE for it.
ALTER TABLE messages DROP CONSTRAINT messages_message_type_check;
ALTER TABLE messages ADD CONSTRAINT messages_message_type_check
    CHECK (message_type ~ '^[a-z][a-z0-9_]{0,31}$') NOT VALID;
ALTER TABLE messages VALIDATE CONSTRAINT messages_message_type_check;
