//! Notices on the wire: the channel every node listens on, and the notification payload
//! that carries a [`Notice`] from one node to the others (compact JSON naming the sending
//! node).
//!
//! An adapter over another transport (NATS, Redis) may reuse [`encode_notice`] and
//! [`decode_notice`]; their 7999-byte limit is PostgreSQL's.

use anyhow::Context;
use chat_app::{CredentialEvent, MessageChange, Notice, PresenceChange, RoomChange, Typing};
use chat_domain::{AccountId, Emoji, MessageId, Person, RoomId, Seq, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The notification channel every node listens on.
pub(crate) const CHANNEL: &str = "chat_events";

/// PostgreSQL refuses a notification payload of 8000 bytes or more (the default
/// `BLCKSZ`); anything longer is refused here, before it is sent.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 7999;

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
enum WireMessageChange {
    Updated,
    Deleted,
    Restored,
    Pinned,
    Unpinned,
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
            Notice::Credentials(CredentialEvent { account, user }) => WireNotice::Credentials {
                account: account.0,
                user: user.map(|user| user.0),
            },
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

impl WireNotice {
    /// The notice this wire form carries; `None` when a field is not valid.
    fn into_notice(self) -> Option<Notice> {
        Some(match self {
            WireNotice::Credentials { account, user } => Notice::Credentials(CredentialEvent {
                account: AccountId(account),
                user: user.map(UserId),
            }),
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
        })
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
    Some((envelope.node, envelope.notice.into_notice()?))
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
            Notice::Credentials(CredentialEvent {
                account,
                user: Some(UserId(i64::MAX)),
            }),
            Notice::Credentials(CredentialEvent {
                account,
                user: None,
            }),
        ];
        for added in [true, false] {
            notices.push(Notice::Reaction {
                account,
                message: MessageId(3),
                emoji: Emoji::parse("👩🏽‍💻").expect("an emoji"),
                user: Person {
                    id: UserId(5),
                    label: "user_5".to_owned(),
                },
                added,
            });
        }
        for change in [
            MessageChange::Updated,
            MessageChange::Deleted,
            MessageChange::Restored,
            MessageChange::Pinned,
            MessageChange::Unpinned,
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
    fn a_credential_notice_names_the_account_and_the_user_only_when_there_is_one() {
        let node = Uuid::nil();
        let of_user = Notice::Credentials(CredentialEvent {
            account: AccountId(1),
            user: Some(UserId(5)),
        });
        assert_eq!(
            encode_notice(node, &of_user).expect("encodes"),
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"credentials","account":1,"user":5}"#
        );
        let of_account = Notice::Credentials(CredentialEvent {
            account: AccountId(1),
            user: None,
        });
        assert_eq!(
            encode_notice(node, &of_account).expect("encodes"),
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"credentials","account":1}"#
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
}
