//! ChatAPI messages (`/api/v1/rooms/{room_id}/messages`, `/api/v1/messages/{message_id}`).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use chat_app::{
    AppError, MessageDetail, MessageFilter, MessageOrder, MessageView, Outgoing, Page, RawOutgoing,
    Window,
};
use chat_domain::{Content, FieldError, MessageKind, MessageMeta, MessageRef, Problem, Seq};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

use super::json::{MessageJson, Pagination, client_id};
use super::params::{MessageSortParam, MessageTypeParam};
use super::path::{MessagePath, RoomPath};
use super::responses::{EditDenied, RoomAccessDenied, TooLarge, Unauthenticated, Unavailable};
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
    #[schema(required = true, value_type = String, min_length = 1, max_length = 10_000, example = "Hello, team!")]
    pub content: Option<String>,
    /// `text` (default), `system` (API key only), `image`, `file`, `audio`, `video`, or a
    /// custom type of the application's own (`poll`): a lowercase letter, then up to 31
    /// lowercase letters, digits or `_`.
    #[schema(
        pattern = "^[a-z][a-z0-9_]{0,31}$",
        min_length = 1,
        max_length = 32,
        example = "text"
    )]
    pub message_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
    /// The UUID of a message of the same room this one answers.
    pub reply_to: Option<Uuid>,
    /// The client's id for this send: a retry with the same one returns the first message.
    pub echo_id: Option<String>,
}

impl SendMessageRequest {
    /// The checked message to send.
    fn outgoing(self) -> Result<Outgoing, AppError> {
        Outgoing::parse(RawOutgoing {
            mentions: Vec::new(),
            sender_id: self.sender_id.as_deref(),
            sender_name: self.sender_name.as_deref(),
            content: self.content.as_deref(),
            message_type: self.message_type.as_deref(),
            meta: self.meta,
            reply_to: self.reply_to.map(MessageRef::Uuid),
            echo_id: self.echo_id.as_deref(),
            has_files: false,
        })
    }
}

/// `{content?, meta?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditMessageRequest {
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String, min_length = 1, max_length = 10_000)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Object)]
    pub meta: Option<Map<String, Value>>,
}

/// A page of messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub data: Vec<MessageJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

impl MessageList {
    /// A page of messages out of `window`, as `client` sees them.
    pub(crate) fn new(
        page: Page<MessageView>,
        window: Window,
        client: Uuid,
        links: &Links,
    ) -> Self {
        Self {
            pagination: Pagination::of(window, page.items.len(), page.total),
            data: page
                .items
                .into_iter()
                .map(|view| MessageJson::new(view, client, links))
                .collect(),
            status: "success",
        }
    }
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
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: the sender is not a participant; PERMISSION_DENIED: a scoped credential without send_messages", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        (status = 409, description = "ROOM_INACTIVE", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR or CONTENT_TOO_LONG", body = ErrorBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/messages")]
pub async fn send_message(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
    body: Json<SendMessageRequest>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let out = body.read().await?.outgoing()?;
    let (view, created) = state
        .app
        .messages
        .send(
            &auth.actor,
            room_id.ids()?,
            out,
            Vec::new(),
            MessageDetail::Summary,
        )
        .await?;
    let json = Envelope::ok(MessageJson::new(view, client_id(&auth.actor), &links));
    Ok(if created {
        HttpResponse::Created().json(json)
    } else {
        HttpResponse::Ok().json(json)
    })
}

/// `name` as an RFC 3339 time; anything else is the wrong type (400).
pub(super) fn time_param(
    query: &Query,
    name: &'static str,
) -> Result<Option<OffsetDateTime>, Error> {
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

/// The filter, order and window of a list of messages, from the query string.
fn message_filter(query: &Query) -> Result<MessageFilter, Error> {
    let window = Pagination::window(query, DEFAULT_LIMIT, Window::MAX_LIMIT)?;
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
    Ok(MessageFilter {
        sender: query.get("sender_id")?,
        kind,
        created_after: time_param(query, "created_after")?,
        created_before: time_param(query, "created_before")?,
        search,
        include_deleted: query.boolean("include_deleted")?.unwrap_or(false),
        after_seq: seq_param(query, "after_seq")?,
        before_seq: seq_param(query, "before_seq")?,
        order,
        window,
    })
}

/// List a room's messages.
#[utoipa::path(
    tag = "messages",
    params(
        ("room_id" = Uuid, Path, description = "The room's UUID"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Messages to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "1–100, default 50; larger values are clamped"),
        ("sender_id" = Option<String>, Query, description = "Only this sender's messages (`system` for system messages)"),
        ("message_type" = Option<MessageTypeParam>, Query, description = "Only this type: a built-in one or a custom one (`poll`)"),
        ("created_after" = Option<String>, Query, description = "RFC 3339: only messages created after"),
        ("created_before" = Option<String>, Query, description = "RFC 3339: only messages created before"),
        ("search" = Option<String>, Query, description = "Case-insensitive text in the content"),
        ("include_deleted" = Option<bool>, Query, description = "Include deleted messages (default false)"),
        ("sort" = Option<MessageSortParam>, Query, description = "`-created_at` (default, newest first) or `created_at`"),
        ("after_seq" = Option<i64>, Query, description = "Keyset cursor: only messages with a larger seq"),
        ("before_seq" = Option<i64>, Query, description = "Keyset cursor: only messages with a smaller seq"),
    ),
    responses(
        (status = 200, description = "A page of messages", body = MessageList),
        (status = 400, description = "A parameter has the wrong type", body = ErrorBody),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        (status = 422, description = "A parameter is out of range", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}/messages")]
pub async fn list_messages(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let filter = message_filter(&query)?;
    let window = filter.window;
    let page = state
        .app
        .messages
        .list(&auth.actor, room_id.ids()?, filter, MessageDetail::Summary)
        .await?;
    let list = MessageList::new(page, window, client_id(&auth.actor), &links);
    Ok(crate::json_body::json(HttpResponse::Ok(), &list))
}

/// One message.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    responses(
        (status = 200, description = "The message", body = Envelope<MessageJson>),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/messages/{message_id}")]
pub async fn get_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
    links: Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .messages
        .get(&auth.actor, message_id.ids()?, MessageDetail::Summary)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(MessageJson::new(
        view,
        client_id(&auth.actor),
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
        Unauthenticated,
        EditDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR or CONTENT_TOO_LONG", body = ErrorBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[put("/messages/{message_id}")]
pub async fn edit_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
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
        .edit(&auth.actor, message_id.ids()?, content, meta)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(MessageJson::new(
        view,
        client_id(&auth.actor),
        &links,
    ))))
}

/// Delete a message (softly: `restore` brings it back). Its sender, an administrator or the API key.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<MessageStateJson>),
        Unauthenticated,
        EditDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[delete("/messages/{message_id}")]
pub async fn delete_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
) -> Result<HttpResponse, Error> {
    set_deleted(
        &state,
        &auth,
        message_id.ids()?,
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
        Unauthenticated,
        EditDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/messages/{message_id}/restore")]
pub async fn restore_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
) -> Result<HttpResponse, Error> {
    set_deleted(
        &state,
        &auth,
        message_id.ids()?,
        false,
        "Message restored successfully",
    )
    .await
}

async fn set_deleted(
    state: &AppState,
    auth: &Authenticated,
    message: MessageRef,
    deleted: bool,
    text: &'static str,
) -> Result<HttpResponse, Error> {
    let message = state
        .app
        .messages
        .set_deleted(&auth.actor, message, deleted)
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
