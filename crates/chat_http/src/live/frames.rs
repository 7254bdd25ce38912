//! The frames' envelope, client frames read into commands, replies, and error frames.

use chat_app::{AppError, Conflict, Denied, FrameError, LiveCommand, Reply};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::dialect::LiveDialect;

/// A server frame: `{type, data, timestamp, room_id}`.
pub fn envelope(kind: &str, data: Value, room: Value) -> String {
    let timestamp = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    json!({ "type": kind, "data": data, "timestamp": timestamp, "room_id": room }).to_string()
}

/// A frame from the client: `{"type": ..., "data": {...}}`.
#[derive(Debug, Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<Value>,
    /// On a user's stream: the room a frame is about (`data.room_id` works too).
    #[serde(default)]
    room_id: Option<Value>,
}

/// What a client's text frame asks for.
pub fn command(text: &str) -> Result<LiveCommand, FrameError> {
    let frame: ClientFrame =
        serde_json::from_str(text).map_err(|error| FrameError::InvalidJson(error.to_string()))?;
    LiveCommand::parse(&frame.kind, frame.data, frame.room_id)
}

/// The frame answering a client frame, if any: type, data and `room_id`.
pub fn reply<D: LiveDialect>(dialect: &D, reply: Reply) -> Option<String> {
    let (kind, data, room) = match reply {
        Reply::Nothing => return None,
        Reply::Pong => ("pong", json!({}), dialect.own_room_id()),
        Reply::OnlineUsers { room, online } => {
            let total = online.len();
            let data = json!({ "online_users": online, "total_online": total });
            ("online_users", data, dialect.room_id(room.id, room.uuid))
        }
        Reply::Ack { room, message } => {
            let echo = message
                .message
                .echo_id
                .as_ref()
                .map_or(Value::Null, |e| json!(e.as_str()));
            let data = json!({ "echo_id": echo, "message": dialect.message(message) });
            ("ack", data, dialect.room_id(room.id, room.uuid))
        }
    };
    Some(envelope(kind, data, room))
}

/// An `error` frame's data: `{code, message}`.
pub fn error_data(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

/// A frame error as an `error` frame's code and message.
pub fn frame_error(error: &FrameError) -> (&'static str, String) {
    match error {
        FrameError::InvalidJson(detail) => (
            "invalid_json",
            format!("Frames are JSON objects with a type: {detail}"),
        ),
        FrameError::NotText => ("invalid_frame", "Frames are JSON text".to_owned()),
        FrameError::InvalidData(message) => ("invalid_data", message.clone()),
        FrameError::UnknownType(other) => (
            "unknown_type",
            format!(
                "Unknown frame type {other:?}: use typing, get_online_users, ping, read or message"
            ),
        ),
        FrameError::Listener => (
            "forbidden",
            "This socket only listens: connect with user_id to act as a participant".to_owned(),
        ),
        FrameError::NotInRoom => (
            "not_found",
            "message_id names no message of this room".to_owned(),
        ),
        FrameError::RateLimited => ("rate_limited", "Too many frames; slow down".to_owned()),
        FrameError::Refused(error) => app_error(error),
    }
}

/// A use-case error as an `error` frame's code and message.
fn app_error(error: &AppError) -> (&'static str, String) {
    match error {
        AppError::Invalid(errors) => ("invalid_data", errors.to_string()),
        AppError::ContentTooLong(too_long) => (
            "invalid_data",
            format!(
                "content is too long (maximum is {} characters)",
                too_long.max_length
            ),
        ),
        AppError::Forbidden(Denied::NotMember) => {
            ("forbidden", "Not a member of this room".to_owned())
        }
        AppError::Forbidden(Denied::PermissionDenied(permission)) => (
            "forbidden",
            format!("This credential lacks the {permission} permission"),
        ),
        AppError::Forbidden(
            Denied::NotAdministrator
            | Denied::NotAuthor
            | Denied::FeatureDisabled(_)
            | Denied::UserInactive
            | Denied::OtherUser
            | Denied::NotAUser,
        ) => ("forbidden", "Not allowed".to_owned()),
        AppError::NotFound(resource) => ("not_found", format!("No such {resource}")),
        AppError::Conflict(Conflict::RoomInactive) => {
            ("conflict", "The room is inactive".to_owned())
        }
        AppError::Conflict(
            Conflict::AlreadyInRoom
            | Conflict::NotInRoom
            | Conflict::RoomFull
            | Conflict::UserExists,
        ) => ("conflict", "Conflict".to_owned()),
        AppError::Unauthenticated
        | AppError::WrongAccount
        | AppError::TokenExpired
        | AppError::SigningUnavailable => ("unauthorized", "Unauthorized".to_owned()),
        AppError::Unavailable(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "a live frame found the store unavailable"
            );
            ("unavailable", "Service temporarily unavailable".to_owned())
        }
        AppError::Unexpected(error) => {
            tracing::error!(error = format!("{error:#}"), "a live frame failed");
            ("server_error", "Internal server error".to_owned())
        }
    }
}
