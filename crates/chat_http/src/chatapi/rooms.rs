//! ChatAPI rooms (`/api/v1/rooms`): seed 000 field for field.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post, put};
use chat_app::{AppError, Detail, NewRoom, Resource, RoomPatch, RoomQuery, RoomSort, Window};
use chat_domain::{Room, RoomRef};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Authenticated, Envelope, Error, ErrorBody, Json, Query, rfc3339};
use crate::AppState;

/// `{name, description?, meta?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomRequest {
    #[schema(example = "General Discussion")]
    pub name: Option<String>,
    pub description: Option<String>,
    /// Any JSON object up to 16 KiB; `max_participants` caps the participants.
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
}

/// Any of `{name, description, meta}`; the fields given replace, the others are kept.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRoomRequest {
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Replaces the whole meta object.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
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
        }
    }
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

/// A list of rooms with its pagination.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomList {
    pub data: Vec<RoomJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

/// `{message, status}`, for answers without data.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOnly {
    pub message: &'static str,
    /// Always `success`.
    pub status: &'static str,
}

/// A ChatAPI room id: a UUID. Anything else names no room.
pub(crate) fn room_ref(raw: &str) -> Result<RoomRef, AppError> {
    Uuid::parse_str(raw)
        .map(RoomRef::Uuid)
        .map_err(|_| AppError::NotFound(Resource::Room))
}

fn client_id(auth: &Authenticated) -> Uuid {
    auth.actor.account().map(|a| a.uuid).unwrap_or_default()
}

const DEFAULT_LIMIT: i64 = 50;

/// Create a room.
#[utoipa::path(
    tag = "rooms",
    request_body = CreateRoomRequest,
    responses(
        (status = 201, description = "The room", body = Envelope<RoomJson>),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED: agents may not create rooms", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms")]
pub async fn create_room(
    state: Data<AppState>,
    auth: Authenticated,
    body: Json<CreateRoomRequest>,
) -> Result<HttpResponse, Error> {
    auth.actor.require_manager()?; // 403 before any validation feedback
    let body = body.read().await?;
    let new = NewRoom::parse(body.name.as_deref(), body.description.as_deref(), body.meta)?;
    let view = state
        .app
        .rooms
        .create(&auth.actor, new, Detail::Summary)
        .await?;
    Ok(HttpResponse::Created().json(Envelope::ok(RoomJson::new(view.room, client_id(&auth)))))
}

/// List the rooms the caller may see.
#[utoipa::path(
    tag = "rooms",
    params(
        ("skip" = Option<i64>, Query, description = "Rooms to skip (default 0)"),
        ("limit" = Option<i64>, Query, description = "Rooms to return: 1–100, default 50; larger values are clamped to 100"),
        ("search" = Option<String>, Query, description = "Case-insensitive text in the name or description"),
        ("is_active" = Option<bool>, Query, description = "Only active (true) or inactive (false) rooms"),
        ("sort" = Option<String>, Query, description = "`name`, `-name`, `created_at` or `-created_at` (default)"),
    ),
    responses(
        (status = 200, description = "A page of rooms", body = RoomList),
        (status = 400, description = "A parameter has the wrong type", body = ErrorBody),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 422, description = "A parameter is out of range, or an unknown sort", body = ErrorBody),
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
    let sort = match query.get("sort")? {
        Some(raw) => RoomSort::parse(&raw)?,
        None => RoomSort::CreatedDesc,
    };
    let search = query.get("search")?;
    let room_query = RoomQuery::new(search.as_deref(), query.boolean("is_active")?, sort, window)?;
    let page = state
        .app
        .rooms
        .list(&auth.actor, room_query, Detail::Summary)
        .await?;
    let client = client_id(&auth);
    Ok(HttpResponse::Ok().json(RoomList {
        pagination: Pagination::of(window, page.items.len(), page.total),
        data: page
            .items
            .into_iter()
            .map(|view| RoomJson::new(view.room, client))
            .collect(),
        status: "success",
    }))
}

/// One room.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "The room", body = Envelope<RoomJson>),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED: an agent not in the room", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}")]
pub async fn get_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: Path<String>,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .rooms
        .get(&auth.actor, room_ref(&room_id)?, Detail::Summary)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(RoomJson::new(view.room, client_id(&auth)))))
}

/// Change a room's name, description or meta; the fields given replace, the others are kept.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    request_body = UpdateRoomRequest,
    responses(
        (status = 200, description = "The room", body = Envelope<RoomJson>),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[put("/rooms/{room_id}")]
pub async fn update_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: Path<String>,
    body: Json<UpdateRoomRequest>,
) -> Result<HttpResponse, Error> {
    auth.actor.require_manager()?; // 403 before any validation feedback
    let body = body.read().await?;
    let patch = RoomPatch::parse(
        body.name.as_ref().map(Option::as_deref),
        body.description.as_ref().map(Option::as_deref),
        body.meta,
    )?;
    let view = state
        .app
        .rooms
        .update(&auth.actor, room_ref(&room_id)?, patch, Detail::Summary)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(RoomJson::new(view.room, client_id(&auth)))))
}

/// Delete a room and everything in it.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "Deleted", body = MessageOnly),
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[delete("/rooms/{room_id}")]
pub async fn delete_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .app
        .rooms
        .delete(&auth.actor, room_ref(&room_id)?)
        .await?;
    Ok(HttpResponse::Ok().json(MessageOnly {
        message: "Room deleted successfully",
        status: "success",
    }))
}

async fn set_active(
    state: &AppState,
    auth: &Authenticated,
    room_id: &str,
    active: bool,
    message: &'static str,
) -> Result<HttpResponse, Error> {
    let room = state
        .app
        .rooms
        .set_active(&auth.actor, room_ref(room_id)?, active)
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
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/deactivate")]
pub async fn deactivate_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: Path<String>,
) -> Result<HttpResponse, Error> {
    set_active(
        &state,
        &auth,
        &room_id,
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
        (status = 401, description = "Credential missing or unknown", body = ErrorBody),
        (status = 403, description = "ROOM_ACCESS_DENIED", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/activate")]
pub async fn activate_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: Path<String>,
) -> Result<HttpResponse, Error> {
    set_active(&state, &auth, &room_id, true, "Room activated successfully").await
}
