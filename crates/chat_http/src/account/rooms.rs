//! Account-dialect chat rooms (`/api/v1/accounts/{account_id}/chat_rooms`): seed 002.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post, put};
use chat_app::{
    Actor, AppError, Detail, NewRoom, Resource, RoomPatch, RoomQuery, RoomSort, RoomView, Window,
};
use chat_domain::{FieldError, Problem, RoomId, RoomRef, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ChatRoomsCaller, Error, ErrorBody, Query, RequestBody, ValidationBody, page_headers,
    page_window,
};
use crate::AppState;

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

/// Reads the `chat_room` fields from a JSON or a multipart body.
async fn read_chat_room(body: RequestBody) -> Result<ChatRoomFields, Error> {
    let missing = || FieldError::new("chat_room", Problem::Blank);
    if body.is_multipart() {
        let form = body.form().await?;
        if !form.files.is_empty() {
            return Err(FieldError::new(
                "avatar",
                Problem::Invalid("avatar uploads are not supported yet".to_owned()),
            )
            .into());
        }
        if !form
            .fields
            .iter()
            .any(|(key, _)| key.starts_with("chat_room["))
        {
            return Err(missing().into());
        }
        Ok(ChatRoomFields {
            name: form.get("chat_room[name]").map(|v| Some(v.to_owned())),
            description: form
                .get("chat_room[description]")
                .map(|v| Some(v.to_owned())),
        })
    } else {
        let request: ChatRoomRequest = body.json().await?;
        request.chat_room.ok_or_else(|| missing().into())
    }
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
    fn new(view: &RoomView, viewer: &Actor) -> Self {
        let room = &view.room;
        Self {
            id: room.id.0,
            name: room.name.as_str().to_owned(),
            description: room.description.as_ref().map(|d| d.as_str().to_owned()),
            account_id: room.account_id.0,
            avatar_url: None,
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
        .map(|view| ChatRoomJson::new(view, &caller.actor))
        .collect();
    let mut response = HttpResponse::Ok();
    page_headers(&mut response, rooms.total, page, per_page);
    Ok(response.json(body))
}

/// Create a chat room; the creating user becomes its first member. Administrators only.
#[utoipa::path(
    tag = "chat_rooms",
    params(("account_id" = i64, Path, description = "Account id")),
    request_body(content = ChatRoomRequest, description = "JSON, or multipart with chat_room[name], chat_room[description]"),
    responses(
        (status = 200, description = "The room", body = ChatRoomJson),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms")]
pub async fn create_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    body: RequestBody,
) -> Result<HttpResponse, Error> {
    caller.actor.require_manager()?; // 403 before any validation feedback
    let fields = read_chat_room(body).await?;
    let new = NewRoom::parse(
        fields.name.flatten().as_deref(),
        fields.description.flatten().as_deref(),
        None,
    )?;
    let view = state
        .app
        .rooms
        .create(&caller.actor, new, Detail::WithMembers)
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor)))
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
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .rooms
        .get(&caller.actor, room_ref(&path.1)?, Detail::WithMembers)
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor)))
}

/// Change a chat room's name or description. Administrators only.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "Room id"),
    ),
    request_body(content = ChatRoomRequest, description = "JSON, or multipart with chat_room[name], chat_room[description]"),
    responses(
        (status = 200, description = "The room", body = ChatRoomJson),
        (status = 401, description = "Invalid Access Token, or another account", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the feature is off", body = ErrorBody),
        (status = 404, description = "No such account or room", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ValidationBody),
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[put("/chat_rooms/{id}")]
pub async fn update_chat_room(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: Path<(String, String)>,
    body: RequestBody,
) -> Result<HttpResponse, Error> {
    caller.actor.require_manager()?; // 403 before any validation feedback
    let fields = read_chat_room(body).await?;
    let patch = RoomPatch::parse(
        fields.name.as_ref().map(Option::as_deref),
        fields.description.as_ref().map(Option::as_deref),
        None,
    )?;
    let view = state
        .app
        .rooms
        .update(
            &caller.actor,
            room_ref(&path.1)?,
            patch,
            Detail::WithMembers,
        )
        .await?;
    Ok(HttpResponse::Ok().json(ChatRoomJson::new(&view, &caller.actor)))
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
