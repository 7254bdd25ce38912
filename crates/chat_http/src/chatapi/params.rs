//! The closed sets of values some query parameters take, for the OpenAPI document (the
//! handlers read the parameters as text and answer 422 for anything else).

use serde::Serialize;
use utoipa::ToSchema;

/// `sort` of a room list.
#[derive(Debug, Serialize, ToSchema)]
pub enum RoomSortParam {
    /// By name, A to Z.
    #[serde(rename = "name")]
    Name,
    /// By name, Z to A.
    #[serde(rename = "-name")]
    NameDescending,
    /// Oldest first.
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest first (the default).
    #[serde(rename = "-created_at")]
    CreatedAtDescending,
}

/// `sort` of a message list.
#[derive(Debug, Serialize, ToSchema)]
pub enum MessageSortParam {
    /// Oldest first.
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest first (the default).
    #[serde(rename = "-created_at")]
    CreatedAtDescending,
}

/// A message's `message_type`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageTypeParam {
    /// Plain text, the default.
    Text,
    /// Said by the system (sender `system`).
    System,
    /// Mostly an image.
    Image,
    /// Mostly a file.
    File,
    /// Mostly sound.
    Audio,
    /// Mostly video.
    Video,
}
