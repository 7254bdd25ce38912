//! The events sockets receive: committed changes and ephemeral signals.

use chat_domain::{AccountId, RoomId, UserId};
use uuid::Uuid;

use crate::events::{DomainEvent, MemberEvent, MessageEvent, RoomEvent};

/// Someone started or stopped typing in a room (never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    /// The room's account.
    pub account: AccountId,
    /// The room typed in.
    pub room: RoomId,
    /// The same room's UUID (the ChatAPI dialect names rooms by it).
    pub room_uuid: Uuid,
    /// The typist's ChatAPI `user_id`.
    pub user_key: String,
    /// The typist, when one of the account's users (always, for now).
    pub user: Option<UserId>,
    /// The typist's display name.
    pub user_name: String,
    /// Started (`true`) or stopped (`false`) typing.
    pub is_typing: bool,
}

/// A user's first socket to a room opened, or their last one closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceChange {
    /// The room's account.
    pub account: AccountId,
    /// The room the user came online or went offline in.
    pub room: RoomId,
    /// The same room's UUID.
    pub room_uuid: Uuid,
    /// The user's ChatAPI `user_id`.
    pub user_key: String,
    /// The user, when one of the account's users.
    pub user: Option<UserId>,
    /// Online (`true`) or offline (`false`) now.
    pub online: bool,
}

/// Something for sockets: a committed change, or an ephemeral signal.
// The domain variant is the common one and is shared behind an `Arc` once published:
// boxing it would add an allocation to every event to shrink the rare ones.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A change a use case committed.
    Domain(DomainEvent),
    /// Someone typing.
    Typing(Typing),
    /// Someone coming online or going offline in a room.
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
                | MessageEvent::Restored(m)
                | MessageEvent::Pinned(m)
                | MessageEvent::Unpinned(m)
                | MessageEvent::Reacted { message: m, .. },
            )) => Some((m.account_id, m.room_id)),
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Read { room, .. })) => {
                Some((room.account_id, room.id))
            }
            LiveEvent::Domain(DomainEvent::Credentials(_)) => None,
            LiveEvent::Typing(t) => Some((t.account, t.room)),
            LiveEvent::Presence(p) => Some((p.account, p.room)),
        }
    }
}
