//! Account-dialect messages (`…/chat_rooms/{chat_room_id}/messages`, `mark_as_read`): seed 002.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chat_app::UploadPurpose;
use chat_app::{
    Actor, AppError, Denied, MessageDetail, MessageFilter, MessageView, Outgoing, RawOutgoing,
};
use chat_domain::{
    Attachment, FieldError, FieldErrors, MessageId, MessageRef, Problem, RoomRef, StoredUpload,
    User,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::rooms::{MemberSummaryJson, room_ref};
use super::{
    ChatRoomsCaller, Error, ErrorBody, Query, RequestBody, ValidationBody, page_headers,
    page_window,
};
use crate::AppState;
use crate::extract::{FileField, UploadForm};
use crate::links::Links;

/// `{"chat_room_message": {content, message_type?, echo_id?, content_attributes?: {in_reply_to?}}}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendChatMessageRequest {
    pub chat_room_message: Option<ChatMessageFields>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatMessageFields {
    #[schema(example = "This is a test message")]
    pub content: Option<String>,
    /// Accepted for compatibility (`outgoing`); the type is per viewer in answers.
    pub message_type: Option<String>,
    /// The client's id for this send: a retry with the same one returns the first message.
    #[schema(example = "temp-msg-12345")]
    pub echo_id: Option<String>,
    pub content_attributes: Option<ContentAttributes>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContentAttributes {
    /// The id of a message of the same room this one answers.
    pub in_reply_to: Option<i64>,
}

/// The multipart field of a message's files.
pub(crate) const ATTACHMENTS_FIELD: &str = "chat_room_message[attachments][]";

/// Reads `chat_room_message` from a JSON body, or from the multipart fields
/// `chat_room_message[content]`, `[message_type]`, `[echo_id]`,
/// `[content_attributes][in_reply_to]` and the files of `[attachments][]`, which stream
/// into storage (removed again if anything in the body is refused).
///
/// The files are stored already when the fields are checked: the caller must hand them
/// to the use case, or discard them.
async fn read_chat_message(
    body: RequestBody,
    state: &AppState,
    actor: &Actor,
) -> Result<(Result<ChatMessageFields, Error>, Vec<StoredUpload>), Error> {
    if !body.is_multipart() {
        let request: SendChatMessageRequest = body.json().await?;
        let fields = request
            .chat_room_message
            .ok_or_else(|| FieldError::new("chat_room_message", Problem::Blank).into());
        return Ok((fields, Vec::new()));
    }
    let files = &state.app.files;
    let accepts = [FileField {
        name: ATTACHMENTS_FIELD,
        purpose: UploadPurpose::Attachment,
        max: files.limits().files_per_message,
    }];
    let mut form = body
        .upload_form(files, actor.account_id()?, &accepts, state.upload_limit)
        .await?;
    let uploads = form.take_files(ATTACHMENTS_FIELD);
    Ok((message_fields(&form, !uploads.is_empty()), uploads))
}

/// The message fields of a multipart form; files alone make a message too.
fn message_fields(form: &UploadForm, has_files: bool) -> Result<ChatMessageFields, Error> {
    if !has_files
        && !form
            .fields
            .iter()
            .any(|(key, _)| key.starts_with("chat_room_message["))
    {
        return Err(FieldError::new("chat_room_message", Problem::Blank).into());
    }
    let field = |name: &str| {
        form.get(&format!("chat_room_message[{name}]"))
            .map(str::to_owned)
    };
    let in_reply_to = form
        .get("chat_room_message[content_attributes][in_reply_to]")
        .map(|raw| {
            raw.trim().parse::<i64>().map_err(|_| {
                FieldError::new(
                    "in_reply_to",
                    Problem::Invalid(format!("must be a message id, got {raw:?}")),
                )
            })
        })
        .transpose()?;
    Ok(ChatMessageFields {
        content: field("content"),
        message_type: field("message_type"),
        echo_id: field("echo_id"),
        content_attributes: Some(ContentAttributes { in_reply_to }),
    })
}

/// The account dialect names the replied-to message `in_reply_to`.
fn in_account_words(error: AppError) -> AppError {
    match error {
        AppError::Invalid(errors) => {
            let mut renamed = FieldErrors::new();
            for error in errors.iter() {
                let field = if error.field == "reply_to" {
                    "in_reply_to"
                } else {
                    error.field
                };
                renamed.push(FieldError::new(field, error.problem.clone()));
            }
            AppError::Invalid(renamed)
        }
        other => other,
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
    /// `{}` or `{"in_reply_to": id}`.
    #[schema(value_type = Object)]
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
}

/// A file sent with a message. Its URLs are signed and expire (after
/// `CHAT_FILE_URL_TTL_SECS`); they work without a credential.
#[derive(Debug, Serialize, ToSchema)]
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
        }
    }
}

const DEFAULT_PER_PAGE: i64 = 20;
const MAX_PER_PAGE: i64 = 50;

/// List a chat room's messages, newest first.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
        ("page" = Option<i64>, Query, description = "Page, from 1 (default 1)"),
        ("per_page" = Option<i64>, Query, description = "Messages per page: default 20, at most 50 (larger values are clamped)"),
    ),
    responses(
        (status = 200, description = "Messages; pages in X-Total-Count, X-Current-Page, X-Per-Page, X-Total-Pages", body = Vec<ChatMessageJson>),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not a member, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/chat_rooms/{chat_room_id}/messages")]
pub async fn list_chat_messages(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let (page, per_page, window) = page_window(&query, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let messages = state
        .app
        .messages
        .list(
            &caller.actor,
            room_ref(&path.1)?,
            MessageFilter::newest(window),
            MessageDetail::Rich,
        )
        .await?;
    let body: Vec<ChatMessageJson> = messages
        .items
        .into_iter()
        .map(|view| ChatMessageJson::new(view, &caller.actor, &links))
        .collect();
    let mut response = HttpResponse::Ok();
    page_headers(&mut response, messages.total, page, per_page);
    Ok(response.json(body))
}

/// Send a message to a chat room, as the calling user (a member).
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
    ),
    request_body(content = SendChatMessageRequest, description = "JSON, or multipart with chat_room_message[content], [message_type], [echo_id], [content_attributes][in_reply_to] and files in chat_room_message[attachments][] (up to 15 of 40 MiB each by default; content may then be empty)"),
    responses(
        (status = 200, description = "The message (the first one, for a retried echo_id)", body = ChatMessageJson),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not a member, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 409, description = "The room is inactive", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, a reply to a message of another room, too many files or a file too large", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms/{chat_room_id}/messages")]
pub async fn send_chat_message(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    // The account dialect speaks as a user: the API key, which is nobody, is not a member.
    if caller.actor.user_id().is_none() {
        return Err(AppError::Forbidden(Denied::NotMember).into());
    }
    let (fields, uploads) = read_chat_message(body, &state, &caller.actor).await?;
    let prepared = fields.and_then(|fields| outgoing(&path.1, fields, !uploads.is_empty()));
    let (room, out) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            let keys = uploads.into_iter().map(|file| file.key).collect();
            state.app.files.discard(keys).await;
            return Err(error);
        }
    };
    // From here the use case owns the files: it attaches them, or removes them.
    let (view, _created) = state
        .app
        .messages
        .send(&caller.actor, room, out, uploads, MessageDetail::Rich)
        .await
        .map_err(in_account_words)?;
    Ok(HttpResponse::Ok().json(ChatMessageJson::new(view, &caller.actor, &links)))
}

/// The room and the checked message to send.
fn outgoing(
    room: &str,
    fields: ChatMessageFields,
    has_files: bool,
) -> Result<(RoomRef, Outgoing), Error> {
    let room = room_ref(room)?;
    let reply_to = fields
        .content_attributes
        .and_then(|attributes| attributes.in_reply_to)
        .map(|id| MessageRef::Id(MessageId(id)));
    let out = Outgoing::parse(RawOutgoing {
        content: fields.content.as_deref(),
        reply_to,
        echo_id: fields.echo_id.as_deref(),
        has_files,
        ..RawOutgoing::default()
    })
    .map_err(in_account_words)?;
    Ok((room, out))
}

/// Mark every message of the chat room read for the calling user. Answers an empty body.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "Room id"),
    ),
    responses(
        (status = 200, description = "Marked (empty body)"),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not a member, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms/{id}/mark_as_read")]
pub async fn mark_as_read(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    state
        .app
        .messages
        .mark_read(&caller.actor, room_ref(&path.1)?, None)
        .await?;
    Ok(HttpResponse::Ok().finish())
}
