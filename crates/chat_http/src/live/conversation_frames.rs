//! The frames of conversations in both dialects: who deleted a message and when, joins
//! and leaves with their times and meta, reactions, pins and mentions.

use chat_app::live::SocketCredential;
use chat_app::{
    AccountAccess, Actor, Authenticated, Context, Delivery, DomainEvent, LiveEvent, LiveSession,
    MemberEvent, MessageEvent, SessionKind,
};
use chat_domain::{
    AccountId, Availability, Content, Emoji, ExternalId, Features, MemberMeta, Message, MessageId,
    MessageKind, MessageMeta, Person, PersonName, Pin, Role, Room, RoomId, RoomMeta, RoomName,
    Sender, Seq, User, UserId,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::account::AccountLive;
use super::chatapi::ChatApiLive;
use super::events::{mention, render};
use crate::links::Links;
use crate::signing::UrlSigner;

const ACCOUNT: AccountId = AccountId(1);
const AT: OffsetDateTime = datetime!(2024-01-02 3:04:05 UTC);
const AT_UNIX: i64 = 1_704_164_645;
const ROOM_UUID: Uuid = Uuid::from_u128(0x5);
const MESSAGE_UUID: Uuid = Uuid::from_u128(0x55);

fn links() -> Links {
    Links::new("https://chat.example", UrlSigner::new(&[7; 32]), 0, 60)
}

fn room() -> Room {
    Room {
        id: RoomId(5),
        uuid: ROOM_UUID,
        account_id: ACCOUNT,
        name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        meta: RoomMeta::default(),
        is_active: true,
        avatar: None,
        member_count: 2,
        message_count: 1,
        last_message_at: AT,
        created_at: AT,
        updated_at: AT,
    }
}

/// Alice: user 7, `user_id` "alice".
fn alice() -> User {
    User {
        id: UserId(7),
        account_id: ACCOUNT,
        external_id: Some(ExternalId::parse("alice").unwrap_or_else(|e| panic!("{e}"))),
        name: PersonName::parse("Alice").unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role: Role::Agent,
        availability: Availability::Offline,
        confirmed: true,
        is_active: true,
        meta: chat_domain::UserMeta::default(),
        created_at: AT,
        updated_at: AT,
    }
}

fn by_alice() -> Sender {
    Sender::User {
        id: UserId(7),
        label: "alice".to_owned(),
    }
}

/// Message 55 of room 5, sent by Bob (user 8, "bob").
fn message() -> Message {
    Message {
        id: MessageId(55),
        uuid: MESSAGE_UUID,
        account_id: ACCOUNT,
        room_id: RoomId(5),
        room_uuid: ROOM_UUID,
        seq: Seq(1),
        sender: Sender::User {
            id: UserId(8),
            label: "bob".to_owned(),
        },
        sender_name: Some("Bob".to_owned()),
        content: Content::parse("hello @alice").unwrap_or_else(|e| panic!("{e:?}")),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        created_at: AT,
        updated_at: AT,
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: chat_domain::ThreadStats::default(),
        mentions: Vec::new(),
        reactions: chat_domain::Reactions::new(),
        pin: None,
    }
}

fn room_socket() -> ChatApiLive {
    ChatApiLive::new(
        &room(),
        Some("alice".to_owned()),
        Uuid::from_u128(1),
        links(),
    )
}

fn user_stream() -> AccountLive {
    let actor = Actor::User {
        account: AccountAccess {
            id: ACCOUNT,
            uuid: Uuid::from_u128(1),
            features: Features::default(),
        },
        user_id: UserId(7),
        role: Role::Agent,
        scope: None,
    };
    let session = LiveSession {
        actor,
        account: ACCOUNT,
        participant: Some(alice()),
        kind: SessionKind::Stream { rooms: Vec::new() },
        credential: SocketCredential::new(
            "ut_token",
            Authenticated {
                actor,
                expires_at: None,
            },
        ),
    };
    AccountLive::new(&session, links())
}

fn delivery(event: DomainEvent) -> Delivery {
    Delivery::new(LiveEvent::Domain(event), Context::default())
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The frames of `event` on a room socket and on a user's stream.
fn frames(event: DomainEvent) -> (Value, Value) {
    let delivery = delivery(event);
    let on_socket = render(&room_socket(), &delivery).unwrap_or_else(|| panic!("a frame"));
    let on_stream = render(&user_stream(), &delivery).unwrap_or_else(|| panic!("a frame"));
    (parse(&on_socket), parse(&on_stream))
}

#[test]
fn message_deleted_says_who_deleted_it_and_when_beside_the_message() {
    for (by, chatapi, account) in [
        (Some(by_alice()), json!("alice"), json!(7)),
        (Some(Sender::System), json!("system"), Value::Null),
        (None, Value::Null, Value::Null),
    ] {
        let deleted = Message {
            deleted_at: Some(AT),
            deleted_by: by,
            ..message()
        };
        let (socket, stream) = frames(DomainEvent::Message(MessageEvent::Deleted(deleted)));
        assert_eq!(socket["type"], "message_deleted");
        assert_eq!(socket["data"]["id"], json!(MESSAGE_UUID));
        assert_eq!(
            socket["data"]["is_deleted"], true,
            "the message's fields stay"
        );
        assert_eq!(socket["data"]["deleted_by"], chatapi);
        assert_eq!(socket["data"]["deleted_at"], "2024-01-02T03:04:05Z");
        assert_eq!(stream["type"], "message_deleted");
        assert_eq!(stream["data"]["id"], 55);
        assert_eq!(stream["data"]["deleted_by"], account);
        assert_eq!(stream["data"]["deleted_at"], AT_UNIX);
    }
    // Other message events carry no such fields.
    let (socket, stream) = frames(DomainEvent::Message(MessageEvent::Updated(message())));
    assert!(socket["data"].get("deleted_by").is_none(), "{socket}");
    assert!(stream["data"].get("deleted_at").is_none(), "{stream}");
}

#[test]
fn user_joined_carries_when_and_the_memberships_meta_and_user_left_when() {
    let meta = match json!({ "role": "host", "seat": 3 }) {
        Value::Object(map) => MemberMeta::parse(map).unwrap_or_else(|e| panic!("{e}")),
        other => panic!("{other}"),
    };
    let joined_at = datetime!(2024-01-02 3:04:05.25 UTC);
    let (socket, stream) = frames(DomainEvent::Member(MemberEvent::Joined {
        room: room(),
        user: alice(),
        joined_at,
        meta,
    }));
    assert_eq!(socket["type"], "user_joined");
    assert_eq!(socket["room_id"], json!(ROOM_UUID));
    assert_eq!(
        socket["data"],
        json!({
            "user_id": "alice",
            "user_name": "Alice",
            "joined_at": "2024-01-02T03:04:05.25Z",
            "meta": { "role": "host", "seat": 3 },
        })
    );
    assert_eq!(stream["room_id"], 5);
    assert_eq!(
        stream["data"],
        json!({
            "user_id": 7,
            "user_name": "Alice",
            "joined_at": AT_UNIX,
            "meta": { "role": "host", "seat": 3 },
        })
    );

    let (socket, stream) = frames(DomainEvent::Member(MemberEvent::Left {
        room: room(),
        user: alice(),
        left_at: AT,
    }));
    assert_eq!(socket["type"], "user_left");
    assert_eq!(
        socket["data"],
        json!({ "user_id": "alice", "user_name": "Alice", "left_at": "2024-01-02T03:04:05Z" })
    );
    assert_eq!(
        stream["data"],
        json!({ "user_id": 7, "user_name": "Alice", "left_at": AT_UNIX })
    );
}

#[test]
fn reactions_name_the_message_the_emoji_and_who_in_each_dialect() {
    for (added, kind) in [(true, "reaction_added"), (false, "reaction_removed")] {
        let (socket, stream) = frames(DomainEvent::Message(MessageEvent::Reacted {
            message: message(),
            emoji: Emoji::parse("👩🏽‍💻").unwrap_or_else(|e| panic!("{e}")),
            user: Person {
                id: UserId(7),
                label: "alice".to_owned(),
            },
            added,
        }));
        assert_eq!(socket["type"], kind);
        assert_eq!(socket["room_id"], json!(ROOM_UUID));
        assert_eq!(
            socket["data"],
            json!({ "message_id": MESSAGE_UUID, "emoji": "👩🏽‍💻", "user_id": "alice" })
        );
        assert_eq!(stream["type"], kind);
        assert_eq!(stream["room_id"], 5);
        assert_eq!(
            stream["data"],
            json!({ "message_id": 55, "emoji": "👩🏽‍💻", "user_id": 7 })
        );
    }
}

#[test]
fn pins_render_the_message_with_its_pin_in_each_dialect() {
    let pinned = Message {
        pin: Some(Pin {
            pinned_at: AT,
            pinned_by: by_alice(),
        }),
        ..message()
    };
    let (socket, stream) = frames(DomainEvent::Message(MessageEvent::Pinned(pinned)));
    assert_eq!(socket["type"], "message_pinned");
    assert_eq!(socket["data"]["id"], json!(MESSAGE_UUID));
    assert_eq!(socket["data"]["pinned_at"], "2024-01-02T03:04:05Z");
    assert_eq!(socket["data"]["pinned_by"], "alice");
    assert_eq!(stream["type"], "message_pinned");
    assert_eq!(stream["data"]["id"], 55);
    assert_eq!(stream["data"]["pinned_at"], AT_UNIX);
    assert_eq!(stream["data"]["pinned_by"], 7);

    let (socket, stream) = frames(DomainEvent::Message(MessageEvent::Unpinned(message())));
    assert_eq!(socket["type"], "message_unpinned");
    assert_eq!(socket["data"]["pinned_at"], Value::Null);
    assert_eq!(socket["data"]["pinned_by"], Value::Null);
    assert_eq!(stream["type"], "message_unpinned");
    assert_eq!(stream["data"]["pinned_by"], Value::Null);
}

#[test]
fn a_mention_frame_names_the_message_its_sender_and_who_is_mentioned_in_each_dialect() {
    let person = Person {
        id: UserId(7),
        label: "alice".to_owned(),
    };
    let named = Message {
        mentions: vec![person.clone()],
        ..message()
    };
    let socket = parse(&mention(&room_socket(), &named, &person));
    assert_eq!(socket["type"], "mention");
    assert_eq!(socket["room_id"], json!(ROOM_UUID));
    assert_eq!(
        socket["data"],
        json!({
            "message_id": MESSAGE_UUID,
            "room_id": ROOM_UUID,
            "sender_id": "bob",
            "mentioned_user_id": "alice",
            "created_at": "2024-01-02T03:04:05Z",
        })
    );
    let stream = parse(&mention(&user_stream(), &named, &person));
    assert_eq!(stream["type"], "mention");
    assert_eq!(stream["room_id"], 5);
    assert_eq!(
        stream["data"],
        json!({
            "message_id": 55,
            "room_id": 5,
            "sender_id": 8,
            "mentioned_user_id": 7,
            "created_at": AT_UNIX,
        })
    );
    // A system message: `system`, or no user.
    let from_system = Message {
        sender: Sender::System,
        ..named
    };
    let socket = parse(&mention(&room_socket(), &from_system, &person));
    assert_eq!(socket["data"]["sender_id"], "system");
    let stream = parse(&mention(&user_stream(), &from_system, &person));
    assert_eq!(stream["data"]["sender_id"], Value::Null);
}
