DROP INDEX users_email_trgm_idx;
DROP INDEX users_name_trgm_idx;
DROP INDEX users_chat_user_id_trgm_idx;
DROP TABLE signing_secrets;
DELETE FROM credentials WHERE kind = 'scoped_key';
DROP INDEX credentials_scoped_keys_by_user;
ALTER TABLE credentials DROP CONSTRAINT credentials_scoped_key_check;
ALTER TABLE credentials DROP COLUMN expires_at;
ALTER TABLE credentials DROP COLUMN permissions;
ALTER TABLE credentials DROP CONSTRAINT credentials_kind_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_kind_check
    CHECK (kind IN ('api_key', 'user_token'));
ALTER TABLE users DROP COLUMN tokens_valid_after;
ALTER TABLE users DROP COLUMN meta;
ALTER TABLE users DROP COLUMN is_active;
