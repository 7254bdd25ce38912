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

/// Presence kept in two stores: `primary` answers (who is online, how many sessions a
/// person has), `mirror` is written too and its failures are only logged. With Redis as
/// the primary, the online lists and the per-room counts are Redis's, while PostgreSQL's
/// sessions still serve what reads them inside SQL (a user's shown availability, the
/// offline members of `message.unread_offline`).
#[derive(Clone)]
pub struct MirroredPresence {
    primary: std::sync::Arc<dyn PresenceStore>,
    mirror: std::sync::Arc<dyn PresenceStore>,
}

impl std::fmt::Debug for MirroredPresence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirroredPresence").finish_non_exhaustive()
    }
}

impl MirroredPresence {
    /// Presence answered by `primary` and written to `mirror` as well.
    pub fn new(
        primary: std::sync::Arc<dyn PresenceStore>,
        mirror: std::sync::Arc<dyn PresenceStore>,
    ) -> Self {
        Self { primary, mirror }
    }
}

fn mirror_failed(what: &str, error: &StoreError) {
    tracing::warn!(error = %error, "presence: the mirror could not {what}; the primary store answers");
}

#[async_trait]
impl PresenceStore for MirroredPresence {
    async fn open_session(
        &self,
        session: PresenceSession,
        ttl: Duration,
    ) -> Result<u64, StoreError> {
        // Both at once: the mirror adds no round trip to a socket's admission.
        let id = session.id;
        let (count, mirrored) = tokio::join!(
            self.primary.open_session(session.clone(), ttl),
            self.mirror.open_session(session, ttl),
        );
        match (&count, mirrored) {
            (_, Err(error)) => mirror_failed("record a session", &error),
            // A session the primary refused is never closed by its socket: the mirror's
            // copy goes now, or its node's heartbeats would keep it alive.
            (Err(_), Ok(_)) => {
                if let Err(error) = self.mirror.close_session(id).await {
                    mirror_failed("forget a session the primary refused", &error);
                }
            }
            (Ok(_), Ok(_)) => {}
        }
        count
    }

    async fn close_session(&self, id: Uuid) -> Result<u64, StoreError> {
        let (left, mirrored) = tokio::join!(
            self.primary.close_session(id),
            self.mirror.close_session(id)
        );
        if let Err(error) = mirrored {
            mirror_failed("forget a session", &error);
        }
        left
    }

    async fn heartbeat(&self, node: Uuid, ttl: Duration) -> Result<(), StoreError> {
        let (renewed, mirrored) = tokio::join!(
            self.primary.heartbeat(node, ttl),
            self.mirror.heartbeat(node, ttl),
        );
        if let Err(error) = mirrored {
            mirror_failed("renew its sessions", &error);
        }
        renewed
    }

    async fn online_in_room(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<String>, StoreError> {
        self.primary.online_in_room(account, room).await
    }

    async fn online_users(
        &self,
        account: AccountId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError> {
        self.primary.online_users(account, users).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn session() -> PresenceSession {
        PresenceSession {
            id: Uuid::from_u128(1),
            node: Uuid::from_u128(2),
            account: AccountId(3),
            room: Some(RoomId(4)),
            user_key: "ann".to_owned(),
            user: Some(UserId(5)),
        }
    }

    #[tokio::test]
    async fn the_primary_answers_and_the_mirror_is_written_even_when_it_fails() {
        let mut primary = MockPresenceStore::new();
        primary
            .expect_open_session()
            .times(1)
            .returning(|_, _| Ok(2));
        primary
            .expect_online_in_room()
            .times(1)
            .returning(|_, _| Ok(vec!["ann".to_owned()]));
        primary.expect_close_session().times(1).returning(|_| Ok(1));
        let mut mirror = MockPresenceStore::new();
        mirror
            .expect_open_session()
            .withf(|s, ttl| s.user_key == "ann" && *ttl == Duration::from_secs(30))
            .times(1)
            .returning(|_, _| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
        mirror.expect_close_session().times(1).returning(|_| Ok(7));
        mirror.expect_online_in_room().never();
        let both = MirroredPresence::new(Arc::new(primary), Arc::new(mirror));
        let opened = both.open_session(session(), Duration::from_secs(30)).await;
        assert_eq!(opened.ok(), Some(2));
        let online = both.online_in_room(AccountId(3), RoomId(4)).await;
        assert_eq!(online.ok(), Some(vec!["ann".to_owned()]));
        assert_eq!(both.close_session(Uuid::from_u128(1)).await.ok(), Some(1));
    }

    #[tokio::test]
    async fn a_primary_that_fails_fails_the_call_and_the_mirrors_copy_is_undone() {
        let mut primary = MockPresenceStore::new();
        primary
            .expect_open_session()
            .returning(|_, _| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
        let mut mirror = MockPresenceStore::new();
        mirror
            .expect_open_session()
            .times(1)
            .returning(|_, _| Ok(1));
        mirror
            .expect_close_session()
            .withf(|id| *id == Uuid::from_u128(1))
            .times(1)
            .returning(|_| Ok(0));
        let both = MirroredPresence::new(Arc::new(primary), Arc::new(mirror));
        let opened = both.open_session(session(), Duration::from_secs(30)).await;
        assert!(
            matches!(opened, Err(StoreError::Unavailable(_))),
            "{opened:?}"
        );
    }
}
