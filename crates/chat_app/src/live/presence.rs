//! Who has a socket open, across every node.

use std::time::Duration;

use async_trait::async_trait;
use chat_domain::{AccountId, RoomId, UserId};
use uuid::Uuid;

use crate::ports::StoreError;

/// One open socket, as presence records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceSession {
    /// The connection's own id.
    pub id: Uuid,
    /// The server node holding the socket; its heartbeat keeps the session alive.
    pub node: Uuid,
    /// The account connected to.
    pub account: AccountId,
    /// The room of a room socket; `None` for a user's stream of all their rooms.
    pub room: Option<RoomId>,
    /// The ChatAPI `user_id` of who is connected.
    pub user_key: String,
    /// The user, when the connected person is one of the account's users.
    pub user: Option<UserId>,
}

/// Who has a socket open, across every node. Sessions expire unless their node's
/// heartbeat renews them, so a node that dies takes its users offline within the
/// expiry.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Records an open socket, alive for `ttl`. Answers how many live sessions the same
    /// person now has in the same room (1: they just came online there).
    async fn open_session(
        &self,
        session: PresenceSession,
        ttl: Duration,
    ) -> Result<u64, StoreError>;

    /// Forgets a socket. Answers how many live sessions the same person still has in
    /// the same room (0: they just went offline there). An unknown id answers 0.
    async fn close_session(&self, id: Uuid) -> Result<u64, StoreError>;

    /// Keeps every session of `node` alive for `ttl` more, and forgets sessions (of any
    /// node) that have expired.
    async fn heartbeat(&self, node: Uuid, ttl: Duration) -> Result<(), StoreError>;

    /// The ChatAPI `user_id`s with a live socket to the room, or with a live stream of
    /// all their rooms while being a member of it; sorted, without duplicates.
    async fn online_in_room(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<String>, StoreError>;

    /// Those of `users` with any live socket.
    async fn online_users(
        &self,
        account: AccountId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError>;
}

/// Presence for a single process without sockets: nobody is ever online.
#[derive(Debug, Default, Clone, Copy)]
pub struct NobodyOnline;

#[async_trait]
impl PresenceStore for NobodyOnline {
    async fn open_session(&self, _: PresenceSession, _: Duration) -> Result<u64, StoreError> {
        Ok(1)
    }
    async fn close_session(&self, _: Uuid) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn heartbeat(&self, _: Uuid, _: Duration) -> Result<(), StoreError> {
        Ok(())
    }
    async fn online_in_room(&self, _: AccountId, _: RoomId) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
    async fn online_users(&self, _: AccountId, _: Vec<UserId>) -> Result<Vec<UserId>, StoreError> {
        Ok(Vec::new())
    }
}
