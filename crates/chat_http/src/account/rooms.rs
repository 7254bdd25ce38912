//! Account-dialect chat rooms (`/api/v1/accounts/{account_id}/chat_rooms`): seed 002.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post, put};
use chat_app::UploadPurpose;
use chat_app::{Actor, Detail, NewRoom, RoomPatch, RoomQuery, RoomSort, Window};
use chat_domain::{FieldError, Problem, StoredUpload};
use serde::Deserialize;
use utoipa::ToSchema;

use super::caller::{ChatRoomsCaller, Manager};
use super::json::ChatRoomJson;
use super::paging::Paging;
use super::path::ChatRoomPath;
use super::responses::{BadRequest, NotAdministrator, NotMember, Unauthenticated, Unavailable};
use super::{Error, ErrorBody, Query, RequestBody, ValidationBody};
use crate::AppState;
use crate::extract::{FileField, unless_refused};
use crate::links::Links;

/// `{"chat_room": {name, description}}`, as JSON or as multipart fields
/// `chat_room[name]`, `chat_room[description]`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatRoomRequest {
    #[schema(required = true, value_type = ChatRoomFields)]
    pub chat_room: Option<ChatRoomFields>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ChatRoomFields {
    /// Needed to create a room; 1–255 characters after trimming.
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = String, min_length = 1, max_length = 255, example = "Marketing Team")]
    pub name: Option<Option<String>>,
    /// `null` clears the description (on update).
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

impl ChatRoomFields {
    /// The room to create.
    fn new_room(self) -> Result<NewRoom, Error> {
        let name = self.name.flatten();
        let description = self.description.flatten();
        Ok(NewRoom::parse(
            name.as_deref(),
            description.as_deref(),
            None,
        )?)
    }

    /// The change to make.
    fn patch(&self) -> Result<RoomPatch, Error> {
        Ok(RoomPatch::parse(
            self.name.as_ref().map(Option::as_deref),
            self.description.as_ref().map(Option::as_deref),
            None,
        )?)
    }
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

const DEFAULT_PER_PAGE: i64 = 50;

/// List the chat rooms the caller may see, most recent activity first.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("page" = Option<i64>, Query, minimum = 1, description = "Page, from 1 (default 1)"),
        ("per_page" = Option<i64>, Query, minimum = 1, description = "Rooms per page: default 50, at most 100 (larger values are clamped)"),
    ),
    responses(
        (status = 200, description = "Rooms; pages in X-Total-Count, X-Current-Page, X-Per-Page, X-Total-Pages", body = Vec<ChatRoomJson>),
        Unauthenticated,
        (status = 403, description = "Feature chat_rooms is not enabled for this account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ValidationBody),
        BadRequest,
        Unavailable,
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
    let paging = Paging::from_query(&query, DEFAULT_PER_PAGE, Window::MAX_LIMIT)?;
    let room_query = RoomQuery::new(None, None, RoomSort::RecentActivity, paging.window)?;
    let rooms = state
        .app
        .rooms
        .list(&caller.actor, room_query, Detail::WithMembers)
        .await?;
    let body = rooms.items.iter();
    let body = body.map(|view| ChatRoomJson::new(view, &caller.actor, &links));
    Ok(paging.respond(rooms.total, body.collect()))
}

/// Create a chat room; the creating user becomes its first member. Administrators only.
#[utoipa::path(
    tag = "chat_rooms",
    params(("account_id" = i64, Path, description = "Account id")),
    request_body(content = ChatRoomRequest, description = "JSON, or multipart with chat_room[name], chat_room[description] and an image in chat_room[avatar]"),
    responses(
        (status = 200, description = "The room", body = ChatRoomJson),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, or an avatar that is not a JPEG, PNG, GIF or WebP image within the avatar limit (15 MiB by default)", body = ValidationBody),
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms")]
pub async fn create_chat_room(
    state: Data<AppState>,
    caller: Manager,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    let (fields, avatar) = read_chat_room(body, &state, &caller.actor).await?;
    let checked = fields.and_then(ChatRoomFields::new_room);
    let new = unless_refused(&state.app.files, avatar.as_slice(), checked).await?;
    // From here the use case owns the avatar: it keeps it, or removes it.
    let new = NewRoom { avatar, ..new };
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
        Unauthenticated,
        NotMember,
        (status = 404, description = "No such account or room", body = ErrorBody),
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/chat_rooms/{id}")]
pub async fn get_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatRoomPath,
    links: Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .rooms
        .get(&caller.actor, path.ids()?.room, Detail::WithMembers)
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
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, or an avatar that is not a JPEG, PNG, GIF or WebP image within the avatar limit (15 MiB by default)", body = ValidationBody),
        BadRequest,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[put("/chat_rooms/{id}")]
pub async fn update_chat_room(
    state: Data<AppState>,
    caller: Manager,
    path: ChatRoomPath,
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
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 413, description = "The body is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Invalid fields, or an avatar that is not a JPEG, PNG, GIF or WebP image within the avatar limit (15 MiB by default)", body = ValidationBody),
        BadRequest,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[patch("/chat_rooms/{id}")]
pub async fn patch_chat_room(
    state: Data<AppState>,
    caller: Manager,
    path: ChatRoomPath,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    update(state, caller, path, body, links).await
}

async fn update(
    state: Data<AppState>,
    caller: Manager,
    path: ChatRoomPath,
    body: RequestBody,
    links: Links,
) -> Result<HttpResponse, Error> {
    let (fields, avatar) = read_chat_room(body, &state, &caller.actor).await?;
    let checked = fields.and_then(|fields| Ok((fields.patch()?, path.ids()?.room)));
    let (patch, room) = unless_refused(&state.app.files, avatar.as_slice(), checked).await?;
    // From here the use case owns the avatar: it keeps it, or removes it.
    let patch = RoomPatch {
        avatar: avatar.map(Some),
        ..patch
    };
    let view = state
        .app
        .rooms
        .update(&caller.actor, room, patch, Detail::WithMembers)
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor, &links)))
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
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account or room", body = ErrorBody),
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/chat_rooms/{id}/avatar")]
pub async fn delete_chat_room_avatar(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatRoomPath,
    links: Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .rooms
        .remove_avatar(&caller.actor, path.ids()?.room, Detail::WithMembers)
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
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account or room", body = ErrorBody),
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/chat_rooms/{id}")]
pub async fn delete_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatRoomPath,
) -> Result<HttpResponse, Error> {
    state
        .app
        .rooms
        .delete(&caller.actor, path.ids()?.room)
        .await?;
    Ok(HttpResponse::Ok().finish())
}
