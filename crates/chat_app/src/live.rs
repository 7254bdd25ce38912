//! Live delivery: the events sockets receive, what crosses between server nodes, and
//! the ports that carry them.
//!
//! Every node delivers to its own sockets. A change made on one node reaches the
//! others as a [`Notice`] through an [`EventRelay`] (PostgreSQL `LISTEN/NOTIFY` in
//! this project; a broker would do as well). A notice names what changed by id; the
//! receiving node reads the change from the tables, which stay the truth: a notice
//! that is lost (a relay reconnecting) is made up for by reading a room's messages
//! after the last `seq` it delivered.

use std::time::Duration;

use async_trait::async_trait;
use chat_domain::{AccountId, MessageId, RoomId, Seq, UserId};
use uuid::Uuid;

use crate::events::{DomainEvent, MemberEvent, MessageEvent, RoomEvent};
use crate::ports::StoreError;

/// Someone started or stopped typing in a room (never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub account: AccountId,
    pub room: RoomId,
    pub room_uuid: Uuid,
    /// The typist's ChatAPI `user_id`.
    pub user_key: String,
    /// The typist, when one of the account's users (always, for now).
    pub user: Option<UserId>,
    pub user_name: String,
    pub is_typing: bool,
}

/// A user's first socket to a room opened, or their last one closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceChange {
    pub account: AccountId,
    pub room: RoomId,
    pub room_uuid: Uuid,
    /// The user's ChatAPI `user_id`.
    pub user_key: String,
    /// The user, when one of the account's users.
    pub user: Option<UserId>,
    pub online: bool,
}

/// Something for sockets: a committed change, or an ephemeral signal.
// The domain variant is the common one and is shared behind an `Arc` once published:
// boxing it would add an allocation to every event to shrink the rare ones.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Domain(DomainEvent),
    Typing(Typing),
    Presence(PresenceChange),
}

impl LiveEvent {
    /// The account and room the event belongs to (`None` for a room's creation, which
    /// no socket of the room can have seen coming).
    pub fn room(&self) -> Option<(AccountId, RoomId)> {
        match self {
            LiveEvent::Domain(DomainEvent::Room(RoomEvent::Created(_))) => None,
            LiveEvent::Domain(DomainEvent::Room(
                RoomEvent::Updated(room)
                | RoomEvent::Activated(room)
                | RoomEvent::Deactivated(room),
            )) => Some((room.account_id, room.id)),
            LiveEvent::Domain(DomainEvent::Room(RoomEvent::Deleted { account, id, .. })) => {
                Some((*account, *id))
            }
            LiveEvent::Domain(DomainEvent::Member(
                MemberEvent::Joined { room, .. } | MemberEvent::Left { room, .. },
            )) => Some((room.account_id, room.id)),
            LiveEvent::Domain(DomainEvent::Message(
                MessageEvent::Created(m)
                | MessageEvent::Updated(m)
                | MessageEvent::Deleted(m)
                | MessageEvent::Restored(m),
            )) => Some((m.account_id, m.room_id)),
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Read { room, .. })) => {
                Some((room.account_id, room.id))
            }
            LiveEvent::Typing(t) => Some((t.account, t.room)),
            LiveEvent::Presence(p) => Some((p.account, p.room)),
        }
    }
}

/// What changed about a message, for a [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageChange {
    Updated,
    Deleted,
    Restored,
}

/// What changed about a room, for a [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomChange {
    Created,
    Updated,
    Activated,
    Deactivated,
}

/// A live event as it crosses to other nodes: ids of what the tables hold, or the
/// whole of an ephemeral signal. Small enough for any broker (PostgreSQL notifications
/// carry at most 8000 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The room's messages up to `seq` are committed.
    MessageCreated {
        account: AccountId,
        room: RoomId,
        seq: Seq,
    },
    MessageChanged {
        account: AccountId,
        message: MessageId,
        change: MessageChange,
    },
    RoomChanged {
        account: AccountId,
        room: RoomId,
        change: RoomChange,
    },
    RoomDeleted {
        account: AccountId,
        room: RoomId,
        uuid: Uuid,
    },
    Membership {
        account: AccountId,
        room: RoomId,
        user: UserId,
        joined: bool,
    },
    Read {
        account: AccountId,
        room: RoomId,
        user: UserId,
        seq: Seq,
    },
    Typing(Typing),
    Presence(PresenceChange),
}

impl Notice {
    /// The notice that tells other nodes about `event`.
    pub fn of(event: &LiveEvent) -> Self {
        match event {
            LiveEvent::Domain(DomainEvent::Room(event)) => match event {
                RoomEvent::Created(room) => Self::room(room, RoomChange::Created),
                RoomEvent::Updated(room) => Self::room(room, RoomChange::Updated),
                RoomEvent::Activated(room) => Self::room(room, RoomChange::Activated),
                RoomEvent::Deactivated(room) => Self::room(room, RoomChange::Deactivated),
                RoomEvent::Deleted { account, id, uuid } => Notice::RoomDeleted {
                    account: *account,
                    room: *id,
                    uuid: *uuid,
                },
            },
            LiveEvent::Domain(DomainEvent::Member(event)) => {
                let (room, user, joined) = match event {
                    MemberEvent::Joined { room, user } => (room, user, true),
                    MemberEvent::Left { room, user } => (room, user, false),
                };
                Notice::Membership {
                    account: room.account_id,
                    room: room.id,
                    user: user.id,
                    joined,
                }
            }
            LiveEvent::Domain(DomainEvent::Message(event)) => match event {
                MessageEvent::Created(m) => Notice::MessageCreated {
                    account: m.account_id,
                    room: m.room_id,
                    seq: m.seq,
                },
                MessageEvent::Updated(m) => Self::message(m, MessageChange::Updated),
                MessageEvent::Deleted(m) => Self::message(m, MessageChange::Deleted),
                MessageEvent::Restored(m) => Self::message(m, MessageChange::Restored),
                MessageEvent::Read { room, user, seq } => Notice::Read {
                    account: room.account_id,
                    room: room.id,
                    user: *user,
                    seq: *seq,
                },
            },
            LiveEvent::Typing(typing) => Notice::Typing(typing.clone()),
            LiveEvent::Presence(change) => Notice::Presence(change.clone()),
        }
    }

    fn room(room: &chat_domain::Room, change: RoomChange) -> Self {
        Notice::RoomChanged {
            account: room.account_id,
            room: room.id,
            change,
        }
    }

    fn message(message: &chat_domain::Message, change: MessageChange) -> Self {
        Notice::MessageChanged {
            account: message.account_id,
            message: message.id,
            change,
        }
    }
}

/// Carries notices to every other node. An adapter over PostgreSQL `LISTEN/NOTIFY`, or
/// a broker (NATS subjects, Redis pub/sub), implements it together with handing what
/// it receives to a [`RelayInbox`].
pub trait EventRelay: Send + Sync {
    /// Sends `notice` to the other nodes. Never blocks the caller; a notice that cannot
    /// be sent is logged (the other nodes catch up on messages by `seq`).
    fn relay(&self, notice: Notice);
}

/// Where a relay hands what other nodes sent.
pub trait RelayInbox: Send + Sync {
    fn received(&self, notice: Notice);

    /// Notices may have been missed (the relay reconnected): catch up from the tables.
    fn resync(&self);
}

/// One open socket, as presence records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceSession {
    /// The connection's own id.
    pub id: Uuid,
    /// The server node holding the socket; its heartbeat keeps the session alive.
    pub node: Uuid,
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
