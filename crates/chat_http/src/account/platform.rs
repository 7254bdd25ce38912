//! The platform API (`/platform/api/v1`): the operator creates and changes accounts and
//! users with the platform token. Rendered in the account dialect.

use actix_web::web::Data;
use actix_web::{HttpResponse, patch, post};
use chat_app::{AccountPatch, IssuedAccount, IssuedUser, NewAccount, NewUser};
use chat_domain::{Account, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::path::AccountPath;
use super::responses::{BadRequest, NotPlatform, TooLarge, Unavailable};
use super::{Error, ErrorBody, Json, PlatformCaller, ValidationBody};
use crate::AppState;

/// `{name, description?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAccountRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "Acme")]
    pub name: Option<String>,
    pub description: Option<String>,
}

/// Any of `{name, description, is_active, features}`; absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountRequest {
    /// 1–255 characters after trimming; `null` is a blank name (422).
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<Option<String>>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = bool)]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = FeaturesRequest)]
    pub features: Option<FeaturesRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeaturesRequest {
    /// `false` turns the account dialect's chat rooms off for the account.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = bool)]
    pub chat_rooms: Option<bool>,
}

/// `{name, email?, role?, external_id?}`; `role` defaults to `agent`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "Ada Lovelace")]
    pub name: Option<String>,
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    /// `administrator` or `agent`.
    #[schema(example = "agent")]
    pub role: Option<String>,
    /// The integrator's id for this user: its ChatAPI `user_id`.
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeaturesJson {
    pub chat_rooms: bool,
}

/// An account, with its API key only when it was just made.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountJson {
    pub id: i64,
    pub uuid: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub features: FeaturesJson,
    /// Shown once, at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl AccountJson {
    pub fn new(account: &Account, api_key: Option<&str>) -> Self {
        Self {
            id: account.id.0,
            uuid: account.uuid,
            name: account.name.as_str().to_owned(),
            description: account.description.as_ref().map(|d| d.as_str().to_owned()),
            is_active: account.is_active,
            features: FeaturesJson {
                chat_rooms: account.features.chat_rooms,
            },
            api_key: api_key.map(str::to_owned),
            created_at: account.created_at.unix_timestamp(),
            updated_at: account.updated_at.unix_timestamp(),
        }
    }
}

impl From<&IssuedAccount> for AccountJson {
    fn from(issued: &IssuedAccount) -> Self {
        Self::new(&issued.account, Some(issued.api_key.expose()))
    }
}

/// A user, with its access token (shown once, at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub email: Option<String>,
    /// `administrator` or `agent`.
    pub role: &'static str,
    pub external_id: Option<String>,
    pub access_token: String,
    pub confirmed: bool,
    /// `online`, `offline` or `busy`.
    pub availability_status: &'static str,
    /// Unix seconds.
    pub created_at: i64,
}

impl UserJson {
    fn new(user: &User, access_token: &str) -> Self {
        Self {
            id: user.id.0,
            account_id: user.account_id.0,
            name: user.name.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            role: user.role.as_str(),
            external_id: user.external_id.as_ref().map(|e| e.as_str().to_owned()),
            access_token: access_token.to_owned(),
            confirmed: user.confirmed,
            availability_status: user.availability.as_str(),
            created_at: user.created_at.unix_timestamp(),
        }
    }
}

impl From<&IssuedUser> for UserJson {
    fn from(issued: &IssuedUser) -> Self {
        Self::new(&issued.user, issued.access_token.expose())
    }
}

/// Create an account (a ChatAPI client) and its first API key.
#[utoipa::path(
    tag = "platform",
    request_body = CreateAccountRequest,
    responses(
        (status = 200, description = "The account, with its API key (shown once)", body = AccountJson),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        NotPlatform,
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ValidationBody),
        Unavailable,
    ),
    security(("bearer" = []), ("api_key" = []), ("api_access_token" = []))
)]
#[post("/accounts")]
pub async fn create_account(
    state: Data<AppState>,
    auth: PlatformCaller,
    body: Json<CreateAccountRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let new = NewAccount::parse(body.name.as_deref(), body.description.as_deref())?;
    let issued = state.app.accounts.create(&auth.actor, new).await?;
    Ok(HttpResponse::Ok().json(AccountJson::from(&issued)))
}

/// Change an account's name, description, activity or features.
#[utoipa::path(
    tag = "platform",
    params(("id" = i64, Path, description = "Account id")),
    request_body = UpdateAccountRequest,
    responses(
        (status = 200, description = "The account", body = AccountJson),
        NotPlatform,
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "Invalid or unknown fields", body = ValidationBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("bearer" = []), ("api_key" = []), ("api_access_token" = []))
)]
#[patch("/accounts/{id}")]
pub async fn update_account(
    state: Data<AppState>,
    auth: PlatformCaller,
    id: AccountPath,
    body: Json<UpdateAccountRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let patch = AccountPatch::parse(
        body.name.as_ref().map(Option::as_deref),
        body.description.as_ref().map(Option::as_deref),
        body.is_active,
        body.features.and_then(|f| f.chat_rooms),
    )?;
    let account = state
        .app
        .accounts
        .update(&auth.actor, id.ids()?, patch)
        .await?;
    Ok(HttpResponse::Ok().json(AccountJson::new(&account, None)))
}

/// Create a user of an account, with its access token.
#[utoipa::path(
    tag = "platform",
    params(("id" = i64, Path, description = "Account id")),
    request_body = CreateUserRequest,
    responses(
        (status = 200, description = "The user, with its access token (shown once)", body = UserJson),
        NotPlatform,
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "Invalid fields, or email / external id taken", body = ValidationBody),
        BadRequest,
        TooLarge,
        Unavailable,
    ),
    security(("bearer" = []), ("api_key" = []), ("api_access_token" = []))
)]
#[post("/accounts/{id}/users")]
pub async fn create_user(
    state: Data<AppState>,
    auth: PlatformCaller,
    id: AccountPath,
    body: Json<CreateUserRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let new = NewUser::parse(
        body.name.as_deref(),
        body.email.as_deref(),
        body.role.as_deref(),
        body.external_id.as_deref(),
    )?;
    let issued = state.app.users.create(&auth.actor, id.ids()?, new).await?;
    Ok(HttpResponse::Ok().json(UserJson::from(&issued)))
}
