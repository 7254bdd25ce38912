//! What crosses between server nodes, and the ports that carry it.
//!
//! Every node delivers to its own sockets. A change made on one node reaches the
//! others as a [`Notice`] through an [`EventRelay`] (PostgreSQL `LISTEN/NOTIFY`, or
//! NATS). A notice names what changed by id; the receiving node reads the change from
//! the tables, which stay the truth: a notice that is lost (a relay reconnecting) is
//! made up for by reading a room's messages after the last `seq` it delivered. A new
//! message may travel whole with its notice, which spares every receiving node that
//! read; a relay that cannot carry it sends the ids alone.

use chat_domain::{AccountId, Emoji, Message, MessageId, Person, RoomId, Seq, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::events::{CredentialEvent, DomainEvent, MemberEvent, MessageEvent, RoomEvent};
use crate::live::events::{LiveEvent, PresenceChange, Typing};

/// What changed about a message, for a [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageChange {
    /// Edited.
    Updated,
    /// Soft-deleted.
    Deleted,
    /// Restored after a deletion.
    Restored,
    /// Pinned.
    Pinned,
    /// Unpinned.
    Unpinned,
}

/// How a membership changed, for a [`Notice`]: what the other nodes cannot read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    /// The user joined (the membership row says when, and its meta).
    Joined,
    /// The user left (the row is gone: the notice carries when).
    Left {
        /// When they left.
        at: OffsetDateTime,
    },
}

/// What changed about a room, for a [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomChange {
    /// Created.
    Created,
    /// Changed (name, description, avatar...).
    Updated,
    /// Activated again.
    Activated,
    /// Deactivated.
    Deactivated,
}

/// A live event as it crosses to other nodes: ids of what the tables hold (and a new
/// message as it was committed, which a relay may carry or leave out), or the whole of
/// an ephemeral signal.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The room's messages up to `seq` are committed.
    MessageCreated {
        /// The room's account.
        account: AccountId,
        /// The room.
        room: RoomId,
        /// The newest committed message.
        seq: Seq,
        /// That message as committed, when the relay carries it: the receiving node
        /// delivers it without reading it back. `None` names it by `seq` alone.
        message: Option<Box<Message>>,
    },
    /// A message changed.
    MessageChanged {
        /// The message's account.
        account: AccountId,
        /// The message.
        message: MessageId,
        /// How it changed.
        change: MessageChange,
    },
    /// A room changed.
    RoomChanged {
        /// The room's account.
        account: AccountId,
        /// The room.
        room: RoomId,
        /// How it changed.
        change: RoomChange,
    },
    /// A room was deleted (its row is gone: the notice carries its UUID).
    RoomDeleted {
        /// The room's account.
        account: AccountId,
        /// The room's id.
        room: RoomId,
        /// The room's UUID.
        uuid: Uuid,
    },
    /// A user joined or left a room.
    Membership {
        /// The room's account.
        account: AccountId,
        /// The room.
        room: RoomId,
        /// The user.
        user: UserId,
        /// Joined or left.
        change: MembershipChange,
    },
    /// A user's read position moved.
    Read {
        /// The room's account.
        account: AccountId,
        /// The room.
        room: RoomId,
        /// The reader.
        user: UserId,
        /// Read up to this message.
        seq: Seq,
    },
    /// Someone added or removed a reaction.
    Reaction {
        /// The message's account.
        account: AccountId,
        /// The message.
        message: MessageId,
        /// The emoji.
        emoji: Emoji,
        /// Who reacted.
        user: Person,
        /// Added (`true`) or removed (`false`).
        added: bool,
    },
    /// Credentials of an account (or one user) changed (carried whole).
    Credentials(CredentialEvent),
    /// Someone typing (carried whole).
    Typing(Typing),
    /// Someone coming online or going offline (carried whole).
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
                let (room, user, change) = match event {
                    MemberEvent::Joined { room, user, .. } => {
                        (room, user, MembershipChange::Joined)
                    }
                    MemberEvent::Left {
                        room,
                        user,
                        left_at,
                    } => (room, user, MembershipChange::Left { at: *left_at }),
                };
                Notice::Membership {
                    account: room.account_id,
                    room: room.id,
                    user: user.id,
                    change,
                }
            }
            LiveEvent::Domain(DomainEvent::Credentials(event)) => Notice::Credentials(*event),
            LiveEvent::Domain(DomainEvent::Message(event)) => match event {
                MessageEvent::Created(m) => Notice::MessageCreated {
                    account: m.account_id,
                    room: m.room_id,
                    seq: m.seq,
                    message: Some(Box::new(m.clone())),
                },
                MessageEvent::Updated(m) => Self::message(m, MessageChange::Updated),
                MessageEvent::Deleted(m) => Self::message(m, MessageChange::Deleted),
                MessageEvent::Restored(m) => Self::message(m, MessageChange::Restored),
                MessageEvent::Pinned(m) => Self::message(m, MessageChange::Pinned),
                MessageEvent::Unpinned(m) => Self::message(m, MessageChange::Unpinned),
                MessageEvent::Reacted {
                    message,
                    emoji,
                    user,
                    added,
                } => Notice::Reaction {
                    account: message.account_id,
                    message: message.id,
                    emoji: emoji.clone(),
                    user: user.clone(),
                    added: *added,
                },
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
    /// A notice from another node.
    fn received(&self, notice: Notice);

    /// Notices may have been missed (the relay reconnected): catch up from the tables.
    fn resync(&self);
}
