//! Account-dialect agents (`/api/v1/accounts/{account_id}/agents`), as Chatwoot's agents
//! API: the account's users, read by anyone of the account and changed by its API key
//! and administrators, without the platform token.

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, patch, post};
use chat_app::{Actor, AppError, IssuedUser, NewUser, Resource, UserPatch};
use chat_domain::{AccountId, RoomRef, UserId};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::ChatRoomsCaller;
use super::members::AgentJson;
use super::path::account_id;
use super::responses::{
    BadRequest, NotAdministrator, NotFound, TooLarge, Unauthenticated, Unavailable,
};
use super::{Error, Json, ValidationBody};
use crate::AppState;
use crate::extract::{Admitted, Caller, FromPath, Manages, PathIds};

/// A caller of `…/agents`: admitted as [`ChatRoomsCaller`] admits (401, then 404 for an
/// account that does not exist, then 403 with the feature off). No room is in the path,
/// so an agent's `{id}` is never read as one.
#[derive(Debug)]
pub struct AgentsCaller {
    pub actor: Actor,
}

impl FromRequest for AgentsCaller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = ChatRoomsCaller::from_request(req, payload);
        Box::pin(async move {
            Ok(Self {
                actor: caller.await?.actor,
            })
        })
    }
}

impl Caller for AgentsCaller {
    fn into_actor(self) -> Actor {
        self.actor
    }

    fn room_in_path(_: &HttpRequest) -> Option<Result<RoomRef, AppError>> {
        None
    }
}

/// An [`AgentsCaller`] who may manage the account (the API key or an administrator),
/// else 403 before the body is read.
pub type AgentsManager = Admitted<AgentsCaller, Manages>;

/// `/api/v1/accounts/{account_id}/agents/{id}`: the account and the user.
pub type AgentPath = PathIds<AgentSegments>;

/// `/api/v1/accounts/{account_id}/agents`: the account.
pub type AgentsPath = PathIds<super::path::AccountSegment>;

/// Reads the account from the first segment and the user from the second; anything but
/// an integer names nothing (404).
#[derive(Debug)]
pub struct AgentSegments;

impl FromPath for AgentSegments {
    type Ids = (AccountId, UserId);

    fn from_path(segments: &[String]) -> Result<Self::Ids, AppError> {
        let segment = |index: usize| segments.get(index).map_or("", String::as_str);
        let user = segment(1)
            .parse::<i64>()
            .map(UserId)
            .map_err(|_| AppError::NotFound(Resource::User))?;
        Ok((account_id(segment(0))?, user))
    }
}

/// `{name, email, role?, availability_status?}`; `role` defaults to `agent`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAgentRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "Ada Lovelace")]
    pub name: Option<String>,
    /// Unique in the account.
    #[schema(required = true, value_type = String, example = "ada@example.com")]
    pub email: Option<String>,
    /// `administrator` or `agent`.
    #[schema(example = "agent")]
    pub role: Option<String>,
    /// `online`, `offline` or `busy`.
    pub availability_status: Option<String>,
}

/// Any of `{name, email, role, availability_status}`; absent fields are kept, `null`
/// is refused (422).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateAgentRequest {
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Unique in the account.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String)]
    pub email: Option<String>,
    /// `administrator` or `agent`.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String)]
    pub role: Option<String>,
    /// `online`, `offline` or `busy`.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String)]
    pub availability_status: Option<String>,
}

/// An agent with its access token (shown once: at creation, or when a new one is issued).
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedAgentJson {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub email: Option<String>,
    /// `administrator` or `agent`.
    pub role: &'static str,
    pub confirmed: bool,
    /// `online`, `offline` or `busy`.
    pub availability_status: &'static str,
    /// The user's picture; `null` until users have pictures.
    pub thumbnail: Option<String>,
    /// Shown once; stored only as a hash.
    pub access_token: String,
}

impl From<&IssuedUser> for IssuedAgentJson {
    fn from(issued: &IssuedUser) -> Self {
        let agent = AgentJson::from(&issued.user);
        Self {
            id: agent.id,
            account_id: agent.account_id,
            name: agent.name,
            email: agent.email,
            role: agent.role,
            confirmed: agent.confirmed,
            availability_status: agent.availability_status,
            thumbnail: agent.thumbnail,
            access_token: issued.access_token.expose().to_owned(),
        }
    }
}

/// The account's agents and administrators, oldest first.
#[utoipa::path(
    tag = "agents",
    params(("account_id" = i64, Path, description = "Account id")),
    responses(
        (status = 200, description = "Every user of the account", body = Vec<AgentJson>),
        Unauthenticated,
        (status = 403, description = "The feature is off", body = super::ErrorBody),
        NotFound,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/agents")]
pub async fn list_agents(
    state: Data<AppState>,
    caller: AgentsCaller,
    path: AgentsPath,
) -> Result<HttpResponse, Error> {
    let users = state.app.users.list(&caller.actor, path.ids()?).await?;
    let agents: Vec<AgentJson> = users.iter().map(AgentJson::from).collect();
    Ok(HttpResponse::Ok().json(agents))
}

/// Add an agent (or administrator) to the account, with its access token (shown once).
#[utoipa::path(
    tag = "agents",
    params(("account_id" = i64, Path, description = "Account id")),
    request_body = CreateAgentRequest,
    responses(
        (status = 200, description = "The agent, with its access token (shown once)", body = IssuedAgentJson),
        Unauthenticated,
        NotAdministrator,
        NotFound,
        (status = 422, description = "Invalid fields, or the email is taken in the account", body = ValidationBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/agents")]
pub async fn create_agent(
    state: Data<AppState>,
    caller: AgentsManager,
    path: AgentsPath,
    body: Json<CreateAgentRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let new = NewUser::parse_agent(
        body.name.as_deref(),
        body.email.as_deref(),
        body.role.as_deref(),
        body.availability_status.as_deref(),
    )?;
    let issued = state
        .app
        .users
        .create(&caller.actor, path.ids()?, new)
        .await?;
    Ok(HttpResponse::Ok().json(IssuedAgentJson::from(&issued)))
}

/// Change an agent's name, email, role or availability.
#[utoipa::path(
    tag = "agents",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "The agent's user id"),
    ),
    request_body = UpdateAgentRequest,
    responses(
        (status = 200, description = "The agent", body = AgentJson),
        Unauthenticated,
        NotAdministrator,
        NotFound,
        (status = 422, description = "Invalid fields, or the email is taken in the account", body = ValidationBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[patch("/agents/{id}")]
pub async fn update_agent(
    state: Data<AppState>,
    caller: AgentsManager,
    path: AgentPath,
    body: Json<UpdateAgentRequest>,
) -> Result<HttpResponse, Error> {
    let (account, id) = path.ids()?;
    let body = body.read().await?;
    let patch = UserPatch::parse(
        body.name.as_deref(),
        body.email.as_deref(),
        body.role.as_deref(),
        body.availability_status.as_deref(),
    )?;
    let user = state
        .app
        .users
        .update(&caller.actor, account, id, patch)
        .await?;
    Ok(HttpResponse::Ok().json(AgentJson::from(&user)))
}

/// Delete an agent: its messages stay (their sender becomes `null`), its memberships
/// and credentials go at once.
#[utoipa::path(
    tag = "agents",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "The agent's user id"),
    ),
    responses(
        (status = 200, description = "Deleted (empty body)"),
        Unauthenticated,
        NotAdministrator,
        NotFound,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/agents/{id}")]
pub async fn delete_agent(
    state: Data<AppState>,
    caller: AgentsManager,
    path: AgentPath,
) -> Result<HttpResponse, Error> {
    let (account, id) = path.ids()?;
    state.app.users.delete(&caller.actor, account, id).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Issue a new access token for an agent; the old one stops working at once.
#[utoipa::path(
    tag = "agents",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "The agent's user id"),
    ),
    responses(
        (status = 200, description = "The agent, with its new access token (shown once)", body = IssuedAgentJson),
        Unauthenticated,
        NotAdministrator,
        NotFound,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/agents/{id}/access_token")]
pub async fn reset_access_token(
    state: Data<AppState>,
    caller: AgentsManager,
    path: AgentPath,
) -> Result<HttpResponse, Error> {
    let (account, id) = path.ids()?;
    let issued = state
        .app
        .users
        .replace_token(&caller.actor, account, id)
        .await?;
    Ok(HttpResponse::Ok().json(IssuedAgentJson::from(&issued)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::path::segments;

    #[test]
    fn integers_name_an_account_and_a_user_and_anything_else_nothing() {
        assert!(matches!(
            AgentSegments::from_path(&segments(&["7", "42"])),
            Ok((AccountId(7), UserId(42)))
        ));
        assert!(matches!(
            AgentSegments::from_path(&segments(&["7", "x"])),
            Err(AppError::NotFound(Resource::User))
        ));
        assert!(matches!(
            AgentSegments::from_path(&segments(&["x", "1"])),
            Err(AppError::NotFound(Resource::Account))
        ));
    }
}
