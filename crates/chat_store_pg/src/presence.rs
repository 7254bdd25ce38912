//! Who is online: [`PresenceStore`] on the UNLOGGED `presence_sessions` table.
//!
//! Presence queries run like every other query of the store (pooled connections, on
//! tokio's blocking threads, scoped by `account_id`). The relay that carries notices
//! between nodes is another adapter (`chat_relay_pg`).

use std::time::Duration;

use anyhow::anyhow;
use async_trait::async_trait;
use chat_app::{PresenceSession, PresenceStore, StoreError};
use chat_domain::{AccountId, RoomId, UserId};
use diesel::dsl::{count_star, now};
use diesel::pg::PgConnection;
use diesel::pg::data_types::PgInterval;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use uuid::Uuid;

use crate::schema::presence_sessions;
use crate::{PgStore, translate};

/// The longest time-to-live honoured; a longer one is cut to this (a session alive for
/// centuries would only overflow the timestamp).
const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// The seed of the hash that turns a person's place into an advisory lock key, so that
/// these keys do not line up with other users of `pg_advisory_*` ("presenc" in ASCII).
const PERSON_LOCK_SEED: i64 = 0x0070_7265_7365_6e63;

/// `ttl` as an SQL interval, at most [`MAX_TTL`].
fn interval(ttl: Duration) -> PgInterval {
    let micros = ttl.min(MAX_TTL).as_micros();
    PgInterval::from_microseconds(i64::try_from(micros).unwrap_or(i64::MAX))
}

/// Takes, until the end of the transaction, the lock of one person's place: the sessions
/// with this (account, room or account stream, user_key).
///
/// Opening and closing a session hold it while they change the row and count the live
/// ones left, so that of two sockets of one person opening at once, exactly one sees
/// itself as the first, and of the last two closing at once, exactly one sees itself as
/// the last. (Without it, two closing transactions could each still see the other's row
/// and both answer 1: nobody would report the person offline.) The lock is on a hash:
/// another place with the same hash merely takes turns with this one.
fn lock_person(
    conn: &mut PgConnection,
    account: i64,
    room: Option<i64>,
    user_key: &str,
) -> QueryResult<()> {
    // Account and room are numbers (or '-'), so the user key, last, cannot blur the parts.
    let place = match room {
        Some(room) => format!("{account}/{room}/{user_key}"),
        None => format!("{account}/-/{user_key}"),
    };
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
        .bind::<Text, _>(place)
        .bind::<BigInt, _>(PERSON_LOCK_SEED)
        .execute(conn)
        .map(drop)
}

/// How many live sessions, other than `except`, the person has at this place.
fn live_sessions(
    conn: &mut PgConnection,
    account: i64,
    room: Option<i64>,
    user_key: &str,
    except: Uuid,
) -> QueryResult<i64> {
    let query = presence_sessions::table
        .select(count_star())
        .filter(presence_sessions::account_id.eq(account))
        .filter(presence_sessions::user_key.eq(user_key))
        .filter(presence_sessions::expires_at.gt(now))
        .filter(presence_sessions::id.ne(except))
        .into_boxed();
    // Two spellings, so that both use the (account_id, room_id, user_key) index.
    let query = match room {
        Some(room) => query.filter(presence_sessions::room_id.eq(room)),
        None => query.filter(presence_sessions::room_id.is_null()),
    };
    query.get_result(conn)
}

/// A count as the port answers it.
fn to_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A new row of `presence_sessions`; `expires_at` is computed by the server.
#[derive(Insertable)]
#[diesel(table_name = presence_sessions)]
struct NewSessionRow<'a> {
    id: Uuid,
    node_id: Uuid,
    account_id: i64,
    room_id: Option<i64>,
    user_key: &'a str,
    user_id: Option<i64>,
}

/// A session's place, as `close_session` reads it before locking it.
#[derive(Queryable)]
struct Place {
    account_id: i64,
    room_id: Option<i64>,
    user_key: String,
}

#[derive(QueryableByName)]
struct UserKeyRow {
    #[diesel(sql_type = Text)]
    user_key: String,
}

/// The user keys of live room sockets, and of live account streams of the room's
/// members; sorted by bytes (`COLLATE "C"`, as Rust sorts strings), without duplicates.
const ONLINE_IN_ROOM: &str = r#"
SELECT user_key FROM (
    SELECT presence.user_key
      FROM presence_sessions presence
     WHERE presence.account_id = $1 AND presence.room_id = $2
       AND presence.expires_at > now()
    UNION
    SELECT presence.user_key
      FROM presence_sessions presence
      JOIN room_members member
        ON member.account_id = presence.account_id AND member.user_id = presence.user_id
     WHERE presence.account_id = $1 AND presence.room_id IS NULL AND member.room_id = $2
       AND presence.expires_at > now()
) online
ORDER BY user_key COLLATE "C"
"#;

#[async_trait]
impl PresenceStore for PgStore {
    /// A room or user of another account (or none) is `NotFound`. Opening an id again
    /// for the same person and place (a retry) renews it; an id already used for
    /// another session is `Unexpected`.
    async fn open_session(
        &self,
        session: PresenceSession,
        ttl: Duration,
    ) -> Result<u64, StoreError> {
        let expires = interval(ttl);
        self.with_conn(move |conn| {
            let PresenceSession {
                id,
                node,
                account,
                room,
                user_key,
                user,
            } = session;
            let room = room.map(|room| room.0);
            let (opened, others) = conn
                .transaction(|conn| {
                    lock_person(conn, account.0, room, &user_key)?;
                    let upsert = diesel::insert_into(presence_sessions::table)
                        .values((
                            NewSessionRow {
                                id,
                                node_id: node,
                                account_id: account.0,
                                room_id: room,
                                user_key: &user_key,
                                user_id: user.map(|user| user.0),
                            },
                            presence_sessions::expires_at
                                .eq(now.into_sql::<Timestamptz>() + expires),
                        ))
                        .on_conflict(presence_sessions::id)
                        .do_update()
                        .set((
                            presence_sessions::node_id.eq(node),
                            presence_sessions::expires_at
                                .eq(now.into_sql::<Timestamptz>() + expires),
                        ));
                    // Only the same session again (a retry whose first try committed) is
                    // renewed; an id of another session inserts and updates nothing.
                    let same_session = presence_sessions::account_id
                        .eq(account.0)
                        .and(presence_sessions::room_id.is_not_distinct_from(room))
                        .and(presence_sessions::user_key.eq(&user_key))
                        .and(
                            presence_sessions::user_id
                                .is_not_distinct_from(user.map(|user| user.0)),
                        );
                    // (`InsertStatement` has `filter` from `FilterDsl` only, not `QueryDsl`.)
                    let opened =
                        diesel::query_dsl::methods::FilterDsl::filter(upsert, same_session)
                            .returning(presence_sessions::id)
                            .get_result::<Uuid>(conn)
                            .optional()?;
                    let others = live_sessions(conn, account.0, room, &user_key, id)?;
                    Ok::<_, diesel::result::Error>((opened.is_some(), others))
                })
                .map_err(translate)?;
            if !opened {
                return Err(StoreError::Unexpected(anyhow!(
                    "presence session {id} already names another session"
                )));
            }
            Ok(to_count(others).saturating_add(1))
        })
        .await
    }

    async fn close_session(&self, id: Uuid) -> Result<u64, StoreError> {
        self.with_conn(move |conn| {
            conn.transaction(|conn| {
                let place: Option<Place> = presence_sessions::table
                    .filter(presence_sessions::id.eq(id))
                    .select((
                        presence_sessions::account_id,
                        presence_sessions::room_id,
                        presence_sessions::user_key,
                    ))
                    .first(conn)
                    .optional()?;
                let Some(place) = place else {
                    return Ok(0);
                };
                lock_person(conn, place.account_id, place.room_id, &place.user_key)?;
                diesel::delete(
                    presence_sessions::table
                        .filter(presence_sessions::id.eq(id))
                        .filter(presence_sessions::account_id.eq(place.account_id)),
                )
                .execute(conn)?;
                // A statement after the lock: sees what the lock's previous holders
                // committed.
                live_sessions(conn, place.account_id, place.room_id, &place.user_key, id)
            })
            .map(to_count)
            .map_err(translate)
        })
        .await
    }

    async fn heartbeat(&self, node: Uuid, ttl: Duration) -> Result<(), StoreError> {
        let expires = interval(ttl);
        self.with_conn(move |conn| {
            // Renews every session of the node, those that expired while its heartbeat
            // was late included: their sockets are still open.
            diesel::update(presence_sessions::table.filter(presence_sessions::node_id.eq(node)))
                .set(presence_sessions::expires_at.eq(now.into_sql::<Timestamptz>() + expires))
                .execute(conn)
                .map_err(translate)?;
            // What nobody renewed in time: the sessions of nodes that died.
            diesel::delete(presence_sessions::table.filter(presence_sessions::expires_at.le(now)))
                .execute(conn)
                .map_err(translate)?;
            Ok(())
        })
        .await
    }

    async fn online_in_room(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<String>, StoreError> {
        self.with_conn(move |conn| {
            let rows: Vec<UserKeyRow> = diesel::sql_query(ONLINE_IN_ROOM)
                .bind::<BigInt, _>(account.0)
                .bind::<BigInt, _>(room.0)
                .load(conn)
                .map_err(translate)?;
            Ok(rows.into_iter().map(|row| row.user_key).collect())
        })
        .await
    }

    /// In the order of `users`; a user given twice comes back once.
    async fn online_users(
        &self,
        account: AccountId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = users.iter().map(|user| user.0).collect();
        self.with_conn(move |conn| {
            // The (account_id, user_id) index.
            let online: Vec<Option<i64>> = presence_sessions::table
                .filter(presence_sessions::account_id.eq(account.0))
                .filter(presence_sessions::user_id.eq_any(wanted))
                .filter(presence_sessions::expires_at.gt(now))
                .select(presence_sessions::user_id)
                .distinct()
                .load(conn)
                .map_err(translate)?;
            let mut online: std::collections::HashSet<i64> = online.into_iter().flatten().collect();
            Ok(users
                .into_iter()
                .filter(|user| online.remove(&user.0))
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_ttls_become_intervals_within_range() {
        assert_eq!(
            interval(Duration::from_millis(1500)),
            PgInterval::from_microseconds(1_500_000)
        );
        assert_eq!(interval(Duration::MAX), interval(MAX_TTL));
    }
}
