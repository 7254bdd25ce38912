//! Account-dialect members (`…/chat_rooms/{chat_room_id}/members`): seed 002.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use chat_app::UserIds;
use chat_domain::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::{ChatRoomsCaller, MemberManager};
use super::path::ChatRoomPath;
use super::responses::{
    BadRequest, NotAdministrator, NotMember, TooLarge, Unauthenticated, Unavailable,
};
use super::{Error, ErrorBody, Json, ValidationBody};
use crate::AppState;

/// `{"user_ids": [3, 4, 5]}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserIdsRequest {
    /// At least one user id of the account.
    #[schema(required = true, value_type = Vec<i64>, min_items = 1, example = json!([3, 4, 5]))]
    pub user_ids: Option<Vec<i64>>,
}

/// A member (an agent or administrator of the account).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentJson {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub account_id: i64,
    /// `administrator` or `agent`.
    pub role: &'static str,
    pub confirmed: bool,
    /// `online`, `offline` or `busy`.
    pub availability_status: &'static str,
    /// The user's picture; `null` until users have pictures.
    pub thumbnail: Option<String>,
}

impl From<&User> for AgentJson {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.0,
            name: user.name.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            account_id: user.account_id.0,
            role: user.role.as_str(),
            confirmed: user.confirmed,
            availability_status: user.availability.as_str(),
            thumbnail: None,
        }
    }
}

fn agents(users: &[User]) -> Vec<AgentJson> {
    users.iter().map(AgentJson::from).collect()
}

async fn user_ids(body: Json<UserIdsRequest>) -> Result<UserIds, Error> {
    Ok(UserIds::parse(body.read().await?.user_ids)?)
}

/// The members of a chat room, in join order.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
    ),
    responses(
        (status = 200, description = "The members", body = Vec<AgentJson>),
        Unauthenticated,
        NotMember,
        (status = 404, description = "No such account or room", body = ErrorBody),
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/chat_rooms/{chat_room_id}/members")]
pub async fn list_members(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatRoomPath,
) -> Result<HttpResponse, Error> {
    let members = state
        .app
        .members
        .list(&caller.actor, path.ids()?.room)
        .await?;
    Ok(HttpResponse::Ok().json(agents(&members)))
}

/// Add members; answers the users who were added (not those already members).
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
    ),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "The users added", body = Vec<AgentJson>),
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account, room or user", body = ErrorBody),
        (status = 409, description = "The room would exceed its max_participants", body = ErrorBody),
        (status = 422, description = "user_ids missing or empty", body = ValidationBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms/{chat_room_id}/members")]
pub async fn add_members(
    state: Data<AppState>,
    caller: MemberManager,
    path: ChatRoomPath,
    body: Json<UserIdsRequest>,
) -> Result<HttpResponse, Error> {
    let ids = user_ids(body).await?;
    let added = state
        .app
        .members
        .add(&caller.actor, path.ids()?.room, ids)
        .await?;
    Ok(HttpResponse::Ok().json(agents(&added)))
}

/// Replace the member list: users not in `user_ids` are removed, new ones added.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
    ),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "The full member list", body = Vec<AgentJson>),
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account, room or user", body = ErrorBody),
        (status = 409, description = "The room would exceed its max_participants", body = ErrorBody),
        (status = 422, description = "user_ids missing or empty", body = ValidationBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[patch("/chat_rooms/{chat_room_id}/members")]
pub async fn replace_members(
    state: Data<AppState>,
    caller: MemberManager,
    path: ChatRoomPath,
    body: Json<UserIdsRequest>,
) -> Result<HttpResponse, Error> {
    let ids = user_ids(body).await?;
    let members = state
        .app
        .members
        .replace(&caller.actor, path.ids()?.room, ids)
        .await?;
    Ok(HttpResponse::Ok().json(agents(&members)))
}

/// Remove members. Answers an empty body.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
    ),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "Removed (empty body)"),
        Unauthenticated,
        NotAdministrator,
        (status = 404, description = "No such account, room or user", body = ErrorBody),
        (status = 422, description = "user_ids missing or empty", body = ValidationBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/chat_rooms/{chat_room_id}/members")]
pub async fn remove_members(
    state: Data<AppState>,
    caller: MemberManager,
    path: ChatRoomPath,
    body: Json<UserIdsRequest>,
) -> Result<HttpResponse, Error> {
    let ids = user_ids(body).await?;
    state
        .app
        .members
        .remove(&caller.actor, path.ids()?.room, ids)
        .await?;
    Ok(HttpResponse::Ok().finish())
}
