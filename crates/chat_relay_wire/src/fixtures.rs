//! What the relays' tests send (feature `fixtures`).

// For tests only: a value that does not parse is the test's own mistake.
#![allow(clippy::expect_used)]

use chat_app::{
    CredentialEvent, MembershipChange, MessageChange, Notice, PresenceChange, RoomChange, Typing,
};
use chat_domain::{
    AccountId, Content, Emoji, Message, MessageId, MessageKind, MessageMeta, Person, Reactions,
    RoomId, Sender, Seq, ThreadStats, UserId,
};
use uuid::Uuid;

/// A message as sending makes it: the `seq`-th of room 2 of account 1, `content` its
/// text, sent by user 6 (`user_6`) as "Ada"; a notice may carry it whole. Panics when
/// `content` is not valid message text (a test's own mistake).
pub fn just_sent(seq: i64, content: &str) -> Message {
    let Ok(content) = Content::parse(content) else {
        panic!("not valid message text: {content:?}");
    };
    let at = time::macros::datetime!(2026-12-07 10:11:12.123456 UTC);
    Message {
        id: MessageId(seq + 100),
        uuid: Uuid::new_v4(),
        account_id: AccountId(1),
        room_id: RoomId(2),
        room_uuid: Uuid::new_v4(),
        seq: Seq(seq),
        sender: Sender::User {
            id: UserId(6),
            label: "user_6".to_owned(),
        },
        sender_name: Some("Ada".to_owned()),
        content,
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        created_at: at,
        updated_at: at,
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: ThreadStats::default(),
        mentions: Vec::new(),
        reactions: Reactions::default(),
        pin: None,
    }
}

/// One notice of every kind and variant, with values at their edges (ids past 2^53, names
/// with quotes, escapes and emoji, times to the nanosecond), and a new message carried
/// whole: what a relay must carry intact.
pub fn every_notice() -> Vec<Notice> {
    let account = AccountId(7);
    let room = RoomId(42);
    let room_uuid = Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
    let mut notices = vec![
        Notice::MessageCreated {
            account,
            room,
            seq: Seq(9_007_199_254_740_993),
            message: None,
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
            change: MembershipChange::Joined,
        },
        Notice::Membership {
            account,
            room,
            user: UserId(3),
            change: MembershipChange::Left {
                at: time::macros::datetime!(2026-12-06 15:32:53.123456789 UTC),
            },
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
    let message = just_sent(3, "hello \"there\" 👋");
    notices.push(Notice::MessageCreated {
        account: message.account_id,
        room: message.room_id,
        seq: message.seq,
        message: Some(Box::new(message)),
    });
    notices
}
