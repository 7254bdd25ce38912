//! The ChatAPI dialect of live frames (a room's socket): rooms and messages by UUID,
//! users by their ChatAPI `user_id`, messages and rooms as `/api/v1` renders them.

use chat_app::{LiveSession, MessageView};
use chat_domain::{Message, Room, RoomId, Sender, User, UserId};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::dialect::LiveDialect;
use crate::chatapi::json::{MessageJson, RoomJson};
use crate::links::Links;

/// A room socket's renderer.
#[derive(Debug)]
pub struct ChatApiLive {
    room: Uuid,
    total_participants: i64,
    user_key: Option<String>,
    client: Uuid,
    links: Links,
}

impl ChatApiLive {
    /// The renderer of a socket to `room`, connected as `user_key` (none: listening) by
    /// client `client`, whose links start at `links`.
    pub fn new(room: &Room, user_key: Option<String>, client: Uuid, links: Links) -> Self {
        Self {
            room: room.uuid,
            total_participants: room.member_count,
            user_key,
            client,
            links,
        }
    }
}

impl LiveDialect for ChatApiLive {
    fn room_id(&self, _: RoomId, uuid: Uuid) -> Value {
        json!(uuid)
    }

    fn own_room_id(&self) -> Value {
        json!(self.room)
    }

    fn user_id(&self, user: &User) -> Value {
        json!(user.chat_user_id())
    }

    fn person_id(&self, user_key: &str, _: Option<UserId>) -> Value {
        json!(user_key)
    }

    fn message_id(&self, message: &Message) -> Value {
        json!(message.uuid)
    }

    /// The participant's `user_id` when they acted, or `system`.
    fn sender_id(&self, sender: &Sender) -> Value {
        json!(sender.label())
    }

    /// RFC 3339 in UTC, as `/api/v1` renders times.
    fn time(&self, at: OffsetDateTime) -> Value {
        at.to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .map_or(Value::Null, Value::String)
    }

    fn message(&self, view: MessageView) -> Value {
        serde_json::to_value(MessageJson::new(view, self.client, &self.links.refreshed()))
            .unwrap_or(Value::Null)
    }

    fn room(&self, room: Room) -> Value {
        serde_json::to_value(RoomJson::new(room, self.client)).unwrap_or(Value::Null)
    }

    fn greeting(&self, _: &LiveSession, online: Option<Vec<String>>) -> Value {
        json!({
            "status": "connected",
            "user_id": self.user_key,
            "room_id": self.room,
            "online_users": online.unwrap_or_default(),
            "total_participants": self.total_participants,
        })
    }

    /// Every room socket renders an event alike: the first one renders it for all
    /// (its links' base is the key; it is the same for all).
    fn shared_key(&self) -> Option<&str> {
        Some(self.links.base())
    }
}
