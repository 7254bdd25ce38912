//! ChatAPI messages (`/api/v1/rooms/{room_id}/messages`, `/api/v1/messages/{message_id}`).

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post, put};
use chat_app::{
    AppError, MessageDetail, MessageFilter, MessageOrder, MessageView, Outgoing, RawOutgoing,
    Resource, Window,
};
use chat_domain::{
    Attachment, Content, FieldError, MessageKind, MessageMeta, MessageRef, Problem, Seq,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

use super::rooms::{Pagination, room_ref};
use super::{Authenticated, Envelope, Error, ErrorBody, Json, Query, rfc3339};
use crate::AppState;
use crate::error::RequestError;
use crate::links::Links;

/// `{sender_id, sender_name?, content, message_type?, meta?, reply_to?, echo_id?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    /// With the API key: the participant who speaks (`system` messages need none). With a
    /// user token the sender is that user, whatever this says.
    #[schema(example = "user_123")]
    pub sender_id: Option<String>,
    pub sender_name: Option<String>,
    /// 1–10,000 characters.
    #[schema(example = "Hello, team!")]
    pub content: Option<String>,
    /// `text` (default), `system`, `image`, `file`, `audio` or `video`.
    pub message_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
    /// The UUID of a message of the same room this one answers.
    pub reply_to: Option<Uuid>,
    /// The client's id for this send: a retry with the same one returns the first message.
    pub echo_id: Option<String>,
}

/// `{content?, meta?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditMessageRequest {
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
}

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
    pub message_type: &'static str,
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
}

/// A file sent with a message, in the ChatAPI dialect's terms (UUIDs, the media type).
/// Its URLs are signed and expire; they work without a credential.
#[derive(Debug, Serialize, ToSchema)]
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
            message_type: message.kind.as_str(),
            meta: message.meta.into_map(),
            created_at: message.created_at,
            updated_at: message.updated_at,
            edited_at: message.edited_at,
            is_deleted: message.deleted_at.is_some(),
            seq: message.seq.0,
            reply_to: view.in_reply_to.map(|r| r.message.uuid),
            echo_id: message.echo_id.map(|e| e.as_str().to_owned()),
        }
    }
}

/// A page of messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub data: Vec<MessageJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

/// What deleting or restoring answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageStateJson {
    pub id: Uuid,
    pub is_deleted: bool,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A ChatAPI message id: a UUID. Anything else names no message.
fn message_ref(raw: &str) -> Result<MessageRef, AppError> {
    Uuid::parse_str(raw)
        .map(MessageRef::Uuid)
        .map_err(|_| AppError::NotFound(Resource::Message))
}

fn client_id(auth: &Authenticated) -> Uuid {
    auth.actor.account().map(|a| a.uuid).unwrap_or_default()
}

const DEFAULT_LIMIT: i64 = 50;

/// Send a message to a room.
#[utoipa::path(
    tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    request_body = SendMessageRequest,
    responses(
        (status = 201, description = "The message", body = Envelope<MessageJson>),
        (status = 200, description = "A retry of an echo_id already sent: the first message, nothing stored", body = Envelope<MessageJson>),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED: the sender is not a participant", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        (status = 409, description = "ROOM_INACTIVE", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR or CONTENT_TOO_LONG", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/messages")]
pub async fn send_message(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: Path<String>,
    body: Json<SendMessageRequest>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let out = Outgoing::parse(RawOutgoing {
        sender_id: body.sender_id.as_deref(),
        sender_name: body.sender_name.as_deref(),
        content: body.content.as_deref(),
        message_type: body.message_type.as_deref(),
        meta: body.meta,
        reply_to: body.reply_to.map(MessageRef::Uuid),
        echo_id: body.echo_id.as_deref(),
        has_files: false,
    })?;
    let (view, created) = state
        .app
        .messages
        .send(
            &auth.actor,
            room_ref(&room_id)?,
            out,
            Vec::new(),
            MessageDetail::Summary,
        )
        .await?;
    let json = Envelope::ok(MessageJson::new(view, client_id(&auth), &links));
    Ok(if created {
        HttpResponse::Created().json(json)
    } else {
        HttpResponse::Ok().json(json)
    })
}

fn time_param(query: &Query, name: &str) -> Result<Option<OffsetDateTime>, Error> {
    query
        .get(name)?
        .map(|raw| {
            OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| {
                RequestError::WrongField {
                    field: name.to_owned(),
                    reason: format!("must be an RFC 3339 time, got {raw:?}"),
                }
                .into()
            })
        })
        .transpose()
}

fn seq_param(query: &Query, name: &'static str) -> Result<Option<Seq>, Error> {
    match query.integer(name)? {
        Some(seq) if seq < 0 => Err(FieldError::new(
            name,
            Problem::OutOfRange {
                min: 0,
                max: i64::MAX,
            },
        )
        .into()),
        other => Ok(other.map(Seq)),
    }
}

/// List a room's messages.
#[utoipa::path(
    tag = "messages",
    params(
        ("room_id" = Uuid, Path, description = "The room's UUID"),
        ("skip" = Option<i64>, Query, description = "Messages to skip (default 0)"),
        ("limit" = Option<i64>, Query, description = "1–100, default 50; larger values are clamped"),
        ("sender_id" = Option<String>, Query, description = "Only this sender's messages (`system` for system messages)"),
        ("message_type" = Option<String>, Query, description = "Only this type"),
        ("created_after" = Option<String>, Query, description = "RFC 3339: only messages created after"),
        ("created_before" = Option<String>, Query, description = "RFC 3339: only messages created before"),
        ("search" = Option<String>, Query, description = "Case-insensitive text in the content"),
        ("include_deleted" = Option<bool>, Query, description = "Include deleted messages (default false)"),
        ("sort" = Option<String>, Query, description = "`-created_at` (default, newest first) or `created_at`"),
        ("after_seq" = Option<i64>, Query, description = "Keyset cursor: only messages with a larger seq"),
        ("before_seq" = Option<i64>, Query, description = "Keyset cursor: only messages with a smaller seq"),
    ),
    responses(
        (status = 200, description = "A page of messages", body = MessageList),
        (status = 400, description = "A parameter has the wrong type", body = ErrorBody),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        (status = 422, description = "A parameter is out of range", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}/messages")]
pub async fn list_messages(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: Path<String>,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let window = Pagination::window(&query, DEFAULT_LIMIT, Window::MAX_LIMIT)?;
    let order = match query.get("sort")?.as_deref() {
        None | Some("-created_at") => MessageOrder::NewestFirst,
        Some("created_at") => MessageOrder::OldestFirst,
        Some(_) => {
            return Err(FieldError::new(
                "sort",
                Problem::NotIncluded {
                    allowed: &["created_at", "-created_at"],
                },
            )
            .into());
        }
    };
    let kind = query
        .get("message_type")?
        .map(|raw| MessageKind::parse(&raw))
        .transpose()?;
    let search = query.get("search")?.filter(|s| !s.trim().is_empty());
    let filter = MessageFilter {
        sender: query.get("sender_id")?,
        kind,
        created_after: time_param(&query, "created_after")?,
        created_before: time_param(&query, "created_before")?,
        search,
        include_deleted: query.boolean("include_deleted")?.unwrap_or(false),
        after_seq: seq_param(&query, "after_seq")?,
        before_seq: seq_param(&query, "before_seq")?,
        order,
        window,
    };
    let page = state
        .app
        .messages
        .list(
            &auth.actor,
            room_ref(&room_id)?,
            filter,
            MessageDetail::Summary,
        )
        .await?;
    let client = client_id(&auth);
    Ok(HttpResponse::Ok().json(MessageList {
        pagination: Pagination::of(window, page.items.len(), page.total),
        data: page
            .items
            .into_iter()
            .map(|view| MessageJson::new(view, client, &links))
            .collect(),
        status: "success",
    }))
}

/// One message.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    responses(
        (status = 200, description = "The message", body = Envelope<MessageJson>),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/messages/{message_id}")]
pub async fn get_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: Path<String>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .messages
        .get(
            &auth.actor,
            message_ref(&message_id)?,
            MessageDetail::Summary,
        )
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(MessageJson::new(
        view,
        client_id(&auth),
        &links,
    ))))
}

/// Edit a message's content or meta (sets `edited_at`). Its sender, an administrator or the API key.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    request_body = EditMessageRequest,
    responses(
        (status = 200, description = "The message", body = Envelope<MessageJson>),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "UNAUTHORIZED_EDIT or ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR or CONTENT_TOO_LONG", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[put("/messages/{message_id}")]
pub async fn edit_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: Path<String>,
    body: Json<EditMessageRequest>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let content = body
        .content
        .as_deref()
        .map(Content::parse)
        .transpose()
        .map_err(AppError::from)?;
    let meta = body.meta.map(MessageMeta::parse).transpose()?;
    let view = state
        .app
        .messages
        .edit(&auth.actor, message_ref(&message_id)?, content, meta)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(MessageJson::new(
        view,
        client_id(&auth),
        &links,
    ))))
}

/// Delete a message (softly: `restore` brings it back). Its sender, an administrator or the API key.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<MessageStateJson>),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "UNAUTHORIZED_EDIT or ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[delete("/messages/{message_id}")]
pub async fn delete_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: Path<String>,
) -> Result<HttpResponse, Error> {
    set_deleted(
        &state,
        &auth,
        &message_id,
        true,
        "Message deleted successfully",
    )
    .await
}

/// Restore a deleted message.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    responses(
        (status = 200, description = "Restored", body = Envelope<MessageStateJson>),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "UNAUTHORIZED_EDIT or ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/messages/{message_id}/restore")]
pub async fn restore_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: Path<String>,
) -> Result<HttpResponse, Error> {
    set_deleted(
        &state,
        &auth,
        &message_id,
        false,
        "Message restored successfully",
    )
    .await
}

async fn set_deleted(
    state: &AppState,
    auth: &Authenticated,
    message_id: &str,
    deleted: bool,
    text: &'static str,
) -> Result<HttpResponse, Error> {
    let message = state
        .app
        .messages
        .set_deleted(&auth.actor, message_ref(message_id)?, deleted)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope {
        data: MessageStateJson {
            id: message.uuid,
            is_deleted: message.deleted_at.is_some(),
            updated_at: message.updated_at,
        },
        message: Some(text),
        status: "success",
    }))
}
