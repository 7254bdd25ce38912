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

/// A message's `message_type`: `text`, `system`, `image`, `file`, `audio`, `video`, or a
/// custom type of the application's own (`poll`), 1–32 lowercase letters, digits or `_`,
/// starting with a letter.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = String, pattern = "^[a-z][a-z0-9_]{0,31}$", min_length = 1, max_length = 32, example = "text")]
pub struct MessageTypeParam(String);
