//! `message.unread_offline`: the expansion of recorded `message.created` events (those
//! recorded unexpanded because a webhook subscribes to it) into one event per member
//! of the room, the sender excepted, who has no presence session on any node, coalesced
//! to one per member and room per `coalesce`. One transaction per event.

use std::time::Duration;

use chat_app::StoreError;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Double};

use crate::prepared::Binds;
use crate::translate;

/// Any unexpanded event (the partial index `webhook_events_unexpanded_idx`), unlocked.
const PENDING: &str = "SELECT id FROM webhook_events WHERE expanded_at IS NULL LIMIT 1";

/// The next unexpanded event, locked; one another node holds is skipped.
const NEXT: &str = "
SELECT id FROM webhook_events
 WHERE expanded_at IS NULL
 ORDER BY id
 LIMIT 1
   FOR UPDATE SKIP LOCKED";

/// Expands the event `$1` (locked by [`NEXT`]) with `$2` the coalescing in seconds;
/// answers the number of events recorded.
///
/// The notice upsert only takes a member whose last notice for the room is older than
/// the coalescing window (or who has none): `ON CONFLICT … DO UPDATE … WHERE` re-checks
/// the row another node's concurrent expansion just wrote, so two nodes never both
/// notify one member.
const EXPAND: &str = "
WITH ev AS (
    SELECT e.id, e.account_id, e.room_id, e.message_id, e.user_id, r.uuid AS room_uuid
      FROM webhook_events AS e
      JOIN rooms AS r ON r.account_id = e.account_id AND r.id = e.room_id
     WHERE e.id = $1
), wh AS (
    SELECT w.id
      FROM webhooks AS w, ev
     WHERE w.account_id = ev.account_id AND w.is_active
       AND 'message.unread_offline' = ANY(w.events)
       AND (cardinality(w.room_filters) = 0 OR ev.room_uuid = ANY(w.room_filters))
), offline AS (
    SELECT rm.user_id
      FROM room_members AS rm, ev
     WHERE rm.account_id = ev.account_id AND rm.room_id = ev.room_id
       AND rm.user_id IS DISTINCT FROM ev.user_id
       AND EXISTS (SELECT 1 FROM wh)
       AND NOT EXISTS (SELECT 1 FROM presence_sessions AS p
                        WHERE p.account_id = rm.account_id AND p.user_id = rm.user_id
                          AND p.expires_at > now())
), n AS (
    INSERT INTO offline_notices AS o (account_id, room_id, user_id, last_at)
    SELECT ev.account_id, ev.room_id, offline.user_id, now() FROM ev, offline
        ON CONFLICT (room_id, user_id) DO UPDATE SET last_at = excluded.last_at
     WHERE o.last_at < now() - make_interval(secs => $2)
 RETURNING o.user_id
), e AS (
    INSERT INTO webhook_events (account_id, event, room_id, message_id, user_id, expanded_at)
    SELECT ev.account_id, 'message.unread_offline', ev.room_id, ev.message_id, n.user_id,
           now()
      FROM ev, n
 RETURNING id
), d AS (
    INSERT INTO webhook_deliveries (webhook_id, event_id, account_id)
    SELECT wh.id, e.id, ev.account_id FROM wh, e, ev
)
UPDATE webhook_events SET expanded_at = now()
 WHERE id = $1
RETURNING (SELECT count(*) FROM e) AS id";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

pub(super) fn expand(
    conn: &mut PgConnection,
    limit: i64,
    coalesce: Duration,
) -> Result<u64, StoreError> {
    let mut recorded = 0u64;
    // Most passes find nothing to expand: one statement says so, without a transaction.
    let pending: Option<Id> = Binds::new()
        .into_statement(PENDING)
        .get_result(conn)
        .optional()
        .map_err(translate)?;
    if pending.is_none() {
        return Ok(0);
    }
    for _ in 0..limit.max(0) {
        let expanded = conn
            .transaction(|conn| {
                let Some(next) = Binds::new()
                    .into_statement(NEXT)
                    .get_result::<Id>(conn)
                    .optional()?
                else {
                    return Ok(None);
                };
                let count = Binds::new()
                    .with::<BigInt, _>(next.id)
                    .with::<Double, _>(coalesce.as_secs_f64())
                    .into_statement(EXPAND)
                    .get_result::<Id>(conn)?;
                Ok::<_, DieselError>(Some(count.id))
            })
            .map_err(translate)?;
        match expanded {
            Some(count) => recorded += u64::try_from(count).unwrap_or(0),
            None => break,
        }
    }
    Ok(recorded)
}
