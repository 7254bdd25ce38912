-- Webhooks (CONTRACT §9): the subscriptions, the transactional outbox of events, one
-- delivery per (event, webhook), the delivery log, and the coalescing of
-- message.unread_offline. Expand only: new tables and indexes, nothing existing changes.

-- An account's webhooks. `events` holds event names (chat_domain::WebhookEvent);
-- `room_filters` room uuids (empty: every room). `secret` is the shared HMAC key, kept
-- retrievable because ChatAPI shows it on get (see docs/decisions.md).
CREATE TABLE webhooks (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid             UUID NOT NULL DEFAULT gen_random_uuid()
                         CONSTRAINT webhooks_uuid_key UNIQUE,
    account_id       BIGINT NOT NULL CONSTRAINT webhooks_account_id_fkey
                         REFERENCES accounts (id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    events           TEXT[] NOT NULL,
    secret           TEXT NOT NULL,
    is_active        BOOLEAN NOT NULL DEFAULT TRUE,
    custom_headers   JSONB NOT NULL DEFAULT '{}'::jsonb,
    room_filters     UUID[] NOT NULL DEFAULT '{}',
    meta             JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- Consecutive failed deliveries; 5 deactivate the webhook.
    failure_count    INTEGER NOT NULL DEFAULT 0,
    last_delivery_at TIMESTAMPTZ NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The probe of every recorded change (a send included): the account's active webhooks.
-- Partial, so an account without an active webhook costs one empty index look-up.
CREATE INDEX webhooks_active_by_account ON webhooks (account_id) WHERE is_active;
-- Listing an account's webhooks (all of them).
CREATE INDEX webhooks_account_idx ON webhooks (account_id, id);

-- The outbox: one row per event recorded with the change that caused it. No foreign key
-- to rooms, messages or users: an event outlives what it names (a deleted room's
-- {id, name} is kept in `data`).
CREATE TABLE webhook_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid        UUID NOT NULL DEFAULT gen_random_uuid()
                    CONSTRAINT webhook_events_uuid_key UNIQUE,
    account_id  BIGINT NOT NULL CONSTRAINT webhook_events_account_id_fkey
                    REFERENCES accounts (id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    room_id     BIGINT NULL,
    message_id  BIGINT NULL,
    user_id     BIGINT NULL,
    data        JSONB NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A message.created recorded for a message.unread_offline subscription: NULL until the
    -- delivery worker has expanded it. Every other event is recorded expanded.
    expanded_at TIMESTAMPTZ NULL
);

-- The expansion's queue.
CREATE INDEX webhook_events_unexpanded_idx ON webhook_events (id) WHERE expanded_at IS NULL;
-- Pruning.
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);

-- One delivery of one event to one webhook; its uuid is the X-ChatAPI-Delivery header,
-- the same on every retry.
CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid            UUID NOT NULL DEFAULT gen_random_uuid()
                        CONSTRAINT webhook_deliveries_uuid_key UNIQUE,
    webhook_id      BIGINT NOT NULL CONSTRAINT webhook_deliveries_webhook_id_fkey
                        REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        BIGINT NOT NULL CONSTRAINT webhook_deliveries_event_id_fkey
                        REFERENCES webhook_events (id) ON DELETE CASCADE,
    -- The webhook's account (goes with it through the webhook).
    account_id      BIGINT NOT NULL,
    -- Attempts made so far (a claim counts one).
    attempts        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'pending'
                        CONSTRAINT webhook_deliveries_state_check
                        CHECK (state IN ('pending', 'delivered', 'failed')),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A claimer holds the delivery until then; past it, another may claim it again.
    leased_until    TIMESTAMPTZ NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_event_webhook_key UNIQUE (event_id, webhook_id)
);

-- The claim: due pending deliveries, oldest first.
CREATE INDEX webhook_deliveries_pending_idx
    ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- The cascade from a deleted webhook.
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id);
-- Pruning finished deliveries.
CREATE INDEX webhook_deliveries_finished_idx
    ON webhook_deliveries (updated_at) WHERE state <> 'pending';

-- The delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  BIGINT NOT NULL CONSTRAINT webhook_attempts_delivery_id_fkey
                     REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    webhook_id   BIGINT NOT NULL CONSTRAINT webhook_attempts_webhook_id_fkey
                     REFERENCES webhooks (id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL,
    event        TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    status_code  INTEGER NULL,
    duration_ms  INTEGER NOT NULL,
    error        TEXT NULL,
    delivered_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- `GET …/deliveries`, newest first; also the cascade from a deleted webhook.
CREATE INDEX webhook_attempts_webhook_idx ON webhook_attempts (webhook_id, id DESC);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);
CREATE INDEX webhook_attempts_delivered_idx ON webhook_attempts (delivered_at);

-- message.unread_offline coalescing: when a member was last told about a room.
CREATE TABLE offline_notices (
    account_id BIGINT NOT NULL,
    room_id    BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    last_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (room_id, user_id),
    CONSTRAINT offline_notices_account_id_room_id_fkey FOREIGN KEY (account_id, room_id)
        REFERENCES rooms (account_id, id) ON DELETE CASCADE,
    CONSTRAINT offline_notices_account_id_user_id_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES users (account_id, id) ON DELETE CASCADE
);
CREATE INDEX offline_notices_user_idx ON offline_notices (account_id, user_id);
