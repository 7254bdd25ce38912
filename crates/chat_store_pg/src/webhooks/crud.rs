//! Webhooks themselves: create, read, change, switch on and off, delete; and their
//! delivery log. Every query is scoped by `account_id`: another account's webhook is not
//! found.

use chat_app::{Attempt, NewWebhook, Page, StoreError, WebhookPatch, WebhookRef, Window};
use chat_domain::{AccountId, Webhook, WebhookSecret};
use diesel::dsl::now;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::WebhookRow;
use crate::schema::{webhook_attempts, webhook_deliveries, webhooks};
use crate::translate;

/// A new webhook row.
#[derive(Insertable)]
#[diesel(table_name = webhooks)]
struct NewWebhookRow<'a> {
    account_id: i64,
    url: &'a str,
    events: Vec<&'static str>,
    secret: &'a str,
    is_active: bool,
    custom_headers: Value,
    room_filters: &'a [Uuid],
    meta: Value,
}

/// The columns a [`WebhookPatch`] may change; `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = webhooks)]
struct WebhookChanges {
    url: Option<String>,
    events: Option<Vec<&'static str>>,
    secret: Option<String>,
    custom_headers: Option<Value>,
    room_filters: Option<Vec<Uuid>>,
    meta: Option<Value>,
}

impl From<WebhookPatch> for WebhookChanges {
    fn from(patch: WebhookPatch) -> Self {
        Self {
            url: patch.url.map(|url| url.as_str().to_owned()),
            events: patch.events.map(|events| events.names()),
            secret: patch.secret.map(|secret| secret.expose().to_owned()),
            custom_headers: patch
                .custom_headers
                .map(|headers| Value::Object(headers.to_map())),
            room_filters: patch.room_filters,
            meta: patch.meta.map(|meta| Value::Object(meta.into_map())),
        }
    }
}

/// The account's webhook `id`, as a boxed query to filter, change or delete.
pub(super) fn scoped<'a>(account: AccountId, id: WebhookRef) -> webhooks::BoxedQuery<'a, Pg> {
    let query = webhooks::table
        .filter(webhooks::account_id.eq(account.0))
        .into_boxed();
    match id {
        WebhookRef::Id(id) => query.filter(webhooks::id.eq(id.0)),
        WebhookRef::Uuid(uuid) => query.filter(webhooks::uuid.eq(uuid)),
    }
}

/// The row id of the account's webhook `id`; `NotFound` when not the account's.
pub(super) fn resolve(
    conn: &mut PgConnection,
    account: AccountId,
    id: WebhookRef,
) -> QueryResult<i64> {
    scoped(account, id).select(webhooks::id).first(conn)
}

pub(super) fn create(
    conn: &mut PgConnection,
    account: AccountId,
    new: NewWebhook,
) -> Result<Webhook, StoreError> {
    let secret = match new.secret {
        Some(secret) => secret,
        None => WebhookSecret::generate().map_err(|e| StoreError::Unexpected(e.into()))?,
    };
    let row: WebhookRow = diesel::insert_into(webhooks::table)
        .values(NewWebhookRow {
            account_id: account.0,
            url: new.url.as_str(),
            events: new.events.names(),
            secret: secret.expose(),
            is_active: new.is_active,
            custom_headers: Value::Object(new.custom_headers.to_map()),
            room_filters: &new.room_filters,
            meta: Value::Object(new.meta.into_map()),
        })
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .map_err(translate)?;
    Webhook::try_from(row)
}

pub(super) fn list(
    conn: &mut PgConnection,
    account: AccountId,
    window: Window,
) -> Result<Page<Webhook>, StoreError> {
    // One snapshot for both, so the total agrees with the page.
    let (rows, total) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let mine = webhooks::table.filter(webhooks::account_id.eq(account.0));
            let rows: Vec<WebhookRow> = mine
                .order_by(webhooks::id)
                .offset(window.offset)
                .limit(window.limit)
                .select(WebhookRow::as_select())
                .load(conn)?;
            let total: i64 = mine.count().get_result(conn)?;
            Ok::<_, DieselError>((rows, total))
        })
        .map_err(translate)?;
    let items = rows
        .into_iter()
        .map(Webhook::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, total })
}

pub(super) fn find(
    conn: &mut PgConnection,
    account: AccountId,
    id: WebhookRef,
) -> Result<Webhook, StoreError> {
    let row = scoped(account, id)
        .select(WebhookRow::as_select())
        .first(conn)
        .map_err(translate)?;
    Webhook::try_from(row)
}

pub(super) fn update(
    conn: &mut PgConnection,
    account: AccountId,
    id: WebhookRef,
    patch: WebhookPatch,
) -> Result<Webhook, StoreError> {
    let row_id = resolve(conn, account, id).map_err(translate)?;
    let row: WebhookRow = diesel::update(
        webhooks::table
            .filter(webhooks::account_id.eq(account.0))
            .filter(webhooks::id.eq(row_id)),
    )
    .set((WebhookChanges::from(patch), webhooks::updated_at.eq(now)))
    .returning(WebhookRow::as_returning())
    .get_result(conn)
    .map_err(translate)?;
    Webhook::try_from(row)
}

pub(super) fn delete(
    conn: &mut PgConnection,
    account: AccountId,
    id: WebhookRef,
) -> Result<(), StoreError> {
    // Its deliveries and log go by ON DELETE CASCADE.
    let row_id = resolve(conn, account, id).map_err(translate)?;
    let deleted = diesel::delete(
        webhooks::table
            .filter(webhooks::account_id.eq(account.0))
            .filter(webhooks::id.eq(row_id)),
    )
    .execute(conn)
    .map_err(translate)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Fails the pending deliveries of a webhook switched off (inside its transaction): they
/// would never be claimed, and would count as a backlog for ever.
pub(super) fn fail_pending(conn: &mut PgConnection, webhook: i64) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook))
            .filter(webhook_deliveries::state.eq("pending")),
    )
    .set((
        webhook_deliveries::state.eq("failed"),
        webhook_deliveries::leased_until.eq(None::<OffsetDateTime>),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)
}

pub(super) fn set_active(
    conn: &mut PgConnection,
    account: AccountId,
    id: WebhookRef,
    active: bool,
) -> Result<Webhook, StoreError> {
    let row = conn
        .transaction(|conn| {
            let row_id = resolve(conn, account, id)?;
            let target = webhooks::table
                .filter(webhooks::account_id.eq(account.0))
                .filter(webhooks::id.eq(row_id));
            let row: WebhookRow = if active {
                diesel::update(target)
                    .set((
                        webhooks::is_active.eq(true),
                        webhooks::failure_count.eq(0),
                        webhooks::updated_at.eq(now),
                    ))
                    .returning(WebhookRow::as_returning())
                    .get_result(conn)?
            } else {
                let row = diesel::update(target)
                    .set((webhooks::is_active.eq(false), webhooks::updated_at.eq(now)))
                    .returning(WebhookRow::as_returning())
                    .get_result(conn)?;
                fail_pending(conn, row_id)?;
                row
            };
            Ok::<_, DieselError>(row)
        })
        .map_err(translate)?;
    Webhook::try_from(row)
}

/// One entry of the log with its delivery's uuid.
type AttemptRow = (
    Uuid,
    String,
    i32,
    Option<i32>,
    i32,
    Option<String>,
    OffsetDateTime,
);

pub(super) fn list_attempts(
    conn: &mut PgConnection,
    account: AccountId,
    id: WebhookRef,
    window: Window,
) -> Result<Page<Attempt>, StoreError> {
    let (rows, total) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let webhook = resolve(conn, account, id)?;
            let log = webhook_attempts::table
                .filter(webhook_attempts::webhook_id.eq(webhook))
                .filter(webhook_attempts::account_id.eq(account.0));
            // Newest first, from the (webhook_id, id DESC) index.
            let rows: Vec<AttemptRow> = log
                .inner_join(webhook_deliveries::table)
                .order_by(webhook_attempts::id.desc())
                .offset(window.offset)
                .limit(window.limit)
                .select((
                    webhook_deliveries::uuid,
                    webhook_attempts::event,
                    webhook_attempts::attempt,
                    webhook_attempts::status_code,
                    webhook_attempts::duration_ms,
                    webhook_attempts::error,
                    webhook_attempts::delivered_at,
                ))
                .load(conn)?;
            let total: i64 = log.count().get_result(conn)?;
            Ok::<_, DieselError>((rows, total))
        })
        .map_err(translate)?;
    let items = rows
        .into_iter()
        .map(
            |(delivery_uuid, event, attempt, status_code, duration_ms, error, delivered_at)| {
                Attempt {
                    delivery_uuid,
                    event,
                    attempt,
                    status_code,
                    duration_ms,
                    error,
                    delivered_at,
                }
            },
        )
        .collect();
    Ok(Page { items, total })
}
