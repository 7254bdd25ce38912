//! Live delivery over PostgreSQL: who is online ([`PresenceStore`] on the UNLOGGED
//! `presence_sessions` table), and [`PgRelay`], the [`EventRelay`] that carries notices
//! between server nodes with `LISTEN/NOTIFY`.
//!
//! Presence queries run like every other query of the store (pooled connections, on
//! tokio's blocking threads, scoped by `account_id`). The relay has connections of its
//! own, on threads of its own: a listening connection is held for as long as the relay
//! listens, and sending must never wait for a pooled connection.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use chat_app::{
    EventRelay, MessageChange, Notice, PresenceChange, PresenceSession, PresenceStore, RelayInbox,
    RoomChange, StoreError, Typing,
};
use chat_domain::{AccountId, MessageId, RoomId, Seq, UserId};
use diesel::dsl::{count_star, now};
use diesel::pg::data_types::PgInterval;
use diesel::pg::{PgConnection, PgNotification};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::presence_sessions;
use crate::{PgStore, translate};

// ---------------------------------------------------------------------------------------
// Presence
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Notices on the wire
// ---------------------------------------------------------------------------------------

/// The notification channel every node listens on.
const CHANNEL: &str = "chat_events";

/// PostgreSQL refuses a notification payload of 8000 bytes or more (the default
/// `BLCKSZ`); anything longer is refused here, before it is sent.
const MAX_PAYLOAD_BYTES: usize = 7999;

/// A notice as it travels: the sending node, and the notice's every field. Compact JSON
/// (`{"node":"…","kind":"message_created","account":1,"room":2,"seq":3}`); fields a
/// later version adds are ignored by an earlier one.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    node: Uuid,
    #[serde(flatten)]
    notice: WireNotice,
}

/// [`Notice`] with plain values. The conversions both ways match every variant without a
/// wildcard: a new `Notice` variant does not compile until it has its wire form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum WireNotice {
    MessageCreated {
        account: i64,
        room: i64,
        seq: i64,
    },
    MessageChanged {
        account: i64,
        message: i64,
        change: WireMessageChange,
    },
    RoomChanged {
        account: i64,
        room: i64,
        change: WireRoomChange,
    },
    RoomDeleted {
        account: i64,
        room: i64,
        uuid: Uuid,
    },
    Membership {
        account: i64,
        room: i64,
        user: i64,
        joined: bool,
    },
    Read {
        account: i64,
        room: i64,
        user: i64,
        seq: i64,
    },
    Typing {
        account: i64,
        room: i64,
        room_uuid: Uuid,
        user_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<i64>,
        user_name: String,
        is_typing: bool,
    },
    Presence {
        account: i64,
        room: i64,
        room_uuid: Uuid,
        user_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<i64>,
        online: bool,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireMessageChange {
    Updated,
    Deleted,
    Restored,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireRoomChange {
    Created,
    Updated,
    Activated,
    Deactivated,
}

impl From<&Notice> for WireNotice {
    fn from(notice: &Notice) -> Self {
        match notice {
            Notice::MessageCreated { account, room, seq } => WireNotice::MessageCreated {
                account: account.0,
                room: room.0,
                seq: seq.0,
            },
            Notice::MessageChanged {
                account,
                message,
                change,
            } => WireNotice::MessageChanged {
                account: account.0,
                message: message.0,
                change: match change {
                    MessageChange::Updated => WireMessageChange::Updated,
                    MessageChange::Deleted => WireMessageChange::Deleted,
                    MessageChange::Restored => WireMessageChange::Restored,
                },
            },
            Notice::RoomChanged {
                account,
                room,
                change,
            } => WireNotice::RoomChanged {
                account: account.0,
                room: room.0,
                change: match change {
                    RoomChange::Created => WireRoomChange::Created,
                    RoomChange::Updated => WireRoomChange::Updated,
                    RoomChange::Activated => WireRoomChange::Activated,
                    RoomChange::Deactivated => WireRoomChange::Deactivated,
                },
            },
            Notice::RoomDeleted {
                account,
                room,
                uuid,
            } => WireNotice::RoomDeleted {
                account: account.0,
                room: room.0,
                uuid: *uuid,
            },
            Notice::Membership {
                account,
                room,
                user,
                joined,
            } => WireNotice::Membership {
                account: account.0,
                room: room.0,
                user: user.0,
                joined: *joined,
            },
            Notice::Read {
                account,
                room,
                user,
                seq,
            } => WireNotice::Read {
                account: account.0,
                room: room.0,
                user: user.0,
                seq: seq.0,
            },
            Notice::Typing(Typing {
                account,
                room,
                room_uuid,
                user_key,
                user,
                user_name,
                is_typing,
            }) => WireNotice::Typing {
                account: account.0,
                room: room.0,
                room_uuid: *room_uuid,
                user_key: user_key.clone(),
                user: user.map(|user| user.0),
                user_name: user_name.clone(),
                is_typing: *is_typing,
            },
            Notice::Presence(PresenceChange {
                account,
                room,
                room_uuid,
                user_key,
                user,
                online,
            }) => WireNotice::Presence {
                account: account.0,
                room: room.0,
                room_uuid: *room_uuid,
                user_key: user_key.clone(),
                user: user.map(|user| user.0),
                online: *online,
            },
        }
    }
}

impl From<WireNotice> for Notice {
    fn from(wire: WireNotice) -> Self {
        match wire {
            WireNotice::MessageCreated { account, room, seq } => Notice::MessageCreated {
                account: AccountId(account),
                room: RoomId(room),
                seq: Seq(seq),
            },
            WireNotice::MessageChanged {
                account,
                message,
                change,
            } => Notice::MessageChanged {
                account: AccountId(account),
                message: MessageId(message),
                change: match change {
                    WireMessageChange::Updated => MessageChange::Updated,
                    WireMessageChange::Deleted => MessageChange::Deleted,
                    WireMessageChange::Restored => MessageChange::Restored,
                },
            },
            WireNotice::RoomChanged {
                account,
                room,
                change,
            } => Notice::RoomChanged {
                account: AccountId(account),
                room: RoomId(room),
                change: match change {
                    WireRoomChange::Created => RoomChange::Created,
                    WireRoomChange::Updated => RoomChange::Updated,
                    WireRoomChange::Activated => RoomChange::Activated,
                    WireRoomChange::Deactivated => RoomChange::Deactivated,
                },
            },
            WireNotice::RoomDeleted {
                account,
                room,
                uuid,
            } => Notice::RoomDeleted {
                account: AccountId(account),
                room: RoomId(room),
                uuid,
            },
            WireNotice::Membership {
                account,
                room,
                user,
                joined,
            } => Notice::Membership {
                account: AccountId(account),
                room: RoomId(room),
                user: UserId(user),
                joined,
            },
            WireNotice::Read {
                account,
                room,
                user,
                seq,
            } => Notice::Read {
                account: AccountId(account),
                room: RoomId(room),
                user: UserId(user),
                seq: Seq(seq),
            },
            WireNotice::Typing {
                account,
                room,
                room_uuid,
                user_key,
                user,
                user_name,
                is_typing,
            } => Notice::Typing(Typing {
                account: AccountId(account),
                room: RoomId(room),
                room_uuid,
                user_key,
                user: user.map(UserId),
                user_name,
                is_typing,
            }),
            WireNotice::Presence {
                account,
                room,
                room_uuid,
                user_key,
                user,
                online,
            } => Notice::Presence(PresenceChange {
                account: AccountId(account),
                room: RoomId(room),
                room_uuid,
                user_key,
                user: user.map(UserId),
                online,
            }),
        }
    }
}

/// The notification payload that carries `notice` from `node`: compact JSON of the node
/// and every field of the notice. Errors when it would not fit a PostgreSQL notification
/// (8000 bytes or more: a typing signal with an enormous name, say).
pub fn encode_notice(node: Uuid, notice: &Notice) -> anyhow::Result<String> {
    let payload = serde_json::to_string(&Envelope {
        node,
        notice: WireNotice::from(notice),
    })
    .context("cannot encode a notice")?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        anyhow::bail!(
            "a notice of {} bytes does not fit a notification (at most {MAX_PAYLOAD_BYTES})",
            payload.len()
        );
    }
    Ok(payload)
}

/// The sending node and the notice of a payload [`encode_notice`] wrote; `None` for
/// anything else (never a panic).
pub fn decode_notice(payload: &str) -> Option<(Uuid, Notice)> {
    let envelope: Envelope = serde_json::from_str(payload).ok()?;
    Some((envelope.node, Notice::from(envelope.notice)))
}

// ---------------------------------------------------------------------------------------
// The relay
// ---------------------------------------------------------------------------------------

/// The `application_name` of the listening connection (find it in `pg_stat_activity`).
const LISTEN_APPLICATION: &str = "chat-relay-listen";

/// The `application_name` of the sending connection.
const SEND_APPLICATION: &str = "chat-relay-send";

/// Notices waiting for the sending thread; past this, [`PgRelay::relay`] drops them.
const QUEUE_CAPACITY: usize = 1024;

/// How long a relay thread waits at most before looking at the stop flag again.
const TICK: Duration = Duration::from_millis(50);

/// How often an idle listening connection is asked `SELECT 1`, to find out that it has
/// died without the socket saying so.
const PROBE_EVERY: Duration = Duration::from_secs(10);

/// How long [`PgRelay::stop`] waits for its threads to finish before leaving them to
/// finish on their own (a thread stuck in a connection attempt).
const STOP_WAIT: Duration = Duration::from_secs(2);

/// The pauses between attempts to reach the database: 100 ms, doubling up to 2 s.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MOST: Duration = Duration::from_secs(2);

    fn new() -> Self {
        Self { next: Self::FIRST }
    }

    fn next(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(Self::MOST);
        pause
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// What the relay's threads share with it.
#[derive(Debug, Default)]
struct Shared {
    stopped: AtomicBool,
    /// Whether notices are being dropped because the queue is full (logged once per
    /// episode), and how many were.
    overflowing: AtomicBool,
    dropped: AtomicU64,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Sleeps `pause`, waking up to look at the stop flag; false when stopped.
    fn pause(&self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        loop {
            if self.stopped() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(TICK));
        }
    }
}

/// Carries [`Notice`]s between server nodes over PostgreSQL `LISTEN/NOTIFY` on channel
/// `chat_events`, on connections (and threads) of its own.
///
/// [`relay`](EventRelay::relay) hands the notice to a sending thread through a bounded
/// queue and returns at once; that thread runs `pg_notify` on its own connection and
/// reconnects when it fails. [`listen`](PgRelay::listen) starts a thread that holds a
/// listening connection and hands what other nodes send to a [`RelayInbox`]; when that
/// connection is lost it reconnects and calls [`RelayInbox::resync`], as notifications
/// sent meanwhile are lost.
pub struct PgRelay {
    node: Uuid,
    listen_url: String,
    shared: Arc<Shared>,
    queue: SyncSender<String>,
    listening: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for PgRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URLs: they may carry a password.
        f.debug_struct("PgRelay")
            .field("node", &self.node)
            .field("listening", &self.listening.load(Ordering::Relaxed))
            .field("stopped", &self.shared.stopped())
            .finish_non_exhaustive()
    }
}

impl PgRelay {
    /// A relay for this node over `database_url` (its own connections, not the pool's).
    /// Sends nothing yet: the sending thread starts now, and connects with the first
    /// notice.
    pub fn new(database_url: &str, node: Uuid) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::default());
        let (queue, notices) = mpsc::sync_channel(QUEUE_CAPACITY);
        let sender = Sender {
            url: with_application_name(database_url, SEND_APPLICATION),
            shared: shared.clone(),
            conn: None,
            backoff: Backoff::new(),
        };
        let handle = thread::Builder::new()
            .name("chat-relay-send".to_owned())
            .spawn(move || sender.run(&notices))
            .context("cannot start the relay's sending thread")?;
        Ok(Self {
            node,
            listen_url: with_application_name(database_url, LISTEN_APPLICATION),
            shared,
            queue,
            listening: AtomicBool::new(false),
            threads: Mutex::new(vec![handle]),
        })
    }

    /// Starts listening on channel `chat_events` on a dedicated thread; notices sent by
    /// OTHER nodes are handed to `inbox.received`. After the listening connection is
    /// lost and established again, `inbox.resync()` is called (notifications sent
    /// meanwhile are lost). Polls for notifications every `poll` (5 ms is the intended
    /// value).
    ///
    /// The first connection is attempted here: when it succeeds, notices sent after this
    /// returns are received. When it fails, this still succeeds; the thread keeps trying
    /// (100 ms, doubling up to 2 s) and calls `inbox.resync()` once it listens.
    ///
    /// Errors when the relay already listens or was stopped, or when the thread cannot
    /// be started.
    pub fn listen(&self, inbox: Arc<dyn RelayInbox>, poll: Duration) -> anyhow::Result<()> {
        if self.shared.stopped() {
            anyhow::bail!("the relay was stopped");
        }
        if self.listening.swap(true, Ordering::AcqRel) {
            anyhow::bail!("the relay already listens");
        }
        let conn = match connect_listening(&self.listen_url) {
            Ok(conn) => Some(conn),
            Err(error) => {
                tracing::warn!(
                    error = %format!("{error:#}"),
                    "relay: cannot listen yet; retrying in the background"
                );
                None
            }
        };
        let listener = Listener {
            url: self.listen_url.clone(),
            node: self.node,
            inbox,
            // A zero poll would spin.
            poll: poll.max(Duration::from_millis(1)),
            shared: self.shared.clone(),
        };
        let spawned = thread::Builder::new()
            .name("chat-relay-listen".to_owned())
            .spawn(move || listener.run(conn));
        match spawned {
            Ok(handle) => {
                self.threads
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(handle);
                Ok(())
            }
            Err(error) => {
                self.listening.store(false, Ordering::Release);
                Err(anyhow!(error).context("cannot start the relay's listening thread"))
            }
        }
    }

    /// Stops the threads (also on Drop): they close their connections and end. Waits a
    /// moment for them (at most 2 s; a thread in the middle of connecting ends when that
    /// attempt does). Notices still queued are not sent; later ones are dropped.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::Release);
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        let until = Instant::now() + STOP_WAIT;
        let me = thread::current().id();
        for handle in threads {
            // Called from an inbox, on the listening thread itself: it ends on return.
            if handle.thread().id() == me {
                continue;
            }
            while !handle.is_finished() && Instant::now() < until {
                thread::sleep(Duration::from_millis(2));
            }
            if handle.is_finished() && handle.join().is_err() {
                tracing::error!("relay: a relay thread panicked");
            }
        }
    }
}

impl Drop for PgRelay {
    fn drop(&mut self) {
        self.stop();
    }
}

impl EventRelay for PgRelay {
    /// Never blocks: encodes the notice and queues it for the sending thread. A notice
    /// too large for a notification, or one that finds the queue full (the database
    /// slow or away), is logged and dropped.
    fn relay(&self, notice: Notice) {
        if self.shared.stopped() {
            tracing::debug!(?notice, "relay: stopped; notice dropped");
            return;
        }
        let payload = match encode_notice(self.node, &notice) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "relay: notice dropped");
                return;
            }
        };
        match self.queue.try_send(payload) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                if !self.shared.overflowing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        capacity = QUEUE_CAPACITY,
                        "relay: the queue of notices to send is full; dropping notices until it drains"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::warn!("relay: the sending thread has ended; notice dropped");
            }
        }
    }
}

/// The sending thread.
struct Sender {
    url: String,
    shared: Arc<Shared>,
    conn: Option<PgConnection>,
    backoff: Backoff,
}

impl Sender {
    fn run(mut self, notices: &Receiver<String>) {
        while !self.shared.stopped() {
            match notices.recv_timeout(TICK) {
                Ok(payload) => self.send(&payload),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    /// Sends one payload; when that fails, reconnects and tries once more, then drops it.
    /// (A notification whose failure was only reported after it was sent may go twice;
    /// notices say what to read again, so that does no harm.)
    fn send(&mut self, payload: &str) {
        for attempt in 1..=2 {
            let Some(conn) = self.connection() else {
                return;
            };
            let sent = diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(payload)
                .execute(conn);
            match sent {
                Ok(_) => {
                    self.backoff.reset();
                    if self.shared.overflowing.swap(false, Ordering::AcqRel) {
                        tracing::warn!(
                            dropped = self.shared.dropped.swap(0, Ordering::Relaxed),
                            "relay: the queue of notices to send drained"
                        );
                    }
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, "relay: cannot send a notice; reconnecting");
                    self.conn = None;
                }
            }
        }
        tracing::warn!("relay: notice dropped after two failed attempts");
    }

    /// The sending connection, connecting (with backoff) when there is none; `None` when
    /// the relay is stopped meanwhile.
    fn connection(&mut self) -> Option<&mut PgConnection> {
        while self.conn.is_none() {
            if self.shared.stopped() {
                return None;
            }
            match PgConnection::establish(&self.url) {
                Ok(conn) => self.conn = Some(conn),
                Err(error) => {
                    tracing::warn!(%error, "relay: cannot connect to send notices");
                    if !self.shared.pause(self.backoff.next()) {
                        return None;
                    }
                }
            }
        }
        self.conn.as_mut()
    }
}

/// A connection that listens on [`CHANNEL`].
fn connect_listening(url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::establish(url).context("cannot connect to listen")?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .context("LISTEN failed")?;
    Ok(conn)
}

/// The listening thread.
struct Listener {
    url: String,
    node: Uuid,
    inbox: Arc<dyn RelayInbox>,
    poll: Duration,
    shared: Arc<Shared>,
}

impl Listener {
    /// Listens until stopped: over `first` if `listen` could connect, then over every
    /// connection made after one is lost, calling `resync` on each of those.
    fn run(self, first: Option<PgConnection>) {
        let mut backoff = Backoff::new();
        // Notices sent before the first connection listens are missed too.
        let mut missed = first.is_none();
        let mut conn = first;
        loop {
            let mut listening = match conn.take() {
                Some(listening) => listening,
                None => {
                    if !self.shared.pause(backoff.next()) {
                        return;
                    }
                    match connect_listening(&self.url) {
                        Ok(listening) => {
                            tracing::info!("relay: listening again");
                            listening
                        }
                        Err(error) => {
                            tracing::warn!(error = %format!("{error:#}"), "relay: cannot listen");
                            continue;
                        }
                    }
                }
            };
            backoff.reset();
            if missed {
                self.deliver(|inbox| inbox.resync());
            }
            missed = true;
            match self.pump(&mut listening) {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "relay: the listening connection was lost; reconnecting");
                }
            }
        }
    }

    /// Hands notifications to the inbox until stopped (`Ok`) or the connection fails.
    fn pump(&self, conn: &mut PgConnection) -> QueryResult<()> {
        let mut checked = Instant::now();
        while !self.shared.stopped() {
            // Non-blocking: reads what the socket holds (PQconsumeInput), then takes one
            // notification if there is one.
            let next = conn.notifications_iter().next();
            match next {
                Some(Ok(notification)) => {
                    checked = Instant::now();
                    self.received(notification);
                }
                Some(Err(error)) => return Err(error),
                None => {
                    if checked.elapsed() >= PROBE_EVERY {
                        diesel::sql_query("SELECT 1").execute(conn)?;
                        checked = Instant::now();
                    }
                    self.shared.pause(self.poll);
                }
            }
        }
        Ok(())
    }

    fn received(&self, notification: PgNotification) {
        if notification.channel != CHANNEL {
            return;
        }
        match decode_notice(&notification.payload) {
            // LISTEN also hears this node's own notifications.
            Some((node, _)) if node == self.node => {}
            Some((_, notice)) => self.deliver(move |inbox| inbox.received(notice)),
            None => {
                let start: String = notification.payload.chars().take(200).collect();
                tracing::warn!(
                    payload = %start,
                    sender_pid = notification.process_id,
                    "relay: skipped a notification that is not a notice"
                );
            }
        }
    }

    /// Calls the inbox; a panic there is logged, and does not end the listening thread.
    fn deliver(&self, call: impl FnOnce(&dyn RelayInbox)) {
        let inbox = self.inbox.as_ref();
        if catch_unwind(AssertUnwindSafe(|| call(inbox))).is_err() {
            tracing::error!("relay: the inbox panicked");
        }
    }
}

/// `url` with `application_name` set to `name` (a later setting wins in libpq, so this
/// overrides one the URL has). Handles URIs (`postgres://…`) and keyword/value strings.
fn with_application_name(url: &str, name: &str) -> String {
    let is_uri = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !is_uri {
        return format!("{url} application_name={name}");
    }
    let (head, fragment) = url.split_at(url.find('#').unwrap_or(url.len()));
    let separator = if head.contains('?') { '&' } else { '?' };
    format!("{head}{separator}application_name={name}{fragment}")
}

#[cfg(test)]
// Tests stop at the first surprise, with the reason.
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn every_notice() -> Vec<Notice> {
        let account = AccountId(7);
        let room = RoomId(42);
        let room_uuid = Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
        let mut notices = vec![
            Notice::MessageCreated {
                account,
                room,
                seq: Seq(9_007_199_254_740_993),
            },
            Notice::RoomDeleted {
                account,
                room,
                uuid: room_uuid,
            },
            Notice::Membership {
                account,
                room,
                user: UserId(3),
                joined: true,
            },
            Notice::Membership {
                account,
                room,
                user: UserId(3),
                joined: false,
            },
            Notice::Read {
                account,
                room,
                user: UserId(i64::MAX),
                seq: Seq(0),
            },
            Notice::Typing(Typing {
                account,
                room,
                room_uuid,
                user_key: "user_123 \"quoted\" \\ été 🎉".to_owned(),
                user: Some(UserId(5)),
                user_name: "Ada\nLovelace".to_owned(),
                is_typing: true,
            }),
            Notice::Typing(Typing {
                account,
                room,
                room_uuid,
                user_key: "u".to_owned(),
                user: None,
                user_name: String::new(),
                is_typing: false,
            }),
            Notice::Presence(PresenceChange {
                account,
                room,
                room_uuid,
                user_key: "user_123".to_owned(),
                user: Some(UserId(5)),
                online: true,
            }),
            Notice::Presence(PresenceChange {
                account,
                room,
                room_uuid,
                user_key: "user_123".to_owned(),
                user: None,
                online: false,
            }),
        ];
        for change in [
            MessageChange::Updated,
            MessageChange::Deleted,
            MessageChange::Restored,
        ] {
            notices.push(Notice::MessageChanged {
                account,
                message: MessageId(-1),
                change,
            });
        }
        for change in [
            RoomChange::Created,
            RoomChange::Updated,
            RoomChange::Activated,
            RoomChange::Deactivated,
        ] {
            notices.push(Notice::RoomChanged {
                account,
                room,
                change,
            });
        }
        notices
    }

    #[test]
    fn every_relay_notice_survives_encoding_and_decoding() {
        let node = Uuid::new_v4();
        for notice in every_notice() {
            let payload = encode_notice(node, &notice).expect("encodes");
            assert!(payload.len() <= MAX_PAYLOAD_BYTES, "{payload}");
            assert!(!payload.contains('\n'), "compact: {payload}");
            assert_eq!(decode_notice(&payload), Some((node, notice)), "{payload}");
        }
    }

    #[test]
    fn relay_payloads_are_compact_json_naming_the_node_and_the_fields() {
        let node = Uuid::nil();
        let payload = encode_notice(
            node,
            &Notice::MessageCreated {
                account: AccountId(1),
                room: RoomId(2),
                seq: Seq(3),
            },
        )
        .expect("encodes");
        assert_eq!(
            payload,
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":1,"room":2,"seq":3}"#
        );
        // Fields a later version adds are ignored.
        let later = r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"read","account":1,"room":2,"user":5,"seq":3,"extra":[1]}"#;
        assert_eq!(
            decode_notice(later),
            Some((
                node,
                Notice::Read {
                    account: AccountId(1),
                    room: RoomId(2),
                    user: UserId(5),
                    seq: Seq(3)
                }
            ))
        );
    }

    #[test]
    fn relay_payloads_that_are_not_notices_decode_to_none() {
        for garbage in [
            "",
            "garbage",
            "{}",
            "null",
            "[]",
            r#"{"node":"not-a-uuid","kind":"message_created","account":1,"room":2,"seq":3}"#,
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"unknown"}"#,
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":1,"room":2}"#,
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":"1","room":2,"seq":3}"#,
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":1e30,"room":2,"seq":3}"#,
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_changed","account":1,"message":2,"change":"exploded"}"#,
            r#"{"kind":"message_created","account":1,"room":2,"seq":3}"#,
            "{\"node\":",
        ] {
            assert_eq!(decode_notice(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn relay_refuses_notices_too_large_for_a_notification() {
        let typing = |name_len: usize| {
            Notice::Typing(Typing {
                account: AccountId(1),
                room: RoomId(2),
                room_uuid: Uuid::nil(),
                user_key: "k".to_owned(),
                user: None,
                user_name: "n".repeat(name_len),
                is_typing: true,
            })
        };
        assert!(encode_notice(Uuid::nil(), &typing(7000)).is_ok());
        assert!(encode_notice(Uuid::nil(), &typing(8000)).is_err());
        // The largest that fits is 7999 bytes.
        let base = encode_notice(Uuid::nil(), &typing(0))
            .expect("encodes")
            .len();
        let fits = encode_notice(Uuid::nil(), &typing(7999 - base)).expect("fits");
        assert_eq!(fits.len(), 7999);
        assert!(encode_notice(Uuid::nil(), &typing(8000 - base)).is_err());
    }

    #[test]
    fn relay_backoff_doubles_from_100_ms_up_to_2_s() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u128> = (0..7).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 2000, 2000]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(100));
    }

    #[test]
    fn relay_connections_name_their_application() {
        assert_eq!(
            with_application_name("postgres://u:p@h:5432/db", "x"),
            "postgres://u:p@h:5432/db?application_name=x"
        );
        assert_eq!(
            with_application_name("postgresql://h/db?sslmode=disable#f", "x"),
            "postgresql://h/db?sslmode=disable&application_name=x#f"
        );
        assert_eq!(
            with_application_name("host=h dbname=db", "x"),
            "host=h dbname=db application_name=x"
        );
    }

    #[test]
    fn presence_ttls_become_intervals_within_range() {
        assert_eq!(
            interval(Duration::from_millis(1500)),
            PgInterval::from_microseconds(1_500_000)
        );
        assert_eq!(interval(Duration::MAX), interval(MAX_TTL));
    }

    #[test]
    fn relay_debug_output_hides_the_url() {
        let relay = PgRelay::new("postgres://user:hunter2@127.0.0.1:1/db", Uuid::nil())
            .expect("relay built");
        let printed = format!("{relay:?}");
        assert!(printed.contains("PgRelay"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
