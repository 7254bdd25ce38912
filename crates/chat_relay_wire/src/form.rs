//! The wire form of each [`Notice`] variant: plain values (integers, strings, RFC 3339
//! times) that serde writes as JSON, and the conversions both ways.

use chat_app::{
    CredentialEvent, MembershipChange, MessageChange, Notice, PresenceChange, RoomChange, Typing,
};
use chat_domain::{AccountId, Emoji, MessageId, Person, RoomId, Seq, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::message::WireMessage;

/// [`Notice`] with plain values. The conversions both ways match every variant without a
/// wildcard: a new `Notice` variant does not compile until it has its wire form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum WireNotice {
    MessageCreated {
        account: i64,
        room: i64,
        seq: i64,
        /// The message itself, when it travels whole ([`WireMessage`]).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::message::lenient"
        )]
        message: Option<WireMessage>,
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
        /// When a member left (RFC 3339); absent for a join. A leave without it (from a
        /// node of an earlier version) is taken as of its arrival.
        #[serde(
            default,
            with = "time::serde::rfc3339::option",
            skip_serializing_if = "Option::is_none"
        )]
        left_at: Option<OffsetDateTime>,
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
    Credentials {
        account: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<i64>,
    },
    Reaction {
        account: i64,
        message: i64,
        emoji: String,
        user: i64,
        user_key: String,
        added: bool,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WireMessageChange {
    Updated,
    Deleted,
    Restored,
    Pinned,
    Unpinned,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WireRoomChange {
    Created,
    Updated,
    Activated,
    Deactivated,
}

impl From<&Notice> for WireNotice {
    fn from(notice: &Notice) -> Self {
        match notice {
            Notice::Credentials(CredentialEvent { account, user }) => WireNotice::Credentials {
                account: account.0,
                user: user.map(|user| user.0),
            },
            Notice::MessageCreated {
                account,
                room,
                seq,
                message,
            } => WireNotice::MessageCreated {
                account: account.0,
                room: room.0,
                seq: seq.0,
                message: message.as_deref().and_then(WireMessage::of),
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
                    MessageChange::Pinned => WireMessageChange::Pinned,
                    MessageChange::Unpinned => WireMessageChange::Unpinned,
                },
            },
            Notice::Reaction {
                account,
                message,
                emoji,
                user,
                added,
            } => WireNotice::Reaction {
                account: account.0,
                message: message.0,
                emoji: emoji.as_str().to_owned(),
                user: user.id.0,
                user_key: user.label.clone(),
                added: *added,
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
                change,
            } => WireNotice::Membership {
                account: account.0,
                room: room.0,
                user: user.0,
                joined: matches!(change, MembershipChange::Joined),
                left_at: match change {
                    MembershipChange::Joined => None,
                    MembershipChange::Left { at } => Some(*at),
                },
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

impl WireNotice {
    /// Leaves out the message a `message_created` notice carries; `true` if there was one.
    pub(crate) fn drop_message(&mut self) -> bool {
        match self {
            WireNotice::MessageCreated { message, .. } => message.take().is_some(),
            _ => false,
        }
    }

    /// The notice this wire form carries; `None` when a field is not valid.
    pub(crate) fn into_notice(self) -> Option<Notice> {
        Some(match self {
            WireNotice::Credentials { account, user } => Notice::Credentials(CredentialEvent {
                account: AccountId(account),
                user: user.map(UserId),
            }),
            WireNotice::MessageCreated {
                account,
                room,
                seq,
                message,
            } => {
                let (account, room, seq) = (AccountId(account), RoomId(room), Seq(seq));
                Notice::MessageCreated {
                    account,
                    room,
                    seq,
                    // A body that does not decode leaves the message to be read.
                    message: message
                        .and_then(|message| message.into_message(account, room, seq))
                        .map(Box::new),
                }
            }
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
                    WireMessageChange::Pinned => MessageChange::Pinned,
                    WireMessageChange::Unpinned => MessageChange::Unpinned,
                },
            },
            WireNotice::Reaction {
                account,
                message,
                emoji,
                user,
                user_key,
                added,
            } => Notice::Reaction {
                account: AccountId(account),
                message: MessageId(message),
                // Written by encode_notice from a valid emoji; anything else is not a notice.
                emoji: Emoji::parse(&emoji).ok()?,
                user: Person {
                    id: UserId(user),
                    label: user_key,
                },
                added,
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
                left_at,
            } => Notice::Membership {
                account: AccountId(account),
                room: RoomId(room),
                user: UserId(user),
                change: if joined {
                    MembershipChange::Joined
                } else {
                    MembershipChange::Left {
                        at: left_at.unwrap_or_else(OffsetDateTime::now_utc),
                    }
                },
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
        })
    }
}
