//! What a client may say on a live connection, parsed into typed commands, and what
//! the session answers.
//!
//! A frame is `{"type": ..., "data": {...}}` (on a user's stream with a `room_id`,
//! beside `data` or inside it). The adapter reads the envelope; [`LiveCommand::parse`]
//! gives its `type` and `data` a meaning. A field the command does not need yet keeps
//! its parse error until the command runs, so a frame's checks come in the same order
//! as ever: who may act first, then which room, then the fields.

use chat_domain::{MessageId, MessageRef, Permission, Room, RoomId};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::MessageView;
use crate::error::AppError;

/// A client frame's meaning.
#[derive(Debug, PartialEq)]
pub enum LiveCommand {
    /// `ping`: answered with `pong`.
    Ping,
    /// `get_online_users`: who has a socket open to the room.
    OnlineUsers {
        /// The room the frame names (a user's stream only).
        room: Option<RoomId>,
    },
    /// `typing`: tells the room's other sockets.
    Typing {
        /// The room the frame names (a user's stream only).
        room: Option<RoomId>,
        /// `data.is_typing` (absent: `true`).
        is_typing: Result<bool, FrameError>,
    },
    /// `read`: moves the participant's read position up to a message.
    Read {
        /// `data.message_id`: a UUID, or an id.
        message: Result<MessageRef, FrameError>,
    },
    /// `message`: sends a message, acknowledged with its `echo_id`.
    Message {
        /// The room the frame names (a user's stream only).
        room: Option<RoomId>,
        /// The message's fields, as sent.
        draft: Result<MessageDraft, FrameError>,
    },
}

/// The fields of a `message` frame, of the right JSON types (their rules are checked
/// by `Outgoing::parse` when the message is sent).
#[derive(Debug, Default, PartialEq)]
pub struct MessageDraft {
    /// `content`.
    pub content: Option<String>,
    /// `message_type`.
    pub message_type: Option<String>,
    /// `echo_id`: the client's own id for the message, repeated in the `ack`.
    pub echo_id: Option<String>,
    /// `sender_id` (with the API key: whom the message is from).
    pub sender_id: Option<String>,
    /// `meta`: free-form data kept with the message.
    pub meta: Option<Map<String, Value>>,
    /// `reply_to`: the message replied to.
    pub reply_to: Option<Result<MessageRef, FrameError>>,
}

/// What a client frame is answered with (besides nothing).
// One per frame, moved once into its rendering: no need to box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Nothing to answer (typing, read).
    Nothing,
    /// `pong`.
    Pong,
    /// `online_users` of `room`.
    OnlineUsers {
        /// The room asked about.
        room: Room,
        /// The ChatAPI `user_id`s online in it, sorted.
        online: Vec<String>,
    },
    /// `ack` of a sent message.
    Ack {
        /// The room it went to.
        room: Room,
        /// The stored message, with as much detail as the connection shows.
        message: MessageView,
    },
}

/// Why a client frame was not done: answered with an `error` frame, and the connection
/// stays open.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Not a JSON object with a string `type` (the parser's words).
    #[error("not a frame: {0}")]
    InvalidJson(String),
    /// A binary frame: frames are JSON text.
    #[error("a binary frame")]
    NotText,
    /// A field of the wrong type or missing (what is wrong, in words).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// A `type` no command has.
    #[error("unknown frame type {0:?}")]
    UnknownType(String),
    /// The socket only listens (the API key without a `user_id`): it cannot act.
    #[error("a listening socket cannot act")]
    Listener,
    /// A `read` names a message of another room than the socket's.
    #[error("the message is not in this room")]
    NotInRoom,
    /// Too many frames: slow down.
    #[error("too many frames")]
    RateLimited,
    /// The use case refused.
    #[error(transparent)]
    Refused(#[from] AppError),
}

impl PartialEq for FrameError {
    /// Same case and words; use-case errors compare by their text.
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
            && std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl LiveCommand {
    /// The meaning of a frame of type `kind` with `data`, and the `room_id` written
    /// beside `data` (on a user's stream, `data.room_id` works too).
    pub fn parse(
        kind: &str,
        data: Option<Value>,
        room_id: Option<Value>,
    ) -> Result<Self, FrameError> {
        let room = || named_room(room_id.as_ref(), data.as_ref());
        match kind {
            "ping" => Ok(LiveCommand::Ping),
            "get_online_users" => Ok(LiveCommand::OnlineUsers { room: room() }),
            "typing" => Ok(LiveCommand::Typing {
                room: room(),
                is_typing: match data.as_ref().and_then(|d| d.get("is_typing")) {
                    None => Ok(true),
                    Some(Value::Bool(b)) => Ok(*b),
                    Some(_) => Err(invalid("is_typing must be true or false")),
                },
            }),
            "read" => Ok(LiveCommand::Read {
                message: message_ref(data.as_ref().and_then(|d| d.get("message_id"))),
            }),
            "message" => Ok(LiveCommand::Message {
                room: room(),
                draft: draft(data),
            }),
            other => Err(FrameError::UnknownType(other.to_owned())),
        }
    }
}

impl LiveCommand {
    /// The permission a scoped credential needs for the frame: `send_messages` to send
    /// or type, `read_messages` to read or ask who is online; a ping needs none.
    pub fn permission(&self) -> Option<Permission> {
        match self {
            LiveCommand::Ping => None,
            LiveCommand::OnlineUsers { .. } | LiveCommand::Read { .. } => {
                Some(Permission::ReadMessages)
            }
            LiveCommand::Typing { .. } | LiveCommand::Message { .. } => {
                Some(Permission::SendMessages)
            }
        }
    }
}

fn invalid(message: &str) -> FrameError {
    FrameError::InvalidData(message.to_owned())
}

/// The room a frame names: `room_id` beside `data`, else inside it; an id or a string
/// holding one.
fn named_room(room_id: Option<&Value>, data: Option<&Value>) -> Option<RoomId> {
    room_id
        .or_else(|| data.and_then(|d| d.get("room_id")))
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .map(RoomId)
}

/// The message a frame names: a UUID (room sockets) or an id (streams).
fn message_ref(value: Option<&Value>) -> Result<MessageRef, FrameError> {
    match value {
        Some(Value::String(s)) => match Uuid::parse_str(s.trim()) {
            Ok(uuid) => Ok(MessageRef::Uuid(uuid)),
            Err(_) => s
                .trim()
                .parse::<i64>()
                .map(|id| MessageRef::Id(MessageId(id)))
                .map_err(|_| invalid("message_id names no message")),
        },
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|id| MessageRef::Id(MessageId(id)))
            .ok_or_else(|| invalid("message_id names no message")),
        _ => Err(invalid("message_id is required")),
    }
}

fn draft(data: Option<Value>) -> Result<MessageDraft, FrameError> {
    let Some(Value::Object(data)) = data else {
        return Err(invalid("data must be an object"));
    };
    let text = |name: &str| -> Result<Option<String>, FrameError> {
        match data.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FrameError::InvalidData(format!("{name} must be a string"))),
        }
    };
    let content = text("content")?;
    let message_type = text("message_type")?;
    let echo_id = text("echo_id")?;
    let sender_id = text("sender_id")?;
    let meta = match data.get("meta") {
        None | Some(Value::Null) => None,
        Some(Value::Object(meta)) => Some(meta.clone()),
        Some(_) => return Err(invalid("meta must be an object")),
    };
    let reply_to = match data.get("reply_to") {
        None | Some(Value::Null) => None,
        value => Some(message_ref(value)),
    };
    Ok(MessageDraft {
        content,
        message_type,
        echo_id,
        sender_id,
        meta,
        reply_to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(kind: &str, data: Value) -> Result<LiveCommand, FrameError> {
        LiveCommand::parse(kind, Some(data), None)
    }

    #[test]
    fn ping_and_unknown_types() {
        assert_eq!(
            LiveCommand::parse("ping", None, None),
            Ok(LiveCommand::Ping)
        );
        assert_eq!(
            LiveCommand::parse("dance", None, None),
            Err(FrameError::UnknownType("dance".into()))
        );
    }

    #[test]
    fn a_room_is_named_beside_data_or_inside_it_as_an_id_or_a_string() {
        let beside = LiveCommand::parse("get_online_users", None, Some(json!(7)));
        assert_eq!(
            beside,
            Ok(LiveCommand::OnlineUsers {
                room: Some(RoomId(7))
            })
        );
        let inside = parse("get_online_users", json!({ "room_id": "8" }));
        assert_eq!(
            inside,
            Ok(LiveCommand::OnlineUsers {
                room: Some(RoomId(8))
            })
        );
        let neither = parse("get_online_users", json!({ "room_id": "x" }));
        assert_eq!(neither, Ok(LiveCommand::OnlineUsers { room: None }));
    }

    #[test]
    fn typing_defaults_to_true_and_takes_only_booleans() {
        let typing = |data| match parse("typing", data) {
            Ok(LiveCommand::Typing { is_typing, .. }) => is_typing,
            other => panic!("{other:?}"),
        };
        assert_eq!(typing(json!({})), Ok(true));
        assert_eq!(typing(json!({ "is_typing": false })), Ok(false));
        assert_eq!(
            typing(json!({ "is_typing": "yes" })),
            Err(invalid("is_typing must be true or false"))
        );
    }

    #[test]
    fn read_names_a_message_by_uuid_or_id() {
        let read = |data| match parse("read", data) {
            Ok(LiveCommand::Read { message }) => message,
            other => panic!("{other:?}"),
        };
        let uuid = Uuid::from_u128(1);
        assert_eq!(
            read(json!({ "message_id": uuid.to_string() })),
            Ok(MessageRef::Uuid(uuid))
        );
        assert_eq!(
            read(json!({ "message_id": " 12 " })),
            Ok(MessageRef::Id(MessageId(12)))
        );
        assert_eq!(
            read(json!({ "message_id": 13 })),
            Ok(MessageRef::Id(MessageId(13)))
        );
        assert_eq!(
            read(json!({ "message_id": "x" })),
            Err(invalid("message_id names no message"))
        );
        assert_eq!(read(json!({})), Err(invalid("message_id is required")));
    }

    #[test]
    fn a_message_frame_keeps_its_fields_and_reports_the_first_of_a_wrong_type() {
        let draft = |data| match parse("message", data) {
            Ok(LiveCommand::Message { draft, .. }) => draft,
            other => panic!("{other:?}"),
        };
        let full = draft(json!({
            "content": "hi", "message_type": "text", "echo_id": "e1", "sender_id": "bob",
            "meta": { "k": 1 }, "reply_to": 4,
        }));
        assert_eq!(
            full,
            Ok(MessageDraft {
                content: Some("hi".into()),
                message_type: Some("text".into()),
                echo_id: Some("e1".into()),
                sender_id: Some("bob".into()),
                meta: json!({ "k": 1 }).as_object().cloned(),
                reply_to: Some(Ok(MessageRef::Id(MessageId(4)))),
            })
        );
        assert_eq!(
            draft(json!("hello")),
            Err(invalid("data must be an object"))
        );
        assert_eq!(
            draft(json!({ "content": 42 })),
            Err(invalid("content must be a string"))
        );
        assert_eq!(
            draft(json!({ "meta": [] })),
            Err(invalid("meta must be an object"))
        );
        assert_eq!(
            draft(json!({ "content": null })),
            Ok(MessageDraft::default())
        );
    }
}
