-- Tenants, their people, and the hashes of the secrets that authenticate them.
-- gen_random_uuid() is built into PostgreSQL 13 and later (no extension needed).

CREATE TABLE accounts (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The ChatAPI dialect's client_id. UNIQUE also gives the index that looks a client up by it.
    uuid               UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    -- Bounds repeat the domain's (AccountName, Description), in characters, as a last line of defence.
    name               TEXT NOT NULL CONSTRAINT accounts_name_length
                           CHECK (char_length(name) BETWEEN 1 AND 255),
    description        TEXT NULL CONSTRAINT accounts_description_length
                           CHECK (char_length(description) <= 10000),
    is_active          BOOLEAN NOT NULL DEFAULT TRUE,
    chat_rooms_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The constraint name is matched by the store: a missing account is reported as not found.
    account_id   BIGINT NOT NULL CONSTRAINT users_account_id_fkey
                     REFERENCES accounts (id) ON DELETE CASCADE,
    external_id  TEXT NULL,
    name         TEXT NOT NULL,
    email        TEXT NULL,
    role         TEXT NOT NULL CONSTRAINT users_role_check
                     CHECK (role IN ('administrator', 'agent')),
    availability TEXT NOT NULL DEFAULT 'offline' CONSTRAINT users_availability_check
                     CHECK (availability IN ('online', 'offline', 'busy')),
    confirmed    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Redundant with the primary key, but lets tenant tables reference (account_id, user_id)
    -- so that a row can never point at a user of another account.
    CONSTRAINT users_account_id_id_key UNIQUE (account_id, id)
);

-- The integrator's id is unique within an account (it names the user in the ChatAPI dialect);
-- also the index for finding a user by it. Partial: many users may have none.
CREATE UNIQUE INDEX users_account_external_id_key
    ON users (account_id, external_id) WHERE external_id IS NOT NULL;

-- An e-mail address is unique within an account, ignoring case (stored as given).
-- The store reports a violation of either index name as a duplicate of that input field.
CREATE UNIQUE INDEX users_account_email_key
    ON users (account_id, lower(email)) WHERE email IS NOT NULL;

CREATE TABLE credentials (
    -- SHA-256 of a high-entropy secret: the primary key is the index every request's
    -- authentication looks up.
    token_hash BYTEA PRIMARY KEY CONSTRAINT credentials_token_hash_length
                   CHECK (octet_length(token_hash) = 32),
    kind       TEXT NOT NULL CONSTRAINT credentials_kind_check
                   CHECK (kind IN ('api_key', 'user_token')),
    account_id BIGINT NOT NULL CONSTRAINT credentials_account_id_fkey
                   REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    BIGINT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A user token belongs to a user of the same account.
    CONSTRAINT credentials_account_id_user_id_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES users (account_id, id) ON DELETE CASCADE,
    -- An API key has no user; a user token always has one.
    CONSTRAINT credentials_kind_user_check CHECK ((kind = 'api_key') = (user_id IS NULL))
);

-- One API key per account: replacing a key deletes the old row in the same transaction.
CREATE UNIQUE INDEX credentials_one_api_key_per_account
    ON credentials (account_id) WHERE kind = 'api_key';

-- One access token per user.
CREATE UNIQUE INDEX credentials_one_user_token_per_user
    ON credentials (user_id) WHERE kind = 'user_token';

-- The partial indexes above cannot serve the foreign keys' ON DELETE CASCADE look-ups
-- (which do not filter on kind); without this, deleting an account or a user scans credentials.
CREATE INDEX credentials_account_id_user_id_idx
    ON credentials (account_id, user_id);
