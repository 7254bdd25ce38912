//! Domain events: what changed, published after the change is committed, for live
//! delivery (WebSockets) and anything else that listens.

use chat_domain::{AccountId, Message, Room, RoomId, Seq, User, UserId};
use uuid::Uuid;

/// Something that happened to a room.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    Created(Room),
    Updated(Room),
    Deactivated(Room),
    Activated(Room),
    Deleted {
        account: AccountId,
        id: RoomId,
        uuid: Uuid,
    },
}

/// Someone joined or left a room (joins, leaves, members added, replaced or removed).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberEvent {
    Joined { room: Room, user: User },
    Left { room: Room, user: User },
}

/// Something that happened to a message, or to how far someone has read.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageEvent {
    Created(Message),
    Updated(Message),
    Deleted(Message),
    Restored(Message),
    /// `user` has read `room` up to `seq`.
    Read {
        room: Room,
        user: UserId,
        seq: Seq,
    },
}

/// Every event the use cases publish.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    Room(RoomEvent),
    Member(MemberEvent),
    Message(MessageEvent),
}

/// Where use cases publish events. Publishing never blocks and never fails the use
/// case: the change is already committed, and an adapter that cannot deliver an event
/// logs it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait EventPublisher: Send + Sync {
    fn publish(&self, event: DomainEvent);
}

/// An adapter that drops every event (until live delivery is wired).
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardEvents;

impl EventPublisher for DiscardEvents {
    fn publish(&self, _event: DomainEvent) {}
}
