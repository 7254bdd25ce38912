//! The transactional outbox's writer: [`record_event`] records one event (or one per
//! user) and its deliveries with ONE statement, run by the caller inside the transaction
//! of the change that causes the event, so a rolled-back change records nothing and a
//! committed one is never lost.
//!
//! The statement probes the account's active webhooks through the partial index
//! `webhooks_active_by_account`; when none subscribes to the event (for the room), it
//! inserts nothing at all. The send path does the same with extra CTEs of its one
//! statement instead (`messages::append`).

use chat_domain::{AccountId, RoomId, UserId};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text};
use serde_json::Value;
use uuid::Uuid;

/// The message an event names: by id, or (message.read) by its seq in the event's room,
/// looked up only when a webhook subscribes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EventMessage {
    None,
    Id(i64),
    Seq(i64),
}

/// One event to record (one row per user in `users`, or one row naming no user).
#[derive(Debug)]
pub(crate) struct Recorded<'a> {
    pub(crate) account: AccountId,
    /// `chat_domain::WebhookEvent::as_str`.
    pub(crate) event: &'a str,
    pub(crate) room: RoomId,
    /// The room's uuid (matched against `room_filters`); `None`: read from `rooms`
    /// (only when some webhook subscribes).
    pub(crate) room_uuid: Option<Uuid>,
    pub(crate) message: EventMessage,
    /// One event per user; empty: one event naming no user.
    pub(crate) users: &'a [UserId],
    pub(crate) data: Option<Value>,
}

impl<'a> Recorded<'a> {
    /// An event of `room` naming no message, no user and no data.
    pub(crate) fn of_room(account: AccountId, event: &'a str, room: RoomId) -> Self {
        Self {
            account,
            event,
            room,
            room_uuid: None,
            message: EventMessage::None,
            users: &[],
            data: None,
        }
    }
}

/// The webhooks of the account subscribed to `$2` for the room (`$4`, or the uuid of the
/// room `$3`): the probe, an index scan of `webhooks_active_by_account`.
const RECORD: &str = "
WITH w AS (
    SELECT id FROM webhooks
     WHERE account_id = $1 AND is_active AND $2 = ANY(events)
       AND (cardinality(room_filters) = 0
            OR coalesce($4, (SELECT uuid FROM rooms WHERE account_id = $1 AND id = $3))
               = ANY(room_filters))
), e AS (
    INSERT INTO webhook_events (account_id, event, room_id, message_id, user_id, data,
                                expanded_at)
    SELECT $1, $2, $3,
           coalesce($5, (SELECT id FROM messages WHERE room_id = $3 AND seq = $6
                                                   AND account_id = $1)),
           u.user_id, $8, now()
      FROM unnest($7::bigint[]) AS u(user_id)
     WHERE EXISTS (SELECT 1 FROM w)
 RETURNING id
)
INSERT INTO webhook_deliveries (webhook_id, event_id, account_id)
SELECT w.id, e.id, $1 FROM w, e";

/// Records `event` and its deliveries (nothing when no active webhook of the account
/// subscribes); answers the number of deliveries recorded. Call it inside the
/// transaction of the change.
pub(crate) fn record_event(conn: &mut PgConnection, event: &Recorded<'_>) -> QueryResult<usize> {
    let users: Vec<Option<i64>> = if event.users.is_empty() {
        vec![None]
    } else {
        event.users.iter().map(|user| Some(user.0)).collect()
    };
    let (message_id, seq) = match event.message {
        EventMessage::None => (None, None),
        EventMessage::Id(id) => (Some(id), None),
        EventMessage::Seq(seq) => (None, Some(seq)),
    };
    diesel::sql_query(RECORD)
        .bind::<BigInt, _>(event.account.0)
        .bind::<Text, _>(event.event)
        .bind::<BigInt, _>(event.room.0)
        .bind::<Nullable<diesel::sql_types::Uuid>, _>(event.room_uuid)
        .bind::<Nullable<BigInt>, _>(message_id)
        .bind::<Nullable<BigInt>, _>(seq)
        .bind::<Array<Nullable<BigInt>>, _>(users)
        .bind::<Nullable<Jsonb>, _>(event.data.clone())
        .execute(conn)
}
