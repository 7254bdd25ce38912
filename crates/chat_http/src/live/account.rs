//! The account dialect of live frames (a user's stream): rooms, users and messages by
//! integer id, messages and rooms as `/api/v1/accounts/{id}` renders them.

use chat_app::{Actor, LiveSession, MessageView, RoomView};
use chat_domain::{Message, Room, RoomId, Sender, User, UserId};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::dialect::LiveDialect;
use crate::account::json::{ChatMessageJson, ChatRoomJson};
use crate::links::Links;

/// A user's stream's renderer.
#[derive(Debug)]
pub struct AccountLive {
    viewer: Actor,
    links: Links,
}

impl AccountLive {
    /// The renderer of `session`'s stream, whose links start at `links`.
    pub fn new(session: &LiveSession, links: Links) -> Self {
        Self {
            viewer: session.actor,
            links,
        }
    }
}

impl LiveDialect for AccountLive {
    fn room_id(&self, id: RoomId, _: Uuid) -> Value {
        json!(id.0)
    }

    fn own_room_id(&self) -> Value {
        Value::Null
    }

    fn user_id(&self, user: &User) -> Value {
        json!(user.id.0)
    }

    fn person_id(&self, user_key: &str, user: Option<UserId>) -> Value {
        match user {
            Some(user) => json!(user.0),
            None => json!(user_key),
        }
    }

    fn message_id(&self, message: &Message) -> Value {
        json!(message.id.0)
    }

    /// The user's id; `null` for the system.
    fn sender_id(&self, sender: &Sender) -> Value {
        sender.user_id().map_or(Value::Null, |user| json!(user.0))
    }

    /// Unix seconds.
    fn time(&self, at: OffsetDateTime) -> Value {
        json!(at.unix_timestamp())
    }

    fn message(&self, view: MessageView) -> Value {
        serde_json::to_value(ChatMessageJson::new(
            view,
            &self.viewer,
            &self.links.refreshed(),
        ))
        .unwrap_or(Value::Null)
    }

    fn room(&self, room: Room) -> Value {
        let view = RoomView {
            room,
            members: None,
            unread_count: 0,
            unread_mentions: 0,
        };
        serde_json::to_value(ChatRoomJson::new(
            &view,
            &self.viewer,
            &self.links.refreshed(),
        ))
        .unwrap_or(Value::Null)
    }

    fn greeting(&self, session: &LiveSession, _: Option<Vec<String>>) -> Value {
        json!({
            "status": "connected",
            "user_id": session.participant.as_ref().map(|user| user.id.0),
            "account_id": session.account.0,
        })
    }

    fn shared_key(&self) -> Option<&str> {
        None
    }
}
