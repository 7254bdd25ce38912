-- End users' own credentials (CONTRACT §7): scoped keys, revocation of signed tokens,
-- and the seeds of the accounts' JWT signing secrets. Expand only: new nullable or
-- defaulted columns (catalog changes, no table rewrite), a new table, constraints
-- replaced in place, and new indexes.

-- ChatAPI users carry `is_active` and `meta`. An inactive user's credentials are refused.
ALTER TABLE users ADD COLUMN is_active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN meta JSONB NOT NULL DEFAULT '{}'::jsonb;
-- `POST /api/v1/users/{user_id}/revoke-tokens`: signed tokens issued (`iat`) before this
-- instant are refused. NULL: none revoked.
ALTER TABLE users ADD COLUMN tokens_valid_after TIMESTAMPTZ NULL;

-- A third kind of credential: an end user's scoped key, with its permissions and expiry.
ALTER TABLE credentials DROP CONSTRAINT credentials_kind_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_kind_check
    CHECK (kind IN ('api_key', 'user_token', 'scoped_key'));
-- Bit set of chat_domain::Permissions; only scoped keys have one.
ALTER TABLE credentials ADD COLUMN permissions SMALLINT NULL;
ALTER TABLE credentials ADD COLUMN expires_at TIMESTAMPTZ NULL;
ALTER TABLE credentials ADD CONSTRAINT credentials_scoped_key_check
    CHECK ((kind = 'scoped_key') = (permissions IS NOT NULL AND expires_at IS NOT NULL));

-- Scoped keys of one user (logout, rotate-on-login, revoke-tokens delete them all).
CREATE INDEX credentials_scoped_keys_by_user
    ON credentials (user_id) WHERE kind = 'scoped_key';

-- The JWT signing secrets of an account. The secret itself is never stored: it is
-- HMAC-SHA256(CHAT_SECRET_KEY, seed), so this table alone (a dump, a replica, a backup)
-- cannot sign or check a token. The current secret has retired_at NULL; a replaced one
-- keeps working until retired_at + 24 hours, then is deleted by the next replacement.
CREATE TABLE signing_secrets (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL CONSTRAINT signing_secrets_account_id_fkey
                   REFERENCES accounts (id) ON DELETE CASCADE,
    seed       BYTEA NOT NULL CONSTRAINT signing_secrets_seed_length
                   CHECK (octet_length(seed) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at TIMESTAMPTZ NULL
);

-- At most one current secret per account; also the index of the look-up by account.
CREATE UNIQUE INDEX signing_secrets_one_current_per_account
    ON signing_secrets (account_id) WHERE retired_at IS NULL;
CREATE INDEX signing_secrets_account_id_idx ON signing_secrets (account_id);

-- `GET /api/v1/users/?search=`: a substring of the ChatAPI user_id (the external id, or the
-- integer id for users without one), the name or the e-mail address, ignoring case, served
-- by trigram indexes as rooms' search is (pg_trgm comes with the rooms migration). The
-- store's filter spells the first expression exactly so, or the index would not serve it.
CREATE INDEX users_chat_user_id_trgm_idx
    ON users USING gin ((coalesce(external_id, id::text)) gin_trgm_ops);
CREATE INDEX users_name_trgm_idx ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
