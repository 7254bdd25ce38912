//! ChatAPI clients (`/api/v1/clients`): a client is an account seen through its UUID;
//! its API key, and the signing secret its servers mint end users' tokens with.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use chat_app::{AccountPatch, NewAccount};
use chat_domain::Account;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::responses::{BadRequest, Invalid, NotApiKey, NotPlatform, TooLarge, Unavailable};
use super::{
    ApiKeyCaller, Authenticated, Envelope, Error, ErrorBody, Json, PlatformCaller, rfc3339,
};
use crate::AppState;

/// `{name, description?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateClientRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "Acme")]
    pub name: Option<String>,
    pub description: Option<String>,
}

/// `{name?, description?}`: the fields given replace, the others are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    /// 1–255 characters after trimming; `null` is a blank name (422).
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = String, min_length = 1, max_length = 255, example = "Acme")]
    pub name: Option<Option<String>>,
    /// Up to 10,000 characters; `null` clears the description.
    #[serde(default, deserialize_with = "crate::fields::present")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
}

/// A client; `api_key` only when it was just made or regenerated.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientJson {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    pub is_active: bool,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub updated_at: OffsetDateTime,
}

impl ClientJson {
    fn new(account: &Account, api_key: Option<&str>) -> Self {
        Self {
            id: account.uuid,
            name: account.name.as_str().to_owned(),
            description: account.description.as_ref().map(|d| d.as_str().to_owned()),
            api_key: api_key.map(str::to_owned),
            is_active: account.is_active,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

/// Create a client (an account) and its API key. Platform token only.
#[utoipa::path(
    tag = "clients",
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "The client, with its API key (shown once)", body = Envelope<ClientJson>),
        (status = 400, description = "Body is not JSON or a field has the wrong type", body = ErrorBody),
        NotPlatform,
        (status = 422, description = "Invalid fields", body = ErrorBody),
        TooLarge,
        Unavailable,
    ),
    security(("bearer" = []), ("api_key" = []), ("api_access_token" = []))
)]
#[post("/clients")]
pub async fn create_client(
    state: Data<AppState>,
    auth: PlatformCaller,
    body: Json<CreateClientRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let new = NewAccount::parse(body.name.as_deref(), body.description.as_deref())?;
    let issued = state.app.accounts.create(&auth.actor, new).await?;
    let client = ClientJson::new(&issued.account, Some(issued.api_key.expose()));
    Ok(HttpResponse::Created().json(Envelope::ok(client)))
}

/// The calling client, without its key. API key only.
#[utoipa::path(
    tag = "clients",
    responses(
        (status = 200, description = "The client", body = Envelope<ClientJson>),
        NotApiKey,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[get("/clients/me")]
pub async fn current_client(
    state: Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, Error> {
    let account = state.app.accounts.current(&auth.actor).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(ClientJson::new(&account, None))))
}

/// Change the calling client's name or description: the fields given replace, the
/// others are kept; `{}` changes nothing. API key only.
#[utoipa::path(
    tag = "clients",
    request_body = UpdateClientRequest,
    responses(
        (status = 200, description = "The client, without its key", body = Envelope<ClientJson>),
        BadRequest,
        NotApiKey,
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[put("/clients/me")]
pub async fn update_client(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    body: Json<UpdateClientRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let patch = AccountPatch::parse(
        body.name.as_ref().map(Option::as_deref),
        body.description.as_ref().map(Option::as_deref),
        None,
        None,
    )?;
    let account = state.app.accounts.update_own(&auth.actor, patch).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(ClientJson::new(&account, None))))
}

/// Deactivate the calling client: its API key and every credential of its account stop
/// working at once (401 afterwards) and their open sockets close; its data is kept, and
/// the platform can switch it on again. API key only.
#[utoipa::path(
    tag = "clients",
    responses(
        (status = 200, description = "The client, now inactive", body = Envelope<ClientJson>),
        NotApiKey,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[delete("/clients/me")]
pub async fn deactivate_client(
    state: Data<AppState>,
    auth: ApiKeyCaller,
) -> Result<HttpResponse, Error> {
    let account = state.app.accounts.deactivate_own(&auth.actor).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        data: ClientJson::new(&account, None),
        message: Some("Client deactivated successfully"),
        status: "success",
    }))
}

/// Replace the calling client's API key; the old key stops working at once.
#[utoipa::path(
    tag = "clients",
    responses(
        (status = 200, description = "The client, with its new API key (shown once)", body = Envelope<ClientJson>),
        NotApiKey,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/clients/regenerate-key")]
pub async fn regenerate_key(
    state: Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, Error> {
    let issued = state.app.accounts.regenerate_api_key(&auth.actor).await?;
    let client = ClientJson::new(&issued.account, Some(issued.api_key.expose()));
    Ok(HttpResponse::Ok().json(Envelope::ok(client)))
}

/// A new signing secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningSecretJson {
    /// `ss_` and 64 hex digits: the HMAC key (its UTF-8 bytes) of HS256 tokens.
    #[schema(example = "ss_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    pub signing_secret: String,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub created_at: OffsetDateTime,
    /// The client's id: the `iss` claim every token must carry.
    pub client_id: Uuid,
}

/// Replace the calling client's signing secret (shown once). Tokens signed with the
/// previous secret keep working for 24 hours, so that they can roll over. API key only.
#[utoipa::path(
    tag = "clients",
    responses(
        (status = 200, description = "The new signing secret (shown once)", body = Envelope<SigningSecretJson>),
        NotApiKey,
        (status = 503, description = "SIGNING_NOT_CONFIGURED: the server has no CHAT_SECRET_KEY; or SERVICE_UNAVAILABLE: the database does not answer. Retry-After says when to retry", body = ErrorBody,
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/clients/signing-secret")]
pub async fn signing_secret(
    state: Data<AppState>,
    auth: ApiKeyCaller,
) -> Result<HttpResponse, Error> {
    let issued = state.end_users.replace_signing_secret(&auth.actor).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(SigningSecretJson {
        signing_secret: issued.secret.expose().to_owned(),
        created_at: issued.created_at,
        client_id: super::json::client_id(&auth.actor),
    })))
}
