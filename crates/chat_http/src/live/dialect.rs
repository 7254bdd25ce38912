//! How one dialect shows live events: the one trait each dialect implements.

use chat_app::{LiveSession, MessageView};
use chat_domain::{Message, Room, RoomId, Sender, User, UserId};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// Everything a dialect decides about live frames, as `crate::error::Dialect` decides
/// HTTP errors: how it names rooms, users and messages, and how it renders them. The
/// frames themselves ([`super::events`], [`super::frames`]) are built from these, so a
/// new event type is one change to the renderer plus, where the dialects differ, one
/// method here implemented once per dialect.
pub trait LiveDialect: Send + 'static {
    /// The `room_id` of a frame about a room.
    fn room_id(&self, id: RoomId, uuid: Uuid) -> Value;

    /// The `room_id` of frames about the connection itself (greeting, pong, errors).
    fn own_room_id(&self) -> Value;

    /// A user in a `user_id` field (joins, leaves, read positions).
    fn user_id(&self, user: &User) -> Value;

    /// The person typing or coming online: their ChatAPI `user_id`, and their user id
    /// when they are one of the account's users.
    fn person_id(&self, user_key: &str, user: Option<UserId>) -> Value;

    /// A message's id (read positions).
    fn message_id(&self, message: &Message) -> Value;

    /// Who wrote or did something, as a message names them (a mention's `sender_id`, a
    /// deletion's `deleted_by`); the system is the API key speaking for nobody.
    fn sender_id(&self, sender: &Sender) -> Value;

    /// A point in time (`joined_at`, `left_at`, `deleted_at`...), in this dialect's
    /// time format.
    fn time(&self, at: OffsetDateTime) -> Value;

    /// A message, as this dialect's REST API renders it.
    fn message(&self, view: MessageView) -> Value;

    /// A room, as this dialect's REST API renders it.
    fn room(&self, room: Room) -> Value;

    /// The `connection_status` frame's data; `online` are the users online in a room
    /// socket's room.
    fn greeting(&self, session: &LiveSession, online: Option<Vec<String>>) -> Value;

    /// The key under which sockets of this dialect share one rendering of an event
    /// (`None`: every socket renders its own).
    fn shared_key(&self) -> Option<&str>;
}
