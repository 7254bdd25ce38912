//! The rows of `webhooks` and `webhook_events`, and their conversion to domain values.

use chat_app::{StoreError, StoredEvent};
use chat_domain::{
    AccountId, CustomHeaders, MessageId, RoomId, UserId, Webhook, WebhookEvent, WebhookEvents,
    WebhookId, WebhookMeta, WebhookSecret, WebhookUrl,
};
use diesel::prelude::*;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::corrupt;
use crate::schema::{webhook_events, webhooks};

/// One row of `webhooks`.
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(diesel::pg::Pg))]
pub(super) struct WebhookRow {
    pub(super) id: i64,
    uuid: Uuid,
    account_id: i64,
    url: String,
    events: Vec<String>,
    secret: String,
    is_active: bool,
    custom_headers: Value,
    room_filters: Vec<Uuid>,
    meta: Value,
    failure_count: i32,
    last_delivery_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// A stored JSON value that must be an object.
fn object(what: &str, id: i64, value: Value) -> Result<serde_json::Map<String, Value>, StoreError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(corrupt(
            what,
            id,
            format_args!("a JSON object was expected, not {other}"),
        )),
    }
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;

    fn try_from(row: WebhookRow) -> Result<Self, StoreError> {
        let invalid = |e: chat_domain::FieldError| corrupt("webhook", row.id, e);
        Ok(Webhook {
            id: WebhookId(row.id),
            uuid: row.uuid,
            account_id: AccountId(row.account_id),
            url: WebhookUrl::parse(&row.url).map_err(invalid)?,
            events: WebhookEvents::parse("events", &row.events).map_err(invalid)?,
            secret: WebhookSecret::parse(&row.secret).map_err(invalid)?,
            is_active: row.is_active,
            custom_headers: CustomHeaders::parse(object("webhook", row.id, row.custom_headers)?)
                .map_err(invalid)?,
            room_filters: row.room_filters,
            meta: WebhookMeta::parse(object("webhook", row.id, row.meta)?).map_err(invalid)?,
            failure_count: row.failure_count,
            last_delivery_at: row.last_delivery_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// One row of `webhook_events`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_events, check_for_backend(diesel::pg::Pg))]
pub(super) struct EventRow {
    pub(super) id: i64,
    pub(super) uuid: Uuid,
    pub(super) account_id: i64,
    pub(super) event: String,
    pub(super) room_id: Option<i64>,
    pub(super) message_id: Option<i64>,
    pub(super) user_id: Option<i64>,
    pub(super) data: Option<Value>,
    pub(super) created_at: OffsetDateTime,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let event = WebhookEvent::parse(&row.event).ok_or_else(|| {
            corrupt(
                "webhook event",
                row.id,
                format_args!("unknown event {:?}", row.event),
            )
        })?;
        Ok(StoredEvent {
            uuid: row.uuid,
            event,
            account: AccountId(row.account_id),
            room: row.room_id.map(RoomId),
            message: row.message_id.map(MessageId),
            user: row.user_id.map(UserId),
            data: row.data,
            created_at: row.created_at,
        })
    }
}
