//! [`RedisPresence`]: the `PresenceStore` port in Redis, with the semantics of
//! PostgreSQL's (`chat_store_pg`'s `presence_sessions`): sessions live for a time-to-live
//! that their node's heartbeat renews, so a node that dies (even by SIGKILL) takes its
//! users offline within that time; counts per person per place; who is online in a room.
//!
//! Redis holds no memberships: a user's stream of all their rooms counts in a room while
//! the user is a member of it, and which of the streams' users are members is asked of
//! the [`RoomStore`] (`members_among`, one query) at the time of asking, as PostgreSQL's
//! store joins `room_members` then. Recording a stream once per room at open time would
//! miss the rooms joined or left while it is open.
//!
//! What PostgreSQL's foreign keys add is not here: a session naming a room or a user of
//! another account is recorded, not refused (the live use cases only open sessions for
//! the connection's own account, room and user), and sessions do not go with a deleted
//! room or user (their sockets close, or their node stops renewing them).

mod scripts;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use async_trait::async_trait;
use chat_app::{PresenceSession, PresenceStore, RoomStore, StoreError};
use chat_domain::{AccountId, RoomId, UserId};
use redis::aio::ConnectionManager;
use uuid::Uuid;

use self::scripts::Scripts;
use crate::{DEFAULT_PREFIX, connect, millis_up, store_error};

/// The longest time-to-live honoured; a longer one is cut to this (as PostgreSQL's store
/// does: a session alive for centuries is a mistake, not a wish).
const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// Sessions a heartbeat renews, or sweeps, per script: Redis serves nobody else while a
/// script runs, so a node of many sockets renews them in steps of this many.
const BATCH: usize = 500;

/// The longest user key (the ChatAPI `user_id`), in characters, as PostgreSQL's table
/// checks it.
const MAX_USER_KEY_CHARS: usize = 255;

/// The length of a session id in index entries (a hyphenated UUID).
const UUID_LEN: usize = 36;

/// Who has a socket open, across every node, in Redis (key layout in the crate docs).
/// Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct RedisPresence {
    conn: ConnectionManager,
    prefix: String,
    members: Arc<dyn RoomStore>,
    scripts: Arc<Scripts>,
}

impl fmt::Debug for RedisPresence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPresence")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisPresence {
    /// Presence in the Redis at `url` (connected now, see [`connect`]), asking `members`
    /// which users of live streams belong to a room.
    pub async fn connect(url: &str, members: Arc<dyn RoomStore>) -> anyhow::Result<Self> {
        Ok(Self::new(connect(url).await?, members))
    }

    /// Presence over an existing connection (one can serve [`crate::RedisAllowances`]
    /// too), with keys under [`DEFAULT_PREFIX`].
    pub fn new(conn: ConnectionManager, members: Arc<dyn RoomStore>) -> Self {
        Self {
            conn,
            prefix: DEFAULT_PREFIX.to_owned(),
            members,
            scripts: Arc::new(Scripts::new()),
        }
    }

    /// The same presence with every key under `prefix` instead: deployments sharing one
    /// Redis, and tests, keep apart. Every node of a deployment must use the same.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
}

/// Refuses what PostgreSQL's table refuses: an empty user key, or one past 255
/// characters.
fn check_user_key(key: &str) -> Result<(), StoreError> {
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_USER_KEY_CHARS {
        return Err(StoreError::Unexpected(anyhow!(
            "a presence user key has 1 to {MAX_USER_KEY_CHARS} characters, not {chars}"
        )));
    }
    Ok(())
}

/// What follows the session id and its colon in an index entry.
fn after_id(entry: &str) -> Option<&str> {
    let (_, rest) = entry.split_at_checked(UUID_LEN)?;
    rest.strip_prefix(':')
}

/// The user key of a room socket's entry, `{id}:{key}`.
fn room_entry(entry: &str) -> Result<&str, StoreError> {
    after_id(entry)
        .filter(|key| !key.is_empty())
        .ok_or_else(|| malformed(entry))
}

/// The user and user key of a stream's entry, `{id}:{user}:{key}` (the user is a number,
/// so the key, last, may hold colons).
fn stream_entry(entry: &str) -> Result<(UserId, &str), StoreError> {
    after_id(entry)
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(user, key)| Some((UserId(user.parse().ok()?), key)))
        .filter(|(_, key)| !key.is_empty())
        .ok_or_else(|| malformed(entry))
}

fn malformed(entry: &str) -> StoreError {
    StoreError::Unexpected(anyhow!("a malformed presence entry in Redis: {entry:?}"))
}

/// A count as the port answers it.
fn to_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl PresenceStore for RedisPresence {
    /// Opening an id again for the same person and place (a retry) renews it (and moves
    /// it to `node`); an id already used for another session is `Unexpected`, as is an
    /// empty user key. Rooms and users are not checked against the account (see the
    /// module docs).
    async fn open_session(
        &self,
        session: PresenceSession,
        ttl: Duration,
    ) -> Result<u64, StoreError> {
        let PresenceSession {
            id,
            node,
            account,
            room,
            user_key,
            user,
        } = session;
        check_user_key(&user_key)?;
        let mut conn = self.conn.clone();
        let live: i64 = self
            .scripts
            .open
            .arg(&self.prefix)
            .arg(id.to_string())
            .arg(node.to_string())
            .arg(account.0)
            .arg(room.map(|room| room.0.to_string()).unwrap_or_default())
            .arg(&user_key)
            .arg(user.map(|user| user.0.to_string()).unwrap_or_default())
            .arg(millis_up(ttl, MAX_TTL))
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)?;
        if live < 0 {
            return Err(StoreError::Unexpected(anyhow!(
                "presence session {id} already names another session"
            )));
        }
        Ok(to_count(live))
    }

    async fn close_session(&self, id: Uuid) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let left: i64 = self
            .scripts
            .close
            .arg(&self.prefix)
            .arg(id.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)?;
        Ok(to_count(left))
    }

    /// In steps of 500 sessions (`BATCH`): first this node's (renewed, those that expired
    /// while its heartbeat was late included), then the expired ones of any node
    /// (forgotten).
    async fn heartbeat(&self, node: Uuid, ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let node = node.to_string();
        let ttl = millis_up(ttl, MAX_TTL);
        let mut cursor = String::from("0");
        loop {
            cursor = self
                .scripts
                .renew
                .arg(&self.prefix)
                .arg(&node)
                .arg(ttl)
                .arg(&cursor)
                .arg(BATCH)
                .invoke_async(&mut conn)
                .await
                .map_err(store_error)?;
            if cursor == "0" {
                break;
            }
        }
        loop {
            let swept: usize = self
                .scripts
                .sweep
                .arg(&self.prefix)
                .arg(BATCH)
                .invoke_async(&mut conn)
                .await
                .map_err(store_error)?;
            if swept < BATCH {
                return Ok(());
            }
        }
    }

    /// The user keys of live room sockets, and of live streams whose users the
    /// [`RoomStore`] says are members (asked only when there are such streams); sorted
    /// by bytes, without duplicates.
    async fn online_in_room(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let (sockets, streams): (Vec<String>, Vec<String>) = self
            .scripts
            .online_in_room
            .arg(&self.prefix)
            .arg(account.0)
            .arg(room.0)
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)?;
        let mut online = sockets
            .iter()
            .map(|entry| room_entry(entry).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        let streams = streams
            .iter()
            .map(|entry| stream_entry(entry))
            .collect::<Result<Vec<_>, _>>()?;
        if !streams.is_empty() {
            let mut users: Vec<UserId> = streams.iter().map(|(user, _)| *user).collect();
            users.sort_unstable();
            users.dedup();
            let members: HashSet<UserId> = self
                .members
                .members_among(account, room, users)
                .await?
                .into_iter()
                .collect();
            online.extend(
                streams
                    .into_iter()
                    .filter(|(user, _)| members.contains(user))
                    .map(|(_, key)| key.to_owned()),
            );
        }
        online.sort_unstable();
        online.dedup();
        Ok(online)
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
        let mut conn = self.conn.clone();
        let flags: Vec<i64> = self
            .scripts
            .online_users
            .arg(&self.prefix)
            .arg(account.0)
            .arg(users.iter().map(|user| user.0).collect::<Vec<i64>>())
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)?;
        if flags.len() != users.len() {
            return Err(StoreError::Unexpected(anyhow!(
                "presence answered {} flags for {} users",
                flags.len(),
                users.len()
            )));
        }
        let mut seen = HashSet::new();
        Ok(users
            .into_iter()
            .zip(flags)
            .filter(|(user, online)| *online > 0 && seen.insert(*user))
            .map(|(user, _)| user)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

    #[test]
    fn index_entries_read_back_whatever_the_user_key_holds() {
        assert_eq!(room_entry(&format!("{ID}:ann")).ok(), Some("ann"));
        assert_eq!(room_entry(&format!("{ID}:a:b c")).ok(), Some("a:b c"));
        assert_eq!(
            stream_entry(&format!("{ID}:42:ext:7")).ok(),
            Some((UserId(42), "ext:7"))
        );
    }

    #[test]
    fn malformed_index_entries_are_unexpected() {
        for entry in [
            String::new(),
            "short:ann".to_owned(),
            format!("{ID}ann"),
            format!("{ID}:"),
        ] {
            assert!(room_entry(&entry).is_err(), "{entry:?}");
        }
        for entry in [
            format!("{ID}:ann"),
            format!("{ID}:x:ann"),
            format!("{ID}:42:"),
        ] {
            assert!(stream_entry(&entry).is_err(), "{entry:?}");
        }
    }

    #[test]
    fn user_keys_are_1_to_255_characters() {
        assert!(check_user_key("").is_err());
        assert!(check_user_key("a").is_ok());
        assert!(check_user_key(&"é".repeat(255)).is_ok());
        assert!(check_user_key(&"é".repeat(256)).is_err());
    }
}
