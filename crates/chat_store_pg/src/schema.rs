//! Diesel's view of the tables, written by hand to match `migrations/`.
//! Keep both in step: a column added there is added here.

diesel::table! {
    accounts (id) {
        id -> Int8,
        uuid -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        is_active -> Bool,
        chat_rooms_enabled -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        account_id -> Int8,
        external_id -> Nullable<Text>,
        name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        availability -> Text,
        confirmed -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        is_active -> Bool,
        meta -> Jsonb,
        tokens_valid_after -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    credentials (token_hash) {
        token_hash -> Bytea,
        kind -> Text,
        account_id -> Int8,
        user_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        permissions -> Nullable<Int2>,
        expires_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    signing_secrets (id) {
        id -> Int8,
        account_id -> Int8,
        seed -> Bytea,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    rooms (id) {
        id -> Int8,
        uuid -> Uuid,
        account_id -> Int8,
        name -> Text,
        description -> Nullable<Text>,
        meta -> Jsonb,
        is_active -> Bool,
        member_count -> Int4,
        message_count -> Int8,
        last_message_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_seq -> Int8,
        deleted_message_count -> Int8,
        avatar_key -> Nullable<Text>,
    }
}

diesel::table! {
    room_members (room_id, user_id) {
        account_id -> Int8,
        room_id -> Int8,
        user_id -> Int8,
        joined_at -> Timestamptz,
        meta -> Jsonb,
        last_read_seq -> Int8,
        delivered_seq -> Int8,
        unread_mentions -> Int4,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        uuid -> Uuid,
        account_id -> Int8,
        room_id -> Int8,
        seq -> Int8,
        sender_user_id -> Nullable<Int8>,
        sender_label -> Text,
        sender_name -> Nullable<Text>,
        content -> Text,
        message_type -> Text,
        meta -> Jsonb,
        reply_to_id -> Nullable<Int8>,
        echo_id -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        edited_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        attachment_count -> Int4,
        // Not here: search_config (regconfig) and search_vector (tsvector), which diesel
        // has no types for; the statements that need them are written in SQL.
        reply_count -> Int4,
        last_reply_at -> Nullable<Timestamptz>,
        mentions -> Array<Int8>,
        mention_labels -> Array<Text>,
        reactions -> Text,
        pinned_at -> Nullable<Timestamptz>,
        pinned_by_user_id -> Nullable<Int8>,
        pinned_by_label -> Nullable<Text>,
        deleted_by_user_id -> Nullable<Int8>,
        deleted_by_label -> Nullable<Text>,
    }
}

diesel::table! {
    message_mentions (room_id, user_id, seq) {
        account_id -> Int8,
        room_id -> Int8,
        user_id -> Int8,
        seq -> Int8,
        message_id -> Int8,
    }
}

diesel::table! {
    message_reactions (message_id, emoji, user_id) {
        account_id -> Int8,
        room_id -> Int8,
        message_id -> Int8,
        emoji -> Text,
        user_id -> Int8,
        user_label -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    attachments (id) {
        id -> Int8,
        uuid -> Uuid,
        account_id -> Int8,
        room_id -> Int8,
        message_id -> Int8,
        position -> Int4,
        storage_key -> Text,
        extension -> Text,
        file_size -> Int8,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// UNLOGGED (see the migration): live sockets, across every node.
    presence_sessions (id) {
        id -> Uuid,
        node_id -> Uuid,
        account_id -> Int8,
        room_id -> Nullable<Int8>,
        user_key -> Text,
        user_id -> Nullable<Int8>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Int8,
        uuid -> Uuid,
        account_id -> Int8,
        url -> Text,
        events -> Array<Text>,
        secret -> Text,
        is_active -> Bool,
        custom_headers -> Jsonb,
        room_filters -> Array<Uuid>,
        meta -> Jsonb,
        failure_count -> Int4,
        last_delivery_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// The outbox (see the migration).
    webhook_events (id) {
        id -> Int8,
        uuid -> Uuid,
        account_id -> Int8,
        event -> Text,
        room_id -> Nullable<Int8>,
        message_id -> Nullable<Int8>,
        user_id -> Nullable<Int8>,
        data -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        expanded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        uuid -> Uuid,
        webhook_id -> Int8,
        event_id -> Int8,
        account_id -> Int8,
        attempts -> Int4,
        state -> Text,
        next_attempt_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// The delivery log.
    webhook_attempts (id) {
        id -> Int8,
        delivery_id -> Int8,
        webhook_id -> Int8,
        account_id -> Int8,
        event -> Text,
        attempt -> Int4,
        status_code -> Nullable<Int4>,
        duration_ms -> Int4,
        error -> Nullable<Text>,
        delivered_at -> Timestamptz,
    }
}

diesel::table! {
    offline_notices (room_id, user_id) {
        account_id -> Int8,
        room_id -> Int8,
        user_id -> Int8,
        last_at -> Timestamptz,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(credentials -> accounts (account_id));
diesel::joinable!(signing_secrets -> accounts (account_id));
diesel::joinable!(rooms -> accounts (account_id));
diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> users (user_id));
diesel::joinable!(messages -> rooms (room_id));
diesel::joinable!(attachments -> messages (message_id));
diesel::joinable!(message_mentions -> messages (message_id));
diesel::joinable!(message_reactions -> messages (message_id));
diesel::joinable!(webhooks -> accounts (account_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    credentials,
    rooms,
    room_members,
    messages,
    message_mentions,
    message_reactions,
    attachments,
    presence_sessions,
    signing_secrets,
    webhooks,
    webhook_events,
    webhook_deliveries,
    webhook_attempts,
    offline_notices
);
