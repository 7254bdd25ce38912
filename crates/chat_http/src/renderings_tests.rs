//! The conversation fields of both dialects' message and room JSON: thread, reactions,
//! mentions, pin and unread counts, rendered from one message and one room.

use chat_app::{AccountAccess, Actor, MessageView, RoomView};
use chat_domain::{
    AccountId, Content, Emoji, Features, MessageId, MessageKind, MessageMeta, Person, Pin,
    Reaction, Room, RoomId, RoomMeta, RoomName, Sender, Seq, ThreadStats, UserId,
};
use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;

use crate::account::json::{ChatMessageJson, ChatRoomJson};
use crate::chatapi::json::{MessageJson, RoomJson};
use crate::links::Links;
use crate::signing::UrlSigner;

fn links() -> Links {
    Links::new("https://chat.example", UrlSigner::new(&[7; 32]), 0, 60)
}

fn person(id: i64, label: &str) -> Person {
    Person {
        id: UserId(id),
        label: label.to_owned(),
    }
}

fn emoji(raw: &str) -> Emoji {
    Emoji::parse(raw).unwrap_or_else(|e| panic!("{e}"))
}

fn account() -> AccountAccess {
    AccountAccess {
        id: AccountId(1),
        uuid: Uuid::from_u128(1),
        features: Features::default(),
    }
}

/// A message of `ann` (7) that mentions bob (8), with two reactions, two replies and a pin.
fn view(pinned_by: Sender) -> MessageView {
    let at = datetime!(2026-12-06 12:00 UTC);
    let message = chat_domain::Message {
        id: MessageId(40),
        uuid: Uuid::from_u128(40),
        account_id: AccountId(1),
        room_id: RoomId(5),
        room_uuid: Uuid::from_u128(5),
        seq: Seq(3),
        sender: Sender::User {
            id: UserId(7),
            label: "ann".to_owned(),
        },
        sender_name: None,
        content: Content::parse("hi @bob").unwrap_or_else(|e| panic!("{e:?}")),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: Some(MessageId(39)),
        echo_id: None,
        created_at: at,
        updated_at: at,
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: ThreadStats {
            reply_count: 2,
            last_reply_at: Some(datetime!(2026-12-06 12:05 UTC)),
        },
        mentions: vec![person(8, "bob")],
        reactions: vec![
            Reaction {
                emoji: emoji("👍"),
                users: vec![person(8, "bob"), person(9, "9")],
            },
            Reaction {
                emoji: emoji(":tada:"),
                users: vec![person(7, "ann")],
            },
        ]
        .into_iter()
        .collect(),
        pin: Some(Pin {
            pinned_at: datetime!(2026-12-06 12:10 UTC),
            pinned_by,
        }),
    };
    MessageView {
        message,
        room_name: "General".to_owned(),
        sender: None,
        in_reply_to: None,
        status: None,
    }
}

fn json(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_chatapi_message_carries_its_thread_reactions_mentions_and_pin() {
    let pinned_by_ann = Sender::User {
        id: UserId(7),
        label: "ann".to_owned(),
    };
    let rendered = json(MessageJson::new(
        view(pinned_by_ann),
        Uuid::from_u128(1),
        &links(),
    ));
    assert_eq!(rendered["reply_count"], 2);
    assert_eq!(rendered["last_reply_at"], "2026-12-06T12:05:00Z");
    assert_eq!(
        rendered["reactions"],
        json!([
            {"emoji": "👍", "count": 2, "user_ids": ["bob", "9"]},
            {"emoji": ":tada:", "count": 1, "user_ids": ["ann"]},
        ])
    );
    assert_eq!(rendered["mentions"], json!(["bob"]));
    assert_eq!(rendered["pinned_at"], "2026-12-06T12:10:00Z");
    assert_eq!(rendered["pinned_by"], "ann");

    let by_the_api_key = json(MessageJson::new(
        view(Sender::System),
        Uuid::from_u128(1),
        &links(),
    ));
    assert_eq!(by_the_api_key["pinned_by"], "system");

    let mut plain = view(Sender::System);
    plain.message.pin = None;
    plain.message.reactions = chat_domain::Reactions::new();
    plain.message.mentions.clear();
    plain.message.thread = ThreadStats::default();
    let plain = json(MessageJson::new(plain, Uuid::from_u128(1), &links()));
    assert_eq!(
        [
            &plain["reply_count"],
            &plain["last_reply_at"],
            &plain["reactions"],
            &plain["mentions"],
            &plain["pinned_at"],
            &plain["pinned_by"],
        ],
        [
            &json!(0),
            &Value::Null,
            &json!([]),
            &json!([]),
            &Value::Null,
            &Value::Null
        ]
    );
}

#[test]
fn an_account_message_carries_ids_and_unix_times() {
    let viewer = Actor::User {
        account: account(),
        user_id: UserId(8),
        role: chat_domain::Role::Agent,
        scope: None,
    };
    let pinned_by_ann = Sender::User {
        id: UserId(7),
        label: "ann".to_owned(),
    };
    let rendered = json(ChatMessageJson::new(view(pinned_by_ann), &viewer, &links()));
    assert_eq!(
        rendered["content_attributes"],
        json!({"in_reply_to": 39, "mentions": [8]})
    );
    assert_eq!(rendered["reply_count"], 2);
    assert_eq!(
        rendered["reactions"],
        json!([
            {"emoji": "👍", "count": 2, "user_ids": [8, 9]},
            {"emoji": ":tada:", "count": 1, "user_ids": [7]},
        ])
    );
    assert_eq!(rendered["pinned_at"], 1_796_559_000);
    assert_eq!(rendered["pinned_by"], 7);

    let mut by_the_api_key = view(Sender::System);
    by_the_api_key.message.mentions.clear();
    by_the_api_key.message.reply_to = None;
    let rendered = json(ChatMessageJson::new(by_the_api_key, &viewer, &links()));
    assert_eq!(rendered["pinned_by"], Value::Null);
    assert_eq!(rendered["pinned_at"], 1_796_559_000);
    assert_eq!(rendered["content_attributes"], json!({}));
}

fn room_view() -> RoomView {
    let at = datetime!(2026-12-06 12:00 UTC);
    RoomView {
        room: Room {
            id: RoomId(5),
            uuid: Uuid::from_u128(5),
            account_id: AccountId(1),
            name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
            description: None,
            meta: RoomMeta::default(),
            is_active: true,
            avatar: None,
            member_count: 3,
            message_count: 10,
            last_message_at: at,
            created_at: at,
            updated_at: at,
        },
        members: None,
        unread_count: 4,
        unread_mentions: 1,
    }
}

#[test]
fn rooms_show_unread_counts_to_a_viewer_only() {
    let for_viewer = json(RoomJson::with_unread(room_view(), Uuid::from_u128(1)));
    assert_eq!(for_viewer["unread_count"], 4);
    assert_eq!(for_viewer["unread_mentions"], 1);
    let for_nobody = json(RoomJson::new(room_view().room, Uuid::from_u128(1)));
    let fields = for_nobody.as_object().map(|o| o.len());
    assert!(for_nobody.get("unread_count").is_none(), "{for_nobody}");
    assert!(for_nobody.get("unread_mentions").is_none(), "{for_nobody}");
    assert_eq!(
        fields.map(|n| n + 2),
        for_viewer.as_object().map(|o| o.len())
    );

    let account_room = json(ChatRoomJson::new(
        &room_view(),
        &Actor::ApiKey(account()),
        &links(),
    ));
    assert_eq!(account_room["unread_count"], 4);
    assert_eq!(account_room["unread_mentions"], 1);
}
