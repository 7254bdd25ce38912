//! The account dialect's resources as JSON, shared by its REST answers and its live
//! events: chat rooms, their members, messages and their files, each as one viewer sees it.

use chat_app::{Actor, MessageView, RoomView};
use chat_domain::{Attachment, ReactionRef, Reactions, User};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::links::Links;

/// A member as the room shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberSummaryJson {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    /// The user's picture; `null` until users have pictures.
    pub thumbnail: Option<String>,
    /// `online`, `offline` or `busy`.
    pub availability_status: &'static str,
}

impl From<&User> for MemberSummaryJson {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.0,
            name: user.name.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            thumbnail: None,
            availability_status: user.availability.as_str(),
        }
    }
}

/// A chat room as one viewer sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatRoomJson {
    pub id: i64,
    /// The same room's id in the ChatAPI dialect (`/api/v1/rooms/{room_id}`, `/ws/{room_id}`).
    pub uuid: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub account_id: i64,
    pub avatar_url: Option<String>,
    /// Whether the viewer belongs to the room (always false for an API key).
    pub is_member: bool,
    pub member_count: i64,
    /// Unix seconds of the newest message; the room's creation until its first message.
    pub last_message_at: i64,
    /// Other people's messages after the viewer's read position.
    pub unread_count: i64,
    /// Of those, the ones that mention the viewer.
    pub unread_mentions: i64,
    /// In join order.
    pub members: Vec<MemberSummaryJson>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ChatRoomJson {
    pub(crate) fn new(view: &RoomView, viewer: &Actor, links: &Links) -> Self {
        let room = &view.room;
        Self {
            id: room.id.0,
            uuid: room.uuid,
            name: room.name.as_str().to_owned(),
            description: room.description.as_ref().map(|d| d.as_str().to_owned()),
            account_id: room.account_id.0,
            avatar_url: room.avatar.as_ref().map(|key| links.file_url(key)),
            is_member: view.is_member(viewer),
            member_count: room.member_count,
            last_message_at: room.last_message_at.unix_timestamp(),
            unread_count: view.unread_count,
            unread_mentions: view.unread_mentions,
            members: view
                .members
                .iter()
                .flatten()
                .map(MemberSummaryJson::from)
                .collect(),
            created_at: room.created_at.unix_timestamp(),
            updated_at: room.updated_at.unix_timestamp(),
        }
    }
}

/// The sender of a replied-to message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplySenderJson {
    pub id: i64,
    pub name: String,
}

/// The message a reply answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct InReplyToJson {
    pub id: i64,
    pub content: String,
    pub sender: Option<ReplySenderJson>,
}

/// A message as one viewer sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatMessageJson {
    pub id: i64,
    pub content: String,
    /// `outgoing` when the viewer sent it, else `incoming`.
    pub message_type: &'static str,
    pub content_type: &'static str,
    /// `{}`, with `in_reply_to` (an id) for a reply and `mentions` (the ids of the
    /// room's members it mentions, in the order named) when it mentions anyone.
    #[schema(value_type = ContentAttributesJson)]
    pub content_attributes: Map<String, Value>,
    pub created_at: i64,
    /// The room's id.
    pub conversation_id: i64,
    pub room_name: String,
    /// `null` for system messages.
    pub sender: Option<MemberSummaryJson>,
    /// The files sent with it, in the order they came.
    pub attachments: Vec<AttachmentJson>,
    /// `sent`, `delivered` or `read`, over every member but the sender.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<InReplyToJson>,
    /// The client's id for the send, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub echo_id: Option<String>,
    /// How many replies it has (deleted replies not counted).
    pub reply_count: i64,
    /// Its reactions: each emoji once, in the order it was first used; `[]` for none.
    #[serde(serialize_with = "reactions_json")]
    #[schema(value_type = Vec<ReactionJson>)]
    pub reactions: Reactions,
    /// When it was pinned (unix seconds); `null` when it is not.
    pub pinned_at: Option<i64>,
    /// The id of the user who pinned it; `null` when it is not pinned, or when the API
    /// key pinned it.
    pub pinned_by: Option<i64>,
}

/// A message's `content_attributes`, as documented (rendered from a map, so that a
/// message with neither is `{}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContentAttributesJson {
    /// The id of the message this one answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<i64>,
    /// The ids of the room's members it mentions, in the order named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<i64>>,
}

/// One emoji on a message, in the account dialect's terms (borrowed from the message's
/// [`Reactions`] as it is rendered: a page renders hundreds of users, none is copied).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountReactionJson)]
pub struct ReactionJson<'a> {
    /// One emoji (a single grapheme cluster, `👍`) or a short code (`:thumbsup:`), as given.
    #[schema(example = "👍")]
    pub emoji: &'a str,
    /// How many users reacted with it (at least 1).
    pub count: usize,
    /// Their ids, oldest first.
    #[serde(serialize_with = "user_ids")]
    #[schema(value_type = Vec<i64>)]
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

/// The users' integer ids, as a JSON array.
fn user_ids<S: Serializer>(reaction: &ReactionRef<'_>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(reaction.users().map(|(id, _)| id.0))
}

/// A file sent with a message. Its URLs are signed and expire (after
/// `CHAT_FILE_URL_TTL_SECS`); they work without a credential.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountAttachmentJson)]
pub struct AttachmentJson {
    pub id: i64,
    pub message_id: i64,
    /// `image`, `video`, `audio` or `file`, from the file's bytes.
    pub file_type: &'static str,
    pub account_id: i64,
    /// From the file's bytes (not its name), without the dot: `png`, `pdf`, `txt`, `bin`, …
    pub extension: &'static str,
    pub data_url: String,
    /// The same URL as `data_url` for images (no resized copies are made), `""` otherwise.
    pub thumb_url: String,
    /// In bytes.
    pub file_size: u64,
    /// Pixels, for images whose size could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl AttachmentJson {
    pub(crate) fn new(attachment: &Attachment, links: &Links) -> Self {
        let (data_url, thumb_url) = links.attachment_urls(attachment);
        Self {
            id: attachment.id.0,
            message_id: attachment.message_id.0,
            file_type: attachment.kind.file_type.as_str(),
            account_id: attachment.account_id.0,
            extension: attachment.kind.extension,
            data_url,
            thumb_url,
            file_size: attachment.size,
            width: attachment.dimensions.map(|(w, _)| w),
            height: attachment.dimensions.map(|(_, h)| h),
        }
    }
}

impl ChatMessageJson {
    pub(crate) fn new(view: MessageView, viewer: &Actor, links: &Links) -> Self {
        let message = view.message;
        let outgoing = viewer.user_id().is_some() && message.sender.user_id() == viewer.user_id();
        let mut content_attributes = Map::new();
        if let Some(replied) = message.reply_to {
            content_attributes.insert("in_reply_to".to_owned(), json!(replied.0));
        }
        if !message.mentions.is_empty() {
            let ids: Vec<i64> = message.mentions.iter().map(|p| p.id.0).collect();
            content_attributes.insert("mentions".to_owned(), json!(ids));
        }
        Self {
            id: message.id.0,
            content: message.content.as_str().to_owned(),
            message_type: if outgoing { "outgoing" } else { "incoming" },
            content_type: "text",
            content_attributes,
            created_at: message.created_at.unix_timestamp(),
            conversation_id: message.room_id.0,
            room_name: view.room_name,
            sender: view.sender.as_ref().map(MemberSummaryJson::from),
            attachments: message
                .attachments
                .iter()
                .map(|attachment| AttachmentJson::new(attachment, links))
                .collect(),
            status: view.status.map_or("sent", |s| s.as_str()),
            in_reply_to: view.in_reply_to.map(|replied| InReplyToJson {
                id: replied.message.id.0,
                content: replied.message.content.as_str().to_owned(),
                sender: replied.sender.as_ref().map(|user: &User| ReplySenderJson {
                    id: user.id.0,
                    name: user.name.as_str().to_owned(),
                }),
            }),
            echo_id: message.echo_id.map(|e| e.as_str().to_owned()),
            reply_count: message.thread.reply_count,
            reactions: message.reactions,
            pinned_at: message.pin.as_ref().map(|p| p.pinned_at.unix_timestamp()),
            pinned_by: message
                .pin
                .as_ref()
                .and_then(|p| p.pinned_by.user_id())
                .map(|id| id.0),
        }
    }
}
