//! `GET /api/v1/me`: who a user's credential is. A browser or phone handed only a scoped
//! key, a signed token or a user access token learns its user, and the ids it needs for
//! the other dialect (`id`, `account_id`), without ever seeing the API key.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::json::UserJson;
use super::responses::Unavailable;
use super::{Authenticated, Envelope, Error, ErrorBody};
use crate::AppState;

/// The caller's user, with what its credential lets it do.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeJson {
    #[serde(flatten)]
    pub user: UserJson,
    /// The user's integer id (the account dialect's).
    #[schema(example = 12)]
    pub id: i64,
    /// The account's integer id (`/api/v1/accounts/{account_id}/…`).
    #[schema(example = 3)]
    pub account_id: i64,
    /// The account's ChatAPI id.
    pub client_id: Uuid,
    /// `administrator` or `agent` (end users are agents).
    #[schema(example = "agent")]
    pub role: &'static str,
    /// A scoped key's or signed token's permissions; `null` for a user access token,
    /// whose role decides.
    #[schema(example = json!(["read_messages", "send_messages", "join_rooms"]))]
    pub permissions: Option<Vec<&'static str>>,
}

/// The user the credential acts as: a scoped key, a signed token or a user access token.
/// The account API key is nobody (`403 NOT_A_USER`).
#[utoipa::path(
    tag = "users",
    responses(
        (status = 200, description = "The caller's user", body = Envelope<MeJson>),
        (status = 401, description = "UNAUTHORIZED: credential missing, unknown or revoked; TOKEN_EXPIRED", body = ErrorBody),
        (status = 403, description = "NOT_A_USER: the account API key, which is nobody", body = ErrorBody),
        Unavailable,
    ),
    security(("bearer" = []), ("api_key" = []), ("api_access_token" = []))
)]
#[get("/me")]
pub async fn me(state: Data<AppState>, auth: Authenticated) -> Result<HttpResponse, Error> {
    let me = state.end_users.me(&auth.actor).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(MeJson {
        id: me.user.id.0,
        account_id: me.account.id.0,
        client_id: me.account.uuid,
        role: me.role.as_str(),
        permissions: me.scope.map(|scope| scope.names()),
        user: UserJson::from(me.user),
    })))
}
