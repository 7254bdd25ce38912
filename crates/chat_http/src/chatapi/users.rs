//! ChatAPI users (`/api/v1/users`): the integration's end users, and their own
//! credentials — scoped keys from a login, and the revocation of signed tokens.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post, put};
use chat_app::{EndUserPatch, Login, NewEndUser, UserQuery, Window};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::json::{Pagination, UserJson};
use super::path::UserPath;
use super::responses::{BadRequest, Invalid, NotApiKey, NotFound, TooLarge, Unavailable};
use super::{ApiKeyCaller, Authenticated, Envelope, Error, ErrorBody, Json, Query, rfc3339};
use crate::AppState;

/// `{user_id, user_name?, email?, meta?}`
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CreateEndUserRequest)]
pub struct CreateUserRequest {
    /// The integrator's id for the user, unique in the account.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "user_123")]
    pub user_id: Option<String>,
    /// The display name; the `user_id` when none is given.
    #[schema(max_length = 255, example = "John Doe")]
    pub user_name: Option<String>,
    /// Unique in the account.
    #[schema(example = "john@example.com")]
    pub email: Option<String>,
    /// Any JSON object up to 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
}

/// Any of `{user_name, email, meta, is_active}`; absent fields are kept, `null` is
/// refused (400).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UpdateEndUserRequest)]
pub struct UpdateUserRequest {
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String, min_length = 1, max_length = 255)]
    pub user_name: Option<String>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String)]
    pub email: Option<String>,
    /// Replaces the whole meta object.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Object)]
    pub meta: Option<Map<String, Value>>,
    /// `false` refuses the user's credentials and closes its sockets; `true` lets them
    /// back in.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = bool)]
    pub is_active: Option<bool>,
}

/// `{user_id, user_name?, ttl_secs?, permissions?, keep_other_sessions?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Who logs in; an unknown `user_id` becomes a user of the account.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "user_123")]
    pub user_id: Option<String>,
    /// The name a new user is made with (the `user_id` when none is given).
    #[schema(max_length = 255, example = "John Doe")]
    pub user_name: Option<String>,
    /// How long the key works, in seconds: 1 to 7,776,000 (90 days), default 604,800
    /// (7 days).
    #[schema(minimum = 1, maximum = 7_776_000, example = 3600)]
    pub ttl_secs: Option<i64>,
    /// What the key may do; default `read_messages`, `send_messages`, `join_rooms`. An
    /// empty list is refused (a key that can do nothing is a mistake).
    #[schema(value_type = Option<Vec<PermissionName>>, min_items = 1, example = json!(["read_messages", "send_messages"]))]
    pub permissions: Option<Vec<String>>,
    /// `false` (the default) revokes the user's earlier scoped keys; `true` keeps them
    /// (one key per device).
    pub keep_other_sessions: Option<bool>,
}

/// A permission of a scoped credential (the read and write of the API names them as
/// text; this closed set is for the OpenAPI document).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermissionName {
    /// See the rooms it belongs to, read them, their members and messages; mark read.
    ReadMessages,
    /// Send messages, edit and delete its own, type.
    SendMessages,
    /// Join and leave rooms as itself.
    JoinRooms,
    /// Create rooms, and change, (de)activate and delete the rooms it belongs to.
    ManageRooms,
    /// Add other users to (and remove them from) the rooms it belongs to.
    InviteUsers,
}

/// `{user_id}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// The user whose scoped keys are revoked.
    #[schema(required = true, value_type = String, min_length = 1, example = "user_123")]
    pub user_id: Option<String>,
}

/// A list of users with its pagination.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub data: Vec<UserJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

/// What a login answers: the key, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginJson {
    pub user: UserJson,
    /// `sk_` and 64 hex digits: shown once, stored only as a hash.
    #[schema(example = "sk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    pub scoped_api_key: String,
    /// What the key may do.
    #[schema(value_type = Vec<PermissionName>, example = json!(["read_messages", "send_messages", "join_rooms"]))]
    pub permissions: Vec<&'static str>,
    /// When the key stops working (then `401 TOKEN_EXPIRED`).
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-08T00:00:00Z")]
    pub expires_at: OffsetDateTime,
}

/// What a logout answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutJson {
    pub user_id: String,
    /// How many scoped keys stopped working.
    pub revoked: u64,
}

/// What revoking a user's tokens answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedTokensJson {
    pub user_id: String,
    /// Signed tokens issued (`iat`) before this instant are refused from now on.
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub tokens_valid_after: OffsetDateTime,
}

const DEFAULT_LIMIT: i64 = 20;

/// Create a user of the calling client. API key only.
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "The user", body = Envelope<UserJson>),
        BadRequest,
        NotApiKey,
        (status = 409, description = "USER_EXISTS: another user has this user_id", body = ErrorBody),
        (status = 422, description = "VALIDATION_ERROR: details name each bad field (a taken email included)", body = ErrorBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/users")]
pub async fn create_user(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    body: Json<CreateUserRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let new = NewEndUser::parse(
        body.user_id.as_deref(),
        body.user_name.as_deref(),
        body.email.as_deref(),
        body.meta,
    )?;
    let user = state.end_users.create(&auth.actor, new).await?;
    Ok(HttpResponse::Created().json(Envelope::ok(UserJson::from(user))))
}

/// List the calling client's users, oldest first. API key only.
#[utoipa::path(
    tag = "users",
    params(
        ("skip" = Option<i64>, Query, minimum = 0, description = "Users to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "Users to return: 1–100, default 20; larger values are clamped to 100"),
        ("search" = Option<String>, Query, description = "Case-insensitive text in the user_id, name or email"),
    ),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        BadRequest,
        NotApiKey,
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    query: Query,
) -> Result<HttpResponse, Error> {
    let skip = query.integer("skip")?.unwrap_or(0);
    let limit = query
        .integer("limit")?
        .unwrap_or(DEFAULT_LIMIT)
        .min(Window::MAX_LIMIT);
    let search = query.get("search")?;
    let user_query = UserQuery::parse(skip, limit, search.as_deref())?;
    let window = user_query.window;
    let page = state.end_users.list(&auth.actor, user_query).await?;
    Ok(HttpResponse::Ok().json(UserList {
        pagination: Pagination::of(window, page.items.len(), page.total),
        data: page.items.into_iter().map(UserJson::from).collect(),
        status: "success",
    }))
}

/// One user: the API key, or that user's own scoped key or signed token.
#[utoipa::path(
    tag = "users",
    params(("user_id" = String, Path, description = "The user's user_id")),
    responses(
        (status = 200, description = "The user", body = Envelope<UserJson>),
        (status = 401, description = "UNAUTHORIZED: credential missing or unknown, or not the API key nor the user's own; TOKEN_EXPIRED", body = ErrorBody),
        (status = 403, description = "PERMISSION_DENIED: another user's scoped credential", body = ErrorBody),
        NotFound,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[get("/users/{user_id}")]
pub async fn get_user(
    state: Data<AppState>,
    auth: Authenticated,
    user_id: UserPath,
) -> Result<HttpResponse, Error> {
    let user = state.end_users.get(&auth.actor, &user_id.ids()?).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(UserJson::from(user))))
}

/// Change a user: the fields given replace, the others are kept. Deactivating refuses
/// its credentials and closes its sockets. API key only.
#[utoipa::path(
    tag = "users",
    params(("user_id" = String, Path, description = "The user's user_id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The user", body = Envelope<UserJson>),
        BadRequest,
        NotApiKey,
        NotFound,
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[put("/users/{user_id}")]
pub async fn update_user(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    user_id: UserPath,
    body: Json<UpdateUserRequest>,
) -> Result<HttpResponse, Error> {
    let user_id = user_id.ids()?;
    let body = body.read().await?;
    let patch = EndUserPatch::parse(
        body.user_name.as_deref(),
        body.email.as_deref(),
        body.meta,
        body.is_active,
    )?;
    let user = state.end_users.update(&auth.actor, &user_id, patch).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(UserJson::from(user))))
}

/// Issue a scoped key to a user (made if unknown). By default the user's earlier scoped
/// keys stop working (`keep_other_sessions: true` keeps them). API key only.
#[utoipa::path(
    tag = "users",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "The user and its new scoped key (shown once)", body = Envelope<LoginJson>),
        BadRequest,
        NotApiKey,
        (status = 403, description = "USER_INACTIVE: the user is deactivated", body = ErrorBody),
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/users/login")]
pub async fn login(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let permissions = body
        .permissions
        .as_ref()
        .map(|names| names.iter().map(String::as_str).collect());
    let login = Login::parse(
        body.user_id.as_deref(),
        body.user_name.as_deref(),
        body.ttl_secs,
        permissions,
        body.keep_other_sessions,
    )?;
    let issued = state.end_users.login(&auth.actor, login).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(LoginJson {
        user: UserJson::from(issued.user),
        scoped_api_key: issued.key.expose().to_owned(),
        permissions: issued.permissions.names(),
        expires_at: issued.expires_at,
    })))
}

/// Revoke every scoped key of a user at once: by the API key, or by a scoped credential
/// of that same user. Signed tokens are not touched (see revoke-tokens).
#[utoipa::path(
    tag = "users",
    request_body = LogoutRequest,
    responses(
        (status = 200, description = "The user's scoped keys no longer work", body = Envelope<LogoutJson>),
        BadRequest,
        (status = 401, description = "UNAUTHORIZED: credential missing or unknown; TOKEN_EXPIRED", body = ErrorBody),
        (status = 403, description = "PERMISSION_DENIED: a credential of another user, or a user's own access token", body = ErrorBody),
        NotFound,
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/users/logout")]
pub async fn logout(
    state: Data<AppState>,
    auth: Authenticated,
    body: Json<LogoutRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let user_id = chat_domain::ExternalId::parse_field(
        "user_id",
        body.user_id.as_deref().unwrap_or_default(),
    )?;
    let logged_out = state
        .end_users
        .logout(&auth.actor, user_id.as_str())
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(LogoutJson {
        user_id: logged_out.user.chat_user_id(),
        revoked: logged_out.revoked,
    })))
}

/// Refuse every signed token of a user issued before now, and revoke its scoped keys.
/// API key only.
#[utoipa::path(
    tag = "users",
    params(("user_id" = String, Path, description = "The user's user_id")),
    responses(
        (status = 200, description = "The user's earlier tokens and its scoped keys no longer work", body = Envelope<RevokedTokensJson>),
        NotApiKey,
        NotFound,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/users/{user_id}/revoke-tokens")]
pub async fn revoke_tokens(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    user_id: UserPath,
) -> Result<HttpResponse, Error> {
    let user_id = user_id.ids()?;
    let revoked = state.end_users.revoke_tokens(&auth.actor, &user_id).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(RevokedTokensJson {
        user_id: revoked.user.chat_user_id(),
        tokens_valid_after: revoked.tokens_valid_after,
    })))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(crate::openapi()).unwrap_or_default()
    }

    #[test]
    fn the_users_schemas_do_not_replace_the_platform_apis_own() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        assert!(schemas["UserJson"]["properties"]["access_token"].is_object());
        assert!(schemas["CreateUserRequest"]["properties"]["role"].is_object());
        assert!(schemas["ChatApiUserJson"]["properties"]["user_id"].is_object());
        assert!(schemas["CreateEndUserRequest"]["properties"]["user_id"].is_object());
    }

    #[test]
    fn the_documented_permissions_are_the_domains() {
        let document = document();
        let names = &document["components"]["schemas"]["PermissionName"]["enum"];
        assert_eq!(
            *names,
            serde_json::json!(chat_domain::Permission::NAMES),
            "{document}"
        );
    }

    #[test]
    fn every_users_route_is_documented_with_its_refusals() {
        let document = document();
        let paths = &document["paths"];
        for (path, method, statuses) in [
            (
                "/api/v1/users",
                "post",
                &["201", "400", "401", "409", "422", "429"][..],
            ),
            ("/api/v1/users", "get", &["200", "400", "401", "422", "429"]),
            (
                "/api/v1/users/{user_id}",
                "get",
                &["200", "401", "403", "404"],
            ),
            (
                "/api/v1/users/{user_id}",
                "put",
                &["200", "400", "401", "404", "422"],
            ),
            (
                "/api/v1/users/login",
                "post",
                &["200", "400", "401", "403", "422"],
            ),
            (
                "/api/v1/users/logout",
                "post",
                &["200", "401", "403", "404", "422"],
            ),
            (
                "/api/v1/users/{user_id}/revoke-tokens",
                "post",
                &["200", "401", "404"],
            ),
            (
                "/api/v1/clients/signing-secret",
                "post",
                &["200", "401", "503"],
            ),
        ] {
            let responses = &paths[path][method]["responses"];
            for status in statuses {
                assert!(
                    responses[*status].is_object(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
}
