//! ChatAPI participants: join, leave, list, and who is online (seed 000).

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post};
use chat_app::{Join, Window};
use chat_domain::{ExternalId, Membership};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::json::Pagination;
use super::path::RoomPath;
use super::responses::{
    BadRequest, Invalid, RoomAccessDenied, TooLarge, Unauthenticated, Unavailable,
};
use super::{Authenticated, Envelope, Error, ErrorBody, Json, MessageOnly, Query, rfc3339};
use crate::AppState;

/// `{user_id, user_name?, meta?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct JoinRequest {
    /// The integrator's id for the user; an unknown one becomes a user of the account.
    #[schema(required = true, value_type = String, min_length = 1, example = "user_123")]
    pub user_id: Option<String>,
    #[schema(example = "John Doe")]
    pub user_name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
}

/// `{user_id}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct LeaveRequest {
    #[schema(required = true, value_type = String, min_length = 1, example = "user_123")]
    pub user_id: Option<String>,
}

/// A participant of a room.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantJson {
    pub user_id: String,
    pub user_name: String,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T10:00:00Z")]
    pub joined_at: OffsetDateTime,
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
}

impl From<Membership> for ParticipantJson {
    fn from(membership: Membership) -> Self {
        Self {
            user_id: membership.user.chat_user_id(),
            user_name: membership.user.name.as_str().to_owned(),
            joined_at: membership.joined_at,
            meta: membership.meta.into_map(),
        }
    }
}

/// A page of participants.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantList {
    pub data: Vec<ParticipantJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

/// `{online_users, total_online}`
#[derive(Debug, Serialize, ToSchema)]
pub struct OnlineJson {
    pub online_users: Vec<String>,
    pub total_online: usize,
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// Add a user to a room.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    request_body = JoinRequest,
    responses(
        (status = 200, description = "Joined", body = MessageOnly),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: an agent joining as someone else; PERMISSION_DENIED: a scoped credential without join_rooms (itself) or invite_users (someone else)", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND, or USER_NOT_FOUND: a user credential naming a user_id nobody made (only the API key and administrators make users by joining them)", body = ErrorBody),
        (status = 409, description = "ALREADY_IN_ROOM, ROOM_INACTIVE or ROOM_FULL", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR", body = ErrorBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/join")]
pub async fn join_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
    body: Json<JoinRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let join = Join::parse(
        body.user_id.as_deref(),
        body.user_name.as_deref(),
        body.meta,
    )?;
    state
        .app
        .members
        .join(&auth.actor, room_id.ids()?, join)
        .await?;
    Ok(HttpResponse::Ok().json(MessageOnly {
        message: "Successfully joined room",
        status: "success",
    }))
}

/// Remove a user from a room.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    request_body = LeaveRequest,
    responses(
        (status = 200, description = "Left", body = MessageOnly),
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: an agent removing someone else; PERMISSION_DENIED: a scoped credential without join_rooms (itself) or invite_users (someone else)", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND or NOT_IN_ROOM", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR", body = ErrorBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/leave")]
pub async fn leave_room(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
    body: Json<LeaveRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let user_id = ExternalId::parse_field("user_id", body.user_id.as_deref().unwrap_or_default())?;
    state
        .app
        .members
        .leave(&auth.actor, room_id.ids()?, user_id)
        .await?;
    Ok(HttpResponse::Ok().json(MessageOnly {
        message: "Successfully left room",
        status: "success",
    }))
}

/// The participants of a room, in join order.
#[utoipa::path(
    tag = "rooms",
    params(
        ("room_id" = Uuid, Path, description = "The room's UUID"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Participants to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "1–1000, default 100; larger values are clamped"),
    ),
    responses(
        (status = 200, description = "A page of participants", body = ParticipantList),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        BadRequest,
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}/participants")]
pub async fn list_participants(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
    query: Query,
) -> Result<HttpResponse, Error> {
    let skip = query.integer("skip")?.unwrap_or(0);
    let limit = query
        .integer("limit")?
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let window = Window::new(skip, limit, MAX_LIMIT)?;
    let page = state
        .app
        .members
        .participants(&auth.actor, room_id.ids()?, window)
        .await?;
    Ok(HttpResponse::Ok().json(ParticipantList {
        pagination: Pagination::of(window, page.items.len(), page.total),
        data: page.items.into_iter().map(ParticipantJson::from).collect(),
        status: "success",
    }))
}

/// The `user_id`s with an open WebSocket to the room, across every server node.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "Who is online", body = Envelope<OnlineJson>),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}/online")]
pub async fn online_users(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
) -> Result<HttpResponse, Error> {
    let online = state
        .app
        .members
        .online(&auth.actor, room_id.ids()?)
        .await?;
    let total_online = online.user_ids.len();
    Ok(HttpResponse::Ok().json(Envelope::ok(OnlineJson {
        online_users: online.user_ids,
        total_online,
    })))
}
