//! Live events as frames: one renderer for every dialect, built on [`LiveDialect`].

use chat_app::{
    Delivery, DomainEvent, LiveEvent, MemberEvent, MessageEvent, MessageView, RoomEvent,
};
use chat_domain::{Message, Person};
use serde_json::{Value, json};

use super::dialect::LiveDialect;
use super::frames::envelope;

/// The frame of a delivery in `dialect`, if it shows one.
pub fn render<D: LiveDialect>(dialect: &D, delivery: &Delivery) -> Option<String> {
    let context = &delivery.context;
    let view = |message: &Message| MessageView {
        message: message.clone(),
        room_name: context.room_name.clone().unwrap_or_default(),
        sender: context.sender.clone(),
        in_reply_to: context.replied.clone(),
        status: None,
    };
    let (kind, data, room) = match &delivery.event {
        LiveEvent::Domain(DomainEvent::Message(event)) => {
            let (kind, message) = match event {
                MessageEvent::Created(m) => ("message", m),
                MessageEvent::Updated(m) => ("message_updated", m),
                MessageEvent::Deleted(m) => ("message_deleted", m),
                MessageEvent::Restored(m) => ("message_restored", m),
                MessageEvent::Pinned(m) => ("message_pinned", m),
                MessageEvent::Unpinned(m) => ("message_unpinned", m),
                MessageEvent::Reacted {
                    message,
                    emoji,
                    user,
                    added,
                } => {
                    let kind = if *added {
                        "reaction_added"
                    } else {
                        "reaction_removed"
                    };
                    let data = json!({
                        "message_id": dialect.message_id(message),
                        "emoji": emoji.as_str(),
                        "user_id": dialect.person_id(&user.label, Some(user.id)),
                    });
                    let room = dialect.room_id(message.room_id, message.room_uuid);
                    return Some(envelope(kind, data, room));
                }
                MessageEvent::Read { room, user, seq } => {
                    let user_id = match &context.reader {
                        Some(reader) => dialect.user_id(reader),
                        None => json!(user.0),
                    };
                    let message_id = context
                        .read_message
                        .as_ref()
                        .map_or(Value::Null, |m| dialect.message_id(m));
                    let data = json!({
                        "user_id": user_id,
                        "last_read_message_id": message_id,
                        "last_read_seq": seq.0,
                    });
                    let room = dialect.room_id(room.id, room.uuid);
                    return Some(envelope("read", data, room));
                }
            };
            let room = dialect.room_id(message.room_id, message.room_uuid);
            let mut data = dialect.message(view(message));
            if let (MessageEvent::Deleted(_), Value::Object(fields)) = (event, &mut data) {
                // Who deleted it (null when unknown) and when, beside the message.
                let deleted_by = message
                    .deleted_by
                    .as_ref()
                    .map_or(Value::Null, |sender| dialect.sender_id(sender));
                let deleted_at = message
                    .deleted_at
                    .map_or(Value::Null, |at| dialect.time(at));
                fields.insert("deleted_by".to_owned(), deleted_by);
                fields.insert("deleted_at".to_owned(), deleted_at);
            }
            (kind, data, room)
        }
        LiveEvent::Domain(DomainEvent::Member(event)) => match event {
            MemberEvent::Joined {
                room,
                user,
                joined_at,
                meta,
            } => {
                let data = json!({
                    "user_id": dialect.user_id(user),
                    "user_name": user.name.as_str(),
                    "joined_at": dialect.time(*joined_at),
                    "meta": meta.as_map(),
                });
                ("user_joined", data, dialect.room_id(room.id, room.uuid))
            }
            MemberEvent::Left {
                room,
                user,
                left_at,
            } => {
                let data = json!({
                    "user_id": dialect.user_id(user),
                    "user_name": user.name.as_str(),
                    "left_at": dialect.time(*left_at),
                });
                ("user_left", data, dialect.room_id(room.id, room.uuid))
            }
        },
        // Nothing a client is shown: the node re-checks its sockets' credentials.
        LiveEvent::Domain(DomainEvent::Credentials(_)) => return None,
        LiveEvent::Domain(DomainEvent::Room(event)) => {
            let (kind, room) = match event {
                RoomEvent::Created(_) => return None,
                RoomEvent::Updated(room) => ("room_updated", room),
                RoomEvent::Activated(room) => ("room_activated", room),
                RoomEvent::Deactivated(room) => ("room_deactivated", room),
                RoomEvent::Deleted { id, uuid, .. } => {
                    let value = dialect.room_id(*id, *uuid);
                    let data = json!({ "room_id": value });
                    return Some(envelope("room_deleted", data, value));
                }
            };
            let value = dialect.room_id(room.id, room.uuid);
            (kind, dialect.room(room.clone()), value)
        }
        LiveEvent::Typing(typing) => {
            let data = json!({
                "user_id": dialect.person_id(&typing.user_key, typing.user),
                "user_name": typing.user_name,
                "is_typing": typing.is_typing,
            });
            (
                "typing",
                data,
                dialect.room_id(typing.room, typing.room_uuid),
            )
        }
        LiveEvent::Presence(change) => {
            let status = if change.online { "online" } else { "offline" };
            let data = json!({
                "user_id": dialect.person_id(&change.user_key, change.user),
                "status": status,
            });
            (
                "presence",
                data,
                dialect.room_id(change.room, change.room_uuid),
            )
        }
    };
    Some(envelope(kind, data, room))
}

/// The `mention` frame telling `mentioned` that `message` (just delivered) names them.
pub fn mention<D: LiveDialect>(dialect: &D, message: &Message, mentioned: &Person) -> String {
    let data = json!({
        "message_id": dialect.message_id(message),
        "room_id": dialect.room_id(message.room_id, message.room_uuid),
        "sender_id": dialect.sender_id(&message.sender),
        "mentioned_user_id": dialect.person_id(&mentioned.label, Some(mentioned.id)),
        "created_at": dialect.time(message.created_at),
    });
    let room = dialect.room_id(message.room_id, message.room_uuid);
    envelope("mention", data, room)
}

#[cfg(test)]
mod tests {
    use chat_app::live::SocketCredential;
    use chat_app::{
        AccountAccess, Actor, Authenticated, Context, LiveSession, SessionKind, Typing,
    };
    use chat_domain::{AccountId, Features, Role, RoomId, UserId};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::links::Links;
    use crate::live::account::AccountLive;
    use crate::signing::UrlSigner;

    fn links() -> Links {
        Links::new("https://chat.example", UrlSigner::new(&[7; 32]), 0, 60)
    }

    fn typing() -> Delivery {
        Delivery::new(
            LiveEvent::Typing(Typing {
                account: AccountId(1),
                room: RoomId(5),
                room_uuid: Uuid::from_u128(5),
                user_key: "bob".to_owned(),
                user: Some(UserId(7)),
                user_name: "Bob".to_owned(),
                is_typing: true,
            }),
            Context::default(),
        )
    }

    fn frame(text: Option<String>) -> Value {
        let text = text.unwrap_or_else(|| panic!("a frame"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_account_dialect_names_rooms_and_people_by_id() {
        let actor = Actor::User {
            account: AccountAccess {
                id: AccountId(1),
                uuid: Uuid::from_u128(1),
                features: Features::default(),
            },
            user_id: UserId(7),
            role: Role::Agent,
            scope: None,
        };
        let session = LiveSession {
            actor,
            account: AccountId(1),
            participant: None,
            kind: SessionKind::Stream { rooms: Vec::new() },
            credential: SocketCredential::new(
                "ut_token",
                Authenticated {
                    actor,
                    expires_at: None,
                },
            ),
        };
        let dialect = AccountLive::new(&session, links());
        let frame = frame(render(&dialect, &typing()));
        assert_eq!(frame["type"], "typing");
        assert_eq!(frame["room_id"], 5);
        assert_eq!(
            frame["data"],
            json!({ "user_id": 7, "user_name": "Bob", "is_typing": true })
        );
        assert_eq!(dialect.shared_key(), None);
    }
}
