//! The ChatAPI dialect's resources as JSON, shared by its REST answers and its live
//! events: rooms, messages and their files, users, and the pagination of a list.

use chat_app::{Actor, MessageView, RoomView, Window};
use chat_domain::{Attachment, ReactionRef, Reactions, Room, User};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Error, Query, rfc3339};
use crate::links::Links;

/// A message in the ChatAPI dialect.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageJson {
    pub id: Uuid,
    pub room_id: Uuid,
    pub client_id: Uuid,
    /// The participant's `user_id`, or `system`.
    pub sender_id: String,
    pub sender_name: Option<String>,
    pub content: String,
    /// `text`, `system`, `image`, `file`, `audio`, `video`, or a custom type (`poll`).
    #[schema(
        pattern = "^[a-z][a-z0-9_]{0,31}$",
        min_length = 1,
        max_length = 32,
        example = "text"
    )]
    pub message_type: String,
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339::serialize_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<OffsetDateTime>,
    pub is_deleted: bool,
    /// The message's place in its room: 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// The UUID of the message this one answers.
    pub reply_to: Option<Uuid>,
    /// The client's id for the send, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub echo_id: Option<String>,
    /// The files sent with it (through the account dialect), in the order they came;
    /// `[]` for none. A deleted message has none.
    pub attachments: Vec<AttachmentJson>,
    /// How many replies it has (its thread; deleted replies not counted).
    pub reply_count: i64,
    /// When its newest reply was sent; `null` without replies.
    #[serde(serialize_with = "rfc3339::serialize_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_reply_at: Option<OffsetDateTime>,
    /// Its reactions: each emoji once, in the order it was first used, with who reacted
    /// (oldest first); `[]` for none.
    #[serde(serialize_with = "reactions_json")]
    #[schema(value_type = Vec<ReactionJson>)]
    pub reactions: Reactions,
    /// The `user_id`s of the room's members it mentions (`meta.mentions` as sent, less
    /// anyone who is not a member, and the sender), in the order named.
    pub mentions: Vec<String>,
    /// When it was pinned; `null` when it is not.
    #[serde(serialize_with = "rfc3339::serialize_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub pinned_at: Option<OffsetDateTime>,
    /// Who pinned it: a `user_id`, or `system` for the API key; `null` when it is not
    /// pinned.
    #[schema(example = "user_123")]
    pub pinned_by: Option<String>,
}

/// One emoji on a message, in the ChatAPI dialect's terms (borrowed from the message's
/// [`Reactions`] as it is rendered: a page renders hundreds of users, none is copied).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatApiReactionJson)]
pub struct ReactionJson<'a> {
    /// One emoji (a single grapheme cluster, `👍`) or a short code (`:thumbsup:`), as given.
    #[schema(example = "👍")]
    pub emoji: &'a str,
    /// How many users reacted with it (at least 1).
    pub count: usize,
    /// Their `user_id`s, oldest first.
    #[serde(serialize_with = "user_labels")]
    #[schema(value_type = Vec<String>)]
    pub user_ids: ReactionRef<'a>,
}

impl<'a> From<ReactionRef<'a>> for ReactionJson<'a> {
    fn from(reaction: ReactionRef<'a>) -> Self {
        Self {
            emoji: reaction.emoji(),
            count: reaction.count(),
            user_ids: reaction,
        }
    }
}

/// A message's reactions, as a JSON array of [`ReactionJson`].
fn reactions_json<S: Serializer>(reactions: &Reactions, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(reactions.iter().map(ReactionJson::from))
}

/// The users' `user_id`s (their labels), as a JSON array.
fn user_labels<S: Serializer>(
    reaction: &ReactionRef<'_>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(reaction.users().map(|(_, label)| label))
}

/// A file sent with a message, in the ChatAPI dialect's terms (UUIDs, the media type).
/// Its URLs are signed and expire; they work without a credential.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatApiAttachmentJson)]
pub struct AttachmentJson {
    pub id: Uuid,
    /// The message's UUID.
    pub message_id: Uuid,
    /// `image`, `video`, `audio` or `file`, from the file's bytes.
    pub file_type: &'static str,
    /// The media type, from the file's bytes, e.g. `image/png`.
    pub content_type: &'static str,
    /// Without the dot: `png`, `pdf`, `txt`, `bin`, …
    pub extension: &'static str,
    pub data_url: String,
    /// The same URL as `data_url` for images, `""` otherwise.
    pub thumb_url: String,
    /// In bytes.
    pub file_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl AttachmentJson {
    fn new(attachment: &Attachment, message: Uuid, links: &Links) -> Self {
        let (data_url, thumb_url) = links.attachment_urls(attachment);
        Self {
            id: attachment.uuid,
            message_id: message,
            file_type: attachment.kind.file_type.as_str(),
            content_type: attachment.kind.mime,
            extension: attachment.kind.extension,
            data_url,
            thumb_url,
            file_size: attachment.size,
            width: attachment.dimensions.map(|(w, _)| w),
            height: attachment.dimensions.map(|(_, h)| h),
        }
    }
}

impl MessageJson {
    pub(crate) fn new(view: MessageView, client_id: Uuid, links: &Links) -> Self {
        let message = view.message;
        Self {
            attachments: message
                .attachments
                .iter()
                .map(|attachment| AttachmentJson::new(attachment, message.uuid, links))
                .collect(),
            id: message.uuid,
            room_id: message.room_uuid,
            client_id,
            sender_id: message.sender.label().to_owned(),
            sender_name: message.sender_name,
            content: message.content.as_str().to_owned(),
            message_type: message.kind.as_str().to_owned(),
            meta: message.meta.into_map(),
            created_at: message.created_at,
            updated_at: message.updated_at,
            edited_at: message.edited_at,
            is_deleted: message.deleted_at.is_some(),
            seq: message.seq.0,
            reply_to: view.in_reply_to.map(|r| r.message.uuid),
            echo_id: message.echo_id.map(|e| e.as_str().to_owned()),
            reply_count: message.thread.reply_count,
            last_reply_at: message.thread.last_reply_at,
            reactions: message.reactions,
            mentions: message.mentions.into_iter().map(|p| p.label).collect(),
            pinned_at: message.pin.as_ref().map(|pin| pin.pinned_at),
            pinned_by: message.pin.map(|pin| pin.pinned_by.label().to_owned()),
        }
    }
}

/// A room in the ChatAPI dialect.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomJson {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// The client (account) the room belongs to.
    pub client_id: Uuid,
    pub is_active: bool,
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub updated_at: OffsetDateTime,
    pub participant_count: i64,
    pub message_count: i64,
    /// Only in a list asked with `user_id` or with a user's credential: that user's
    /// unread messages in the room (other people's, after their read position).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    /// Only beside `unread_count`: how many of those mention the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_mentions: Option<i64>,
}

impl RoomJson {
    pub(crate) fn new(room: Room, client_id: Uuid) -> Self {
        Self {
            id: room.uuid,
            name: room.name.as_str().to_owned(),
            description: room.description.as_ref().map(|d| d.as_str().to_owned()),
            client_id,
            is_active: room.is_active,
            meta: room.meta.into_map(),
            created_at: room.created_at,
            updated_at: room.updated_at,
            participant_count: room.member_count,
            message_count: room.message_count,
            unread_count: None,
            unread_mentions: None,
        }
    }

    /// The room with a viewer's unread counts (a list for a viewer).
    pub(crate) fn with_unread(view: RoomView, client_id: Uuid) -> Self {
        Self {
            unread_count: Some(view.unread_count),
            unread_mentions: Some(view.unread_mentions),
            ..Self::new(view.room, client_id)
        }
    }
}

/// A user (an end user of the integration) in the ChatAPI dialect.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatApiUserJson)]
pub struct UserJson {
    /// The integrator's id for the user; the integer id as text for a user made without
    /// one (by the platform API or the account dialect).
    #[schema(example = "user_123")]
    pub user_id: String,
    #[schema(example = "John Doe")]
    pub user_name: String,
    pub email: Option<String>,
    /// The application's data about the user.
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
    /// An inactive user's credentials are refused.
    pub is_active: bool,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub created_at: OffsetDateTime,
}

impl From<User> for UserJson {
    fn from(user: User) -> Self {
        Self {
            user_id: user.chat_user_id(),
            user_name: user.name.as_str().to_owned(),
            email: user.email.as_ref().map(|email| email.as_str().to_owned()),
            meta: user.meta.into_map(),
            is_active: user.is_active,
            created_at: user.created_at,
        }
    }
}

/// `{skip, limit, total, has_more}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub skip: i64,
    /// The limit used (a larger one asked for is clamped).
    pub limit: i64,
    pub total: i64,
    pub has_more: bool,
}

impl Pagination {
    /// `skip` (≥ 0, default 0) and `limit` (1 to `max`, default `default`; a larger
    /// limit is clamped to `max`) of a ChatAPI list.
    pub(crate) fn window(query: &Query, default: i64, max: i64) -> Result<Window, Error> {
        let skip = query.integer("skip")?.unwrap_or(0);
        let limit = query.integer("limit")?.unwrap_or(default).min(max);
        Ok(Window::new(skip, limit, max)?)
    }

    /// The pagination of a page of `returned` items out of `total`.
    pub(crate) fn of(window: Window, returned: usize, total: i64) -> Self {
        let returned = i64::try_from(returned).unwrap_or(i64::MAX);
        Self {
            skip: window.offset,
            limit: window.limit,
            total,
            has_more: window.offset.saturating_add(returned) < total,
        }
    }
}

/// The client (account) a caller works in, as rendered: nil for the platform token.
pub(crate) fn client_id(actor: &Actor) -> Uuid {
    actor.account().map(|a| a.uuid).unwrap_or_default()
}
