//! Domain events: what changed, published after the change is committed, for live
//! delivery (WebSockets) and anything else that listens.

use chat_domain::{AccountId, Emoji, MemberMeta, Message, Person, Room, RoomId, Seq, User, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// Something that happened to a room.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// A room was created.
    Created(Room),
    /// A room's name, description, meta or avatar changed.
    Updated(Room),
    /// A room was deactivated: it keeps everything and refuses new messages.
    Deactivated(Room),
    /// A room was activated again.
    Activated(Room),
    /// A room and everything in it were deleted.
    Deleted {
        /// The account the room belonged to.
        account: AccountId,
        /// The room's id.
        id: RoomId,
        /// The room's UUID.
        uuid: Uuid,
    },
}

/// Someone joined or left a room (joins, leaves, members added, replaced or removed).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberEvent {
    /// `user` became a member of `room`.
    Joined {
        /// The room joined.
        room: Room,
        /// Who joined.
        user: User,
        /// When, as the membership keeps it.
        joined_at: OffsetDateTime,
        /// The membership's meta (the application's data about this member here).
        meta: MemberMeta,
    },
    /// `user` is no longer a member of `room`.
    Left {
        /// The room left.
        room: Room,
        /// Who left.
        user: User,
        /// When (the change's commit, as near as the publisher knows it).
        left_at: OffsetDateTime,
    },
}

/// Something that happened to a message, or to how far someone has read.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageEvent {
    /// A message was sent (stored for the first time).
    Created(Message),
    /// A message's content or meta was edited.
    Updated(Message),
    /// A message was soft-deleted.
    Deleted(Message),
    /// A deleted message was restored.
    Restored(Message),
    /// A message was pinned (the message carries its pin).
    Pinned(Message),
    /// A message was unpinned.
    Unpinned(Message),
    /// Someone added or removed a reaction (the message carries its reactions after).
    Reacted {
        /// The message, after the change.
        message: Message,
        /// The emoji added or removed.
        emoji: Emoji,
        /// Who reacted.
        user: Person,
        /// Added (`true`) or removed (`false`).
        added: bool,
    },
    /// `user` has read `room` up to `seq`.
    Read {
        /// The room read.
        room: Room,
        /// Who read it.
        user: UserId,
        /// Their read position after.
        seq: Seq,
    },
}

/// Credentials stopped working (or may have): a key rotated, revoked or expired by
/// logout, a user or an account deactivated or deleted. Every node forgets the
/// account's cached credentials and re-checks the open sockets it names, closing those
/// whose credential no longer authenticates as the same actor (4001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialEvent {
    /// The account whose credentials changed.
    pub account: AccountId,
    /// The one user concerned; `None` when it may be anyone of the account (the API
    /// key rotated, the account deactivated).
    pub user: Option<UserId>,
}

/// Every event the use cases publish.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// Something happened to a room.
    Room(RoomEvent),
    /// Someone joined or left a room.
    Member(MemberEvent),
    /// Something happened to a message, or to a read position.
    Message(MessageEvent),
    /// Credentials of an account (or of one of its users) changed.
    Credentials(CredentialEvent),
}

/// Where use cases publish events. Publishing never blocks and never fails the use
/// case: the change is already committed, and an adapter that cannot deliver an event
/// logs it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait EventPublisher: Send + Sync {
    /// Hands `event` on; called after the change it reports has committed.
    fn publish(&self, event: DomainEvent);
}

/// An adapter that drops every event (until live delivery is wired).
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardEvents;

impl EventPublisher for DiscardEvents {
    fn publish(&self, _event: DomainEvent) {}
}
