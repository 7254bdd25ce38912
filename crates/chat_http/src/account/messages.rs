//! Account-dialect messages (`…/chat_rooms/{chat_room_id}/messages`, `mark_as_read`): seed 002.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post};
use chat_app::{
    Actor, AppError, Mention, MessageDetail, MessageFilter, Outgoing, RawOutgoing, UploadPurpose,
};
use chat_domain::{
    FieldError, FieldErrors, MessageId, MessageRef, Problem, RoomRef, StoredUpload, UserId,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::caller::{ChatRoomsCaller, ChatUser};
use super::json::ChatMessageJson;
use super::paging::Paging;
use super::path::ChatRoomPath;
use super::responses::{BadRequest, NotMember, Unauthenticated, Unavailable};
use super::{Error, ErrorBody, Query, RequestBody, ValidationBody};
use crate::AppState;
use crate::extract::{FileField, UploadForm, unless_refused};
use crate::links::Links;

/// `{"chat_room_message": {content, message_type?, echo_id?, content_attributes?: {in_reply_to?, mentions?}}}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendChatMessageRequest {
    #[schema(required = true, value_type = ChatMessageFields)]
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
    /// The ids of the users it mentions (at most 50). Only the room's members count; the
    /// sender and anyone else are dropped.
    #[schema(value_type = Option<Vec<i64>>, example = json!([3, 4]))]
    pub mentions: Option<Value>,
}

/// The users `content_attributes.mentions` names: an array of positive user ids (absent
/// or null: none); anything else is refused on `mentions`.
fn mentions(value: Option<&Value>) -> Result<Vec<Mention>, FieldError> {
    let invalid = || {
        FieldError::new(
            "mentions",
            Problem::Invalid("must be an array of user ids".to_owned()),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_i64()
                    .filter(|id| *id > 0)
                    .map(|id| Mention::Id(UserId(id)))
                    .ok_or_else(invalid)
            })
            .collect(),
        Some(_) => Err(invalid()),
    }
}

/// The multipart field of a message's mentions, one id per occurrence.
const MENTIONS_FIELD: &str = "chat_room_message[content_attributes][mentions][]";

/// The multipart field of a message's files.
pub(crate) const ATTACHMENTS_FIELD: &str = "chat_room_message[attachments][]";

/// Reads `chat_room_message` from a JSON body, or from the multipart fields
/// `chat_room_message[content]`, `[message_type]`, `[echo_id]`,
/// `[content_attributes][in_reply_to]`, `[content_attributes][mentions][]` (one id each)
/// and the files of `[attachments][]`, which stream
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
    let mentions = form
        .fields
        .iter()
        .filter(|(key, _)| key == MENTIONS_FIELD)
        .map(|(_, raw)| {
            raw.trim().parse::<i64>().map(Value::from).map_err(|_| {
                FieldError::new(
                    "mentions",
                    Problem::Invalid(format!("must be user ids, got {raw:?}")),
                )
            })
        })
        .collect::<Result<Vec<Value>, FieldError>>()?;
    Ok(ChatMessageFields {
        content: field("content"),
        message_type: field("message_type"),
        echo_id: field("echo_id"),
        content_attributes: Some(ContentAttributes {
            in_reply_to,
            mentions: (!mentions.is_empty()).then_some(Value::Array(mentions)),
        }),
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

const DEFAULT_PER_PAGE: i64 = 20;
const MAX_PER_PAGE: i64 = 50;

/// List a chat room's messages, newest first.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
        ("page" = Option<i64>, Query, minimum = 1, description = "Page, from 1 (default 1)"),
        ("per_page" = Option<i64>, Query, minimum = 1, description = "Messages per page: default 20, at most 50 (larger values are clamped)"),
    ),
    responses(
        (status = 200, description = "Messages; pages in X-Total-Count, X-Current-Page, X-Per-Page, X-Total-Pages", body = Vec<ChatMessageJson>),
        Unauthenticated,
        NotMember,
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ValidationBody),
        BadRequest,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/chat_rooms/{chat_room_id}/messages")]
pub async fn list_chat_messages(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatRoomPath,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let paging = Paging::from_query(&query, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let filter = MessageFilter::newest(paging.window);
    let messages = state
        .app
        .messages
        .list(&caller.actor, path.ids()?.room, filter, MessageDetail::Rich)
        .await?;
    let body = messages.items.into_iter();
    let body = body.map(|view| ChatMessageJson::new(view, &caller.actor, &links));
    Ok(paging.respond(messages.total, body.collect()))
}

/// Send a message to a chat room, as the calling user (a member).
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
    ),
    request_body(content = SendChatMessageRequest, description = "JSON, or multipart with chat_room_message[content], [message_type], [echo_id], [content_attributes][in_reply_to], [content_attributes][mentions][] (one user id each) and files in chat_room_message[attachments][] (up to 15 of 40 MiB each by default; content may then be empty)"),
    responses(
        (status = 200, description = "The message (the first one, for a retried echo_id)", body = ChatMessageJson),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        Unauthenticated,
        NotMember,
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 409, description = "The room is inactive", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, a reply to a message of another room, too many files or a file too large", body = ValidationBody),
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms/{chat_room_id}/messages")]
pub async fn send_chat_message(
    state: Data<AppState>,
    caller: ChatUser,
    path: ChatRoomPath,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    let (fields, uploads) = read_chat_message(body, &state, &caller.actor).await?;
    let checked = fields.and_then(|fields| outgoing(path, fields, !uploads.is_empty()));
    let (room, out) = unless_refused(&state.app.files, &uploads, checked).await?;
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
    path: ChatRoomPath,
    fields: ChatMessageFields,
    has_files: bool,
) -> Result<(RoomRef, Outgoing), Error> {
    let room = path.ids()?.room;
    let attributes = fields.content_attributes;
    let reply_to = attributes
        .as_ref()
        .and_then(|attributes| attributes.in_reply_to)
        .map(|id| MessageRef::Id(MessageId(id)));
    let mentions = mentions(attributes.as_ref().and_then(|a| a.mentions.as_ref()))?;
    let out = Outgoing::parse(RawOutgoing {
        content: fields.content.as_deref(),
        reply_to,
        echo_id: fields.echo_id.as_deref(),
        has_files,
        mentions,
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
        Unauthenticated,
        NotMember,
        (status = 404, description = "No such account or room", body = ErrorBody),
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms/{id}/mark_as_read")]
pub async fn mark_as_read(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatRoomPath,
) -> Result<HttpResponse, Error> {
    state
        .app
        .messages
        .mark_read(&caller.actor, path.ids()?.room, None)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mentions_are_positive_user_ids() {
        let ids = |value: Value| match mentions(Some(&value)) {
            Ok(list) => Ok(list),
            Err(error) => Err(error.field),
        };
        assert_eq!(
            ids(json!([3, 4, 3])),
            Ok(vec![
                Mention::Id(UserId(3)),
                Mention::Id(UserId(4)),
                Mention::Id(UserId(3))
            ])
        );
        assert_eq!(ids(json!([])), Ok(Vec::new()));
        assert_eq!(ids(Value::Null), Ok(Vec::new()));
        assert_eq!(mentions(None), Ok(Vec::new()));
        for bad in [
            json!(["3"]),
            json!([0]),
            json!([-1]),
            json!([1.5]),
            json!(3),
            json!({"id": 3}),
        ] {
            assert_eq!(ids(bad.clone()), Err("mentions"), "{bad}");
        }
    }
}
