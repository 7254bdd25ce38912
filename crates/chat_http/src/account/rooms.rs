//! Account-dialect chat rooms (`/api/v1/accounts/{account_id}/chat_rooms`): seed 002.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post, put};
use chat_app::UploadPurpose;
use chat_app::{
    Actor, AppError, Detail, NewRoom, Resource, RoomPatch, RoomQuery, RoomSort, RoomView, Window,
};
use chat_domain::{FieldError, Problem, RoomId, RoomRef, StoredUpload, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ChatRoomsCaller, Error, ErrorBody, Query, RequestBody, ValidationBody, page_headers,
    page_window,
};
use crate::AppState;
use crate::extract::FileField;
use crate::links::Links;

/// `{"chat_room": {name, description}}`, as JSON or as multipart fields
/// `chat_room[name]`, `chat_room[description]`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatRoomRequest {
    pub chat_room: Option<ChatRoomFields>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ChatRoomFields {
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>, example = "Marketing Team")]
    pub name: Option<Option<String>>,
    /// `null` clears the description (on update).
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// The multipart field of a room's avatar.
const AVATAR_FIELD: &str = "chat_room[avatar]";

/// Reads the `chat_room` fields from a JSON or a multipart body; a multipart body may
/// carry an avatar image in `chat_room[avatar]`, which streams into storage. The avatar
/// is stored already when the fields are checked: the caller must hand it to the use
/// case, or discard it.
async fn read_chat_room(
    body: RequestBody,
    state: &AppState,
    actor: &Actor,
) -> Result<(Result<ChatRoomFields, Error>, Option<StoredUpload>), Error> {
    let missing = || FieldError::new("chat_room", Problem::Blank).into();
    if !body.is_multipart() {
        let request: ChatRoomRequest = body.json().await?;
        return Ok((request.chat_room.ok_or_else(missing), None));
    }
    let accepts = [FileField {
        name: AVATAR_FIELD,
        purpose: UploadPurpose::Avatar,
        max: 1,
    }];
    let mut form = body
        .upload_form(
            &state.app.files,
            actor.account_id()?,
            &accepts,
            state.upload_limit,
        )
        .await?;
    let avatar = form.take_files(AVATAR_FIELD).into_iter().next();
    let named = form
        .fields
        .iter()
        .any(|(key, _)| key.starts_with("chat_room["));
    let fields = if named || avatar.is_some() {
        Ok(ChatRoomFields {
            name: form.get("chat_room[name]").map(|v| Some(v.to_owned())),
            description: form
                .get("chat_room[description]")
                .map(|v| Some(v.to_owned())),
        })
    } else {
        Err(missing())
    };
    Ok((fields, avatar))
}

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
            name: room.name.as_str().to_owned(),
            description: room.description.as_ref().map(|d| d.as_str().to_owned()),
            account_id: room.account_id.0,
            avatar_url: room.avatar.as_ref().map(|key| links.file_url(key)),
            is_member: view.is_member(viewer),
            member_count: room.member_count,
            last_message_at: room.last_message_at.unix_timestamp(),
            unread_count: view.unread_count,
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

/// An account-dialect room id: an integer. Anything else names no room.
pub(crate) fn room_ref(raw: &str) -> Result<RoomRef, AppError> {
    raw.parse::<i64>()
        .map(|id| RoomRef::Id(RoomId(id)))
        .map_err(|_| AppError::NotFound(Resource::Room))
}

const DEFAULT_PER_PAGE: i64 = 50;

/// List the chat rooms the caller may see, most recent activity first.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("page" = Option<i64>, Query, description = "Page, from 1 (default 1)"),
        ("per_page" = Option<i64>, Query, description = "Rooms per page: default 50, at most 100 (larger values are clamped)"),
    ),
    responses(
        (status = 200, description = "Rooms; pages in X-Total-Count, X-Current-Page, X-Per-Page, X-Total-Pages", body = Vec<ChatRoomJson>),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Feature chat_rooms is not enabled for this account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/chat_rooms")]
pub async fn list_chat_rooms(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let (page, per_page, window) = page_window(&query, DEFAULT_PER_PAGE, Window::MAX_LIMIT)?;
    let room_query = RoomQuery::new(None, None, RoomSort::RecentActivity, window)?;
    let rooms = state
        .app
        .rooms
        .list(&caller.actor, room_query, Detail::WithMembers)
        .await?;
    let body: Vec<ChatRoomJson> = rooms
        .items
        .iter()
        .map(|view| ChatRoomJson::new(view, &caller.actor, &links))
        .collect();
    let mut response = HttpResponse::Ok();
    page_headers(&mut response, rooms.total, page, per_page);
    Ok(response.json(body))
}

/// Create a chat room; the creating user becomes its first member. Administrators only.
#[utoipa::path(
    tag = "chat_rooms",
    params(("account_id" = i64, Path, description = "Account id")),
    request_body(content = ChatRoomRequest, description = "JSON, or multipart with chat_room[name], chat_room[description] and an image in chat_room[avatar]"),
    responses(
        (status = 200, description = "The room", body = ChatRoomJson),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, or an avatar that is not a JPEG, PNG, GIF or WebP image within the avatar limit (15 MiB by default)", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms")]
pub async fn create_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    caller.actor.require_manager()?; // 403 before any validation feedback
    let (fields, avatar) = read_chat_room(body, &state, &caller.actor).await?;
    let parsed = fields.and_then(|fields| {
        NewRoom::parse(
            fields.name.flatten().as_deref(),
            fields.description.flatten().as_deref(),
            None,
        )
        .map_err(Error::from)
    });
    let new = match parsed {
        Ok(new) => NewRoom { avatar, ..new },
        Err(error) => return Err(discarding(&state, avatar, error).await),
    };
    // From here the use case owns the avatar: it keeps it, or removes it.
    let view = state
        .app
        .rooms
        .create(&caller.actor, new, Detail::WithMembers)
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor, &links)))
}

/// One chat room.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "Room id"),
    ),
    responses(
        (status = 200, description = "The room", body = ChatRoomJson),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not a member, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/chat_rooms/{id}")]
pub async fn get_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .rooms
        .get(&caller.actor, room_ref(&path.1)?, Detail::WithMembers)
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor, &links)))
}

/// Change a chat room's name or description. Administrators only.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "Room id"),
    ),
    request_body(content = ChatRoomRequest, description = "JSON, or multipart with chat_room[name], chat_room[description] and an image in chat_room[avatar]"),
    responses(
        (status = 200, description = "The room", body = ChatRoomJson),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, or an avatar that is not a JPEG, PNG, GIF or WebP image within the avatar limit (15 MiB by default)", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[put("/chat_rooms/{id}")]
pub async fn update_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    update(state, caller, path, body, links).await
}

/// Change a chat room (as PUT).
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "Room id"),
    ),
    request_body(content = ChatRoomRequest, description = "JSON, or multipart with chat_room[name], chat_room[description] and an image in chat_room[avatar]"),
    responses(
        (status = 200, description = "The room", body = ChatRoomJson),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, or an avatar that is not a JPEG, PNG, GIF or WebP image within the avatar limit (15 MiB by default)", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[patch("/chat_rooms/{id}")]
pub async fn patch_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    update(state, caller, path, body, links).await
}

async fn update(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    caller.actor.require_manager()?; // 403 before any validation feedback
    let (fields, avatar) = read_chat_room(body, &state, &caller.actor).await?;
    let parsed = fields.and_then(|fields| {
        let patch = RoomPatch::parse(
            fields.name.as_ref().map(Option::as_deref),
            fields.description.as_ref().map(Option::as_deref),
            None,
        )?;
        Ok((room_ref(&path.1)?, patch))
    });
    let (room, patch) = match parsed {
        Ok((room, patch)) => (
            room,
            RoomPatch {
                avatar: avatar.map(Some),
                ..patch
            },
        ),
        Err(error) => return Err(discarding(&state, avatar, error).await),
    };
    // From here the use case owns the avatar: it keeps it, or removes it.
    let view = state
        .app
        .rooms
        .update(&caller.actor, room, patch, Detail::WithMembers)
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor, &links)))
}

/// Removes an upload that will not be used, and answers `error`.
async fn discarding(state: &AppState, upload: Option<StoredUpload>, error: Error) -> Error {
    let keys = upload.into_iter().map(|file| file.key).collect();
    state.app.files.discard(keys).await;
    error
}

/// Remove a chat room's avatar (its file too). Administrators only. A room without an
/// avatar is answered as it is.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "Room id"),
    ),
    responses(
        (status = 200, description = "The room, without an avatar", body = ChatRoomJson),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/chat_rooms/{id}/avatar")]
pub async fn delete_chat_room_avatar(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .rooms
        .remove_avatar(&caller.actor, room_ref(&path.1)?, Detail::WithMembers)
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor, &links)))
}

/// Delete a chat room and everything in it. Administrators only. Answers an empty body.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "Room id"),
    ),
    responses(
        (status = 200, description = "Deleted (empty body)"),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/chat_rooms/{id}")]
pub async fn delete_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    state
        .app
        .rooms
        .delete(&caller.actor, room_ref(&path.1)?)
        .await?;
    Ok(HttpResponse::Ok().finish())
}
