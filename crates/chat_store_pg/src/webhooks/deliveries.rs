//! The delivery worker's side: claiming due deliveries under a lease, recording each
//! attempt's outcome, the test delivery, the backlog, and pruning. These serve every
//! account (the worker's), except `record_test`, which is the account's.

use std::time::Duration;

use chat_app::{Claimed, Finished, StoreError, StoredEvent, WebhookRef};
use chat_domain::{AccountId, Webhook, WebhookEvent};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamptz};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::crud::{fail_pending, resolve};
use super::rows::{EventRow, WebhookRow};
use crate::prepared::Binds;
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_events, webhooks};
use crate::translate;

/// How long a test delivery is leased to the caller who delivers it at once.
const TEST_LEASE_SECS: f64 = 30.0;

/// Leases up to `$1` due deliveries for `$2` seconds and counts the attempt: the oldest
/// due first, skipping the rows another claimer holds locked (`SKIP LOCKED`) or leased
/// (`leased_until` in the future), so two claimers never get the same delivery while a
/// lease runs. Served by the partial index `webhook_deliveries_pending_idx`.
///
/// It changes no indexed column (`updated_at`, the key of the finished deliveries' index,
/// is set when the delivery finishes; nothing reads it of a pending one), so PostgreSQL can
/// update the row in place (a HOT update) instead of adding an entry to each of the
/// table's six indexes for every claim.
const CLAIM: &str = "
UPDATE webhook_deliveries
   SET leased_until = now() + make_interval(secs => $2),
       attempts = attempts + 1
 WHERE id IN (SELECT id FROM webhook_deliveries
               WHERE state = 'pending' AND next_attempt_at <= now()
                 AND (leased_until IS NULL OR leased_until < now())
               ORDER BY next_attempt_at
               LIMIT $1
                 FOR UPDATE SKIP LOCKED)
RETURNING id";

/// The claimed deliveries `$1`, with their webhook, event and account's `client_id`.
const LOAD_CLAIMED: &str = "
SELECT d.id AS delivery_id, d.uuid AS delivery_uuid, d.attempts AS attempt,
       a.uuid AS client_id,
       e.id AS event_row, e.uuid AS event_uuid, e.account_id AS event_account,
       e.event AS event_name, e.room_id AS event_room, e.message_id AS event_message,
       e.user_id AS event_user, e.data AS event_data, e.created_at AS event_created_at,
       w.*
  FROM webhook_deliveries AS d
  JOIN webhooks AS w ON w.id = d.webhook_id
  JOIN webhook_events AS e ON e.id = d.event_id
  JOIN accounts AS a ON a.id = w.account_id
 WHERE d.id = ANY($1)
 ORDER BY d.next_attempt_at, d.id";

/// One row of [`LOAD_CLAIMED`].
#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = BigInt)]
    delivery_id: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    delivery_uuid: Uuid,
    #[diesel(sql_type = Integer)]
    attempt: i32,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    client_id: Uuid,
    #[diesel(sql_type = BigInt)]
    event_row: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_uuid: Uuid,
    #[diesel(sql_type = BigInt)]
    event_account: i64,
    #[diesel(sql_type = Text)]
    event_name: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    event_room: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    event_message: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    event_user: Option<i64>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    event_data: Option<Value>,
    #[diesel(sql_type = Timestamptz)]
    event_created_at: OffsetDateTime,
    #[diesel(embed)]
    webhook: WebhookRow,
}

impl TryFrom<ClaimedRow> for Claimed {
    type Error = StoreError;

    fn try_from(row: ClaimedRow) -> Result<Self, StoreError> {
        let event = StoredEvent::try_from(EventRow {
            id: row.event_row,
            uuid: row.event_uuid,
            account_id: row.event_account,
            event: row.event_name,
            room_id: row.event_room,
            message_id: row.event_message,
            user_id: row.event_user,
            data: row.event_data,
            created_at: row.event_created_at,
        })?;
        Ok(Claimed {
            delivery: row.delivery_id,
            delivery_uuid: row.delivery_uuid,
            attempt: row.attempt,
            webhook: Webhook::try_from(row.webhook)?,
            client_id: row.client_id,
            event,
        })
    }
}

fn load_claimed(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<Claimed>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ClaimedRow> = Binds::new()
        .with::<Array<BigInt>, _>(ids.to_vec())
        .into_statement(LOAD_CLAIMED)
        .load(conn)
        .map_err(translate)?;
    rows.into_iter().map(Claimed::try_from).collect()
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

pub(super) fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, StoreError> {
    let ids: Vec<Id> = Binds::new()
        .with::<BigInt, _>(limit)
        .with::<Double, _>(lease.as_secs_f64())
        .into_statement(CLAIM)
        .load(conn)
        .map_err(translate)?;
    let ids: Vec<i64> = ids.into_iter().map(|row| row.id).collect();
    // A delivery whose webhook went between the two statements is not answered (its row
    // went with the webhook).
    load_claimed(conn, &ids)
}

pub(super) fn record_test(
    conn: &mut PgConnection,
    account: AccountId,
    id: WebhookRef,
) -> Result<Claimed, StoreError> {
    let delivery = conn
        .transaction(|conn| {
            let webhook = resolve(conn, account, id)?;
            let event: i64 = diesel::insert_into(webhook_events::table)
                .values((
                    webhook_events::account_id.eq(account.0),
                    webhook_events::event.eq(WebhookEvent::Test.as_str()),
                    webhook_events::expanded_at.eq(now.into_sql::<Timestamptz>().nullable()),
                ))
                .returning(webhook_events::id)
                .get_result(conn)?;
            diesel::sql_query(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, account_id, attempts,
                                                 leased_until)
                 VALUES ($1, $2, $3, 1, now() + make_interval(secs => $4))
                 RETURNING id",
            )
            .bind::<BigInt, _>(webhook)
            .bind::<BigInt, _>(event)
            .bind::<BigInt, _>(account.0)
            .bind::<Double, _>(TEST_LEASE_SECS)
            .get_result::<Id>(conn)
        })
        .map_err(translate)?;
    load_claimed(conn, &[delivery.id])?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}

/// An attempt's outcome: a success by [`DELIVERED`]; a failure in a transaction that
/// records it, schedules the retry or fails the delivery, counts the failure and, at
/// `deactivate_after` in a row, deactivates the webhook (answers `true` then).
pub(super) fn finish(
    conn: &mut PgConnection,
    finished: &Finished,
    deactivate_after: i32,
) -> Result<bool, StoreError> {
    if finished.success {
        return delivered(conn, finished);
    }
    let state = match finished.retry_at {
        Some(_) => "pending",
        None => "failed",
    };
    conn.transaction(|conn| {
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::delivery_id.eq(finished.delivery),
                webhook_attempts::webhook_id.eq(finished.webhook.0),
                webhook_attempts::account_id.eq(finished.account.0),
                webhook_attempts::event.eq(&finished.event),
                webhook_attempts::attempt.eq(finished.attempt),
                webhook_attempts::status_code.eq(finished.status_code),
                webhook_attempts::duration_ms.eq(finished.duration_ms),
                webhook_attempts::error.eq(&finished.error),
            ))
            .execute(conn)?;
        let delivery = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(finished.delivery))
            .filter(webhook_deliveries::account_id.eq(finished.account.0));
        match finished.retry_at {
            Some(at) => diesel::update(delivery)
                .set((
                    webhook_deliveries::state.eq(state),
                    webhook_deliveries::next_attempt_at.eq(at),
                    webhook_deliveries::leased_until.eq(None::<OffsetDateTime>),
                    webhook_deliveries::updated_at.eq(now),
                ))
                .execute(conn)?,
            _ => diesel::update(delivery)
                .set((
                    webhook_deliveries::state.eq(state),
                    webhook_deliveries::leased_until.eq(None::<OffsetDateTime>),
                    webhook_deliveries::updated_at.eq(now),
                ))
                .execute(conn)?,
        };
        let webhook = webhooks::table
            .filter(webhooks::id.eq(finished.webhook.0))
            .filter(webhooks::account_id.eq(finished.account.0));
        // The row lock this takes orders concurrent outcomes of one webhook.
        let counted: Option<(bool, i32)> = diesel::update(webhook)
            .set(webhooks::failure_count.eq(webhooks::failure_count + 1))
            .returning((webhooks::is_active, webhooks::failure_count))
            .get_result(conn)
            .optional()?;
        match counted {
            Some((true, failures)) if failures >= deactivate_after => {
                diesel::update(webhook)
                    .set((webhooks::is_active.eq(false), webhooks::updated_at.eq(now)))
                    .execute(conn)?;
                fail_pending(conn, finished.webhook.0)?;
                Ok(true)
            }
            _ => Ok::<_, DieselError>(false),
        }
    })
    .map_err(translate)
}

/// Deliveries that succeeded, in ONE statement (its own transaction) however many: each
/// delivery delivered (`d`: only where the delivery is the account's), its attempt
/// recorded, and the webhooks' failures reset and last delivery moved. The webhooks' rows
/// are locked in id order (`l`), which orders this with concurrent outcomes, as
/// [`finish`]'s transaction does for a failure, without deadlocks.
const DELIVERED: &str = "
WITH f AS (
    SELECT *
      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::integer[],
                  $6::integer[], $7::integer[])
           AS f(delivery, webhook, account, event, attempt, status_code, duration_ms)
), d AS (
    UPDATE webhook_deliveries AS d
       SET state = 'delivered', leased_until = NULL, updated_at = now()
      FROM f
     WHERE d.id = f.delivery AND d.account_id = f.account
 RETURNING f.*
), a AS (
    INSERT INTO webhook_attempts (delivery_id, webhook_id, account_id, event, attempt,
                                  status_code, duration_ms)
    SELECT delivery, webhook, account, event, attempt, status_code, duration_ms FROM d
), l AS (
    SELECT w.id FROM webhooks AS w
     WHERE (w.id, w.account_id) IN (SELECT webhook, account FROM d)
     ORDER BY w.id
       FOR NO KEY UPDATE
)
UPDATE webhooks SET failure_count = 0, last_delivery_at = now()
 WHERE id IN (SELECT id FROM l)";

/// [`finish`] for a success: [`DELIVERED`]. A success never deactivates its webhook.
fn delivered(conn: &mut PgConnection, finished: &Finished) -> Result<bool, StoreError> {
    finish_delivered(conn, std::slice::from_ref(finished))?;
    Ok(false)
}

/// Successes recorded together: [`DELIVERED`].
pub(super) fn finish_delivered(
    conn: &mut PgConnection,
    delivered: &[Finished],
) -> Result<(), StoreError> {
    if delivered.is_empty() {
        return Ok(());
    }
    let column = |get: fn(&Finished) -> i64| delivered.iter().map(get).collect::<Vec<_>>();
    Binds::new()
        .with::<Array<BigInt>, _>(column(|f| f.delivery))
        .with::<Array<BigInt>, _>(column(|f| f.webhook.0))
        .with::<Array<BigInt>, _>(column(|f| f.account.0))
        .with::<Array<Text>, _>(
            delivered
                .iter()
                .map(|f| f.event.clone())
                .collect::<Vec<_>>(),
        )
        .with::<Array<Integer>, _>(delivered.iter().map(|f| f.attempt).collect::<Vec<_>>())
        .with::<Array<Nullable<Integer>>, _>(
            delivered.iter().map(|f| f.status_code).collect::<Vec<_>>(),
        )
        .with::<Array<Integer>, _>(delivered.iter().map(|f| f.duration_ms).collect::<Vec<_>>())
        .into_statement(DELIVERED)
        .execute(conn)
        .map_err(translate)?;
    Ok(())
}

pub(super) fn prune(conn: &mut PgConnection, before: OffsetDateTime) -> Result<u64, StoreError> {
    let removed = conn
        .transaction(|conn| {
            let attempts = diesel::delete(
                webhook_attempts::table.filter(webhook_attempts::delivered_at.lt(before)),
            )
            .execute(conn)?;
            let deliveries = diesel::delete(
                webhook_deliveries::table
                    .filter(webhook_deliveries::state.ne("pending"))
                    .filter(webhook_deliveries::updated_at.lt(before)),
            )
            .execute(conn)?;
            // Events that nothing waits for any more: expanded, no delivery left.
            let events = diesel::sql_query(
                "DELETE FROM webhook_events AS e
                  WHERE e.created_at < $1 AND e.expanded_at IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS d
                                     WHERE d.event_id = e.id)",
            )
            .bind::<Timestamptz, _>(before)
            .execute(conn)?;
            let notices = diesel::sql_query("DELETE FROM offline_notices WHERE last_at < $1")
                .bind::<Timestamptz, _>(before)
                .execute(conn)?;
            Ok::<_, DieselError>(attempts + deliveries + events + notices)
        })
        .map_err(translate)?;
    u64::try_from(removed).map_err(|e| StoreError::Unexpected(e.into()))
}

#[derive(QueryableByName)]
struct Backlog {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = Nullable<Double>)]
    oldest_secs: Option<f64>,
}

pub(super) fn backlog(conn: &mut PgConnection) -> Result<(i64, Option<Duration>), StoreError> {
    let row: Backlog = diesel::sql_query(
        "SELECT count(*) AS pending,
                extract(epoch FROM now() - min(next_attempt_at)
                                   FILTER (WHERE next_attempt_at <= now()))::float8
                    AS oldest_secs
           FROM webhook_deliveries WHERE state = 'pending'",
    )
    .get_result(conn)
    .map_err(translate)?;
    let oldest = row
        .oldest_secs
        .map(|secs| Duration::from_secs_f64(secs.max(0.0)));
    Ok((row.pending, oldest))
}
