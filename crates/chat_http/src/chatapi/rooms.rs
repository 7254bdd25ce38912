//! ChatAPI rooms (`/api/v1/rooms`): seed 000 field for field.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use chat_app::{Detail, NewRoom, RoomPatch, RoomQuery, RoomSort, Window};
use chat_domain::{ExternalId, RoomRef};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::json::{Pagination, RoomJson, client_id};
use super::params::RoomSortParam;
use super::path::RoomPath;
use super::responses::{
    PermissionDenied, RoomAccessDenied, TooLarge, Unauthenticated, Unavailable,
};
use super::{
    Authenticated, Envelope, Error, ErrorBody, Json, Manager, MessageOnly, Query, rfc3339,
};
use crate::AppState;

/// `{name, description?, meta?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "General Discussion")]
    pub name: Option<String>,
    pub description: Option<String>,
    /// Any JSON object up to 16 KiB; `max_participants` caps the participants.
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
}

/// Any of `{name, description, meta}`; the fields given replace, the others are kept.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRoomRequest {
    /// 1–255 characters after trimming; `null` is a blank name (422).
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<Option<String>>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Replaces the whole meta object.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Object)]
    pub meta: Option<Map<String, Value>>,
}

/// What (de)activation answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomStateJson {
    pub id: Uuid,
    pub name: String,
    pub is_active: bool,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T12:00:00Z")]
    pub updated_at: OffsetDateTime,
}

/// A list of rooms with its pagination.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomList {
    pub data: Vec<RoomJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

const DEFAULT_LIMIT: i64 = 50;

/// Create a room.
#[utoipa::path(
    tag = "rooms",
    request_body = CreateRoomRequest,
    responses(
        (status = 201, description = "The room", body = Envelope<RoomJson>),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: agents may not create rooms; PERMISSION_DENIED: a scoped credential without manage_rooms", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR", body = ErrorBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms")]
pub async fn create_room(
    state: Data<AppState>,
    auth: Manager,
    body: Json<CreateRoomRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let new = NewRoom::parse(body.name.as_deref(), body.description.as_deref(), body.meta)?;
    let view = state
        .app
        .rooms
        .create(&auth.actor, new, Detail::Summary)
        .await?;
    Ok(HttpResponse::Created().json(Envelope::ok(RoomJson::new(
        view.room,
        client_id(&auth.actor),
    ))))
}

/// The search, filter, sort and viewer (`user_id`) of a list of rooms, from the query
/// string.
fn room_query(query: &Query, window: Window) -> Result<RoomQuery, Error> {
    let sort = match query.get("sort")? {
        Some(raw) => RoomSort::parse(&raw)?,
        None => RoomSort::CreatedDesc,
    };
    let search = query.get("search")?;
    let viewer = query
        .get("user_id")?
        .map(|raw| ExternalId::parse_field("user_id", &raw))
        .transpose()?;
    let mut room_query =
        RoomQuery::new(search.as_deref(), query.boolean("is_active")?, sort, window)?;
    room_query.viewer = viewer;
    Ok(room_query)
}

/// List the rooms the caller may see.
#[utoipa::path(
    tag = "rooms",
    params(
        ("skip" = Option<i64>, Query, minimum = 0, description = "Rooms to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "Rooms to return: 1–100, default 50; larger values are clamped to 100"),
        ("search" = Option<String>, Query, description = "Case-insensitive text in the name or description"),
        ("is_active" = Option<bool>, Query, description = "Only active (true) or inactive (false) rooms"),
        ("sort" = Option<RoomSortParam>, Query, description = "`name`, `-name`, `created_at` or `-created_at` (default)"),
        ("user_id" = Option<String>, Query, description = "With the API key: whose unread counts each room shows (`unread_count`, `unread_mentions`). A user's credential always shows its own user's"),
    ),
    responses(
        (status = 200, description = "A page of rooms; with `user_id` or a user's credential each room has `unread_count` and `unread_mentions`", body = RoomList),
        (status = 400, description = "A parameter has the wrong type", body = ErrorBody),
        Unauthenticated,
        PermissionDenied,
        (status = 404, description = "USER_NOT_FOUND: `user_id` names no user of the account", body = ErrorBody),
        (status = 422, description = "A parameter is out of range, or an unknown sort", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms")]
pub async fn list_rooms(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query,
) -> Result<HttpResponse, Error> {
    let window = Pagination::window(&query, DEFAULT_LIMIT, Window::MAX_LIMIT)?;
    let room_query = room_query(&query, window)?;
    // Unread counts are someone's: the user `user_id` names, or the caller's own.
    let for_viewer = room_query.viewer.is_some() || auth.actor.user_id().is_some();
    let page = state
        .app
        .rooms
        .list(&auth.actor, room_query, Detail::Summary)
        .await?;
    let client = client_id(&auth.actor);
    Ok(crate::json_body::json(
        HttpResponse::Ok(),
        &RoomList {
            pagination: Pagination::of(window, page.items.len(), page.total),
            data: page
                .items
                .into_iter()
                .map(|view| {
                    if for_viewer {
                        RoomJson::with_unread(view, client)
                    } else {
                        RoomJson::new(view.room, client)
                    }
                })
                .collect(),
            status: "success",
        },
    ))
}

/// One room.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "The room", body = Envelope<RoomJson>),
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: an agent not in the room; PERMISSION_DENIED: a scoped credential without read_messages", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}")]
pub async fn get_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .rooms
        .get(&auth.actor, room_id.ids()?, Detail::Summary)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(RoomJson::new(
        view.room,
        client_id(&auth.actor),
    ))))
}

/// Change a room's name, description or meta; the fields given replace, the others are kept.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    request_body = UpdateRoomRequest,
    responses(
        (status = 200, description = "The room", body = Envelope<RoomJson>),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR", body = ErrorBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[put("/rooms/{room_id}")]
pub async fn update_room(
    state: Data<AppState>,
    auth: Manager,
    room_id: RoomPath,
    body: Json<UpdateRoomRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let patch = RoomPatch::parse(
        body.name.as_ref().map(Option::as_deref),
        body.description.as_ref().map(Option::as_deref),
        body.meta,
    )?;
    let view = state
        .app
        .rooms
        .update(&auth.actor, room_id.ids()?, patch, Detail::Summary)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(RoomJson::new(
        view.room,
        client_id(&auth.actor),
    ))))
}

/// Delete a room and everything in it.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "Deleted", body = MessageOnly),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[delete("/rooms/{room_id}")]
pub async fn delete_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
) -> Result<HttpResponse, Error> {
    state.app.rooms.delete(&auth.actor, room_id.ids()?).await?;
    Ok(HttpResponse::Ok().json(MessageOnly {
        message: "Room deleted successfully",
        status: "success",
    }))
}

async fn set_active(
    state: &AppState,
    auth: &Authenticated,
    room: RoomRef,
    active: bool,
    message: &'static str,
) -> Result<HttpResponse, Error> {
    let room = state
        .app
        .rooms
        .set_active(&auth.actor, room, active)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope {
        data: RoomStateJson {
            id: room.uuid,
            name: room.name.as_str().to_owned(),
            is_active: room.is_active,
            updated_at: room.updated_at,
        },
        message: Some(message),
        status: "success",
    }))
}

/// Deactivate a room: it refuses new messages and keeps everything it has.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "Deactivated", body = Envelope<RoomStateJson>),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/deactivate")]
pub async fn deactivate_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
) -> Result<HttpResponse, Error> {
    set_active(
        &state,
        &auth,
        room_id.ids()?,
        false,
        "Room deactivated successfully",
    )
    .await
}

/// Reactivate a room.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "Activated", body = Envelope<RoomStateJson>),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/activate")]
pub async fn activate_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
) -> Result<HttpResponse, Error> {
    set_active(
        &state,
        &auth,
        room_id.ids()?,
        true,
        "Room activated successfully",
    )
    .await
}
