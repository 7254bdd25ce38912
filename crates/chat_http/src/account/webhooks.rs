//! Account-dialect webhooks (`/api/v1/accounts/{account_id}/webhooks`), as Chatwoot's:
//! the same webhooks as the ChatAPI dialect's, by their integer ids, with `subscriptions`
//! for `events`. The API key and administrators; agents 403.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use chat_app::{AppError, NewWebhook, RawWebhook, Resource, WebhookPatch, WebhookRef};
use chat_domain::{AccountId, Webhook, WebhookId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agents::AgentsManager;
use super::path::account_id;
use super::responses::{
    BadRequest, NotAdministrator, NotFound, TooLarge, Unauthenticated, Unavailable,
};
use super::{Error, Json, ValidationBody};
use crate::AppState;
use crate::chatapi::webhooks::WebhookEventName;
use crate::extract::{FromPath, PathIds};

/// `/api/v1/accounts/{account_id}/webhooks/{id}`: the account and the webhook.
pub type AccountWebhookPath = PathIds<WebhookSegments>;

/// Reads the account from the first segment and the webhook from the second; anything
/// but an integer names nothing (404).
#[derive(Debug)]
pub struct WebhookSegments;

impl FromPath for WebhookSegments {
    type Ids = (AccountId, WebhookRef);

    fn from_path(segments: &[String]) -> Result<Self::Ids, AppError> {
        let segment = |index: usize| segments.get(index).map_or("", String::as_str);
        let webhook = segment(1)
            .parse::<i64>()
            .map(|id| WebhookRef::Id(WebhookId(id)))
            .map_err(|_| AppError::NotFound(Resource::Webhook))?;
        Ok((account_id(segment(0))?, webhook))
    }
}

/// `{webhook: {url, subscriptions}}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountWebhookRequest {
    pub webhook: Option<AccountWebhookFields>,
}

/// A webhook's fields: both needed to create one; either changes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AccountWebhookFields {
    /// `http` or `https`, up to 2048 characters; must lead to a public address.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String, max_length = 2048, example = "https://example.com/hooks/chat")]
    pub url: Option<String>,
    /// The events delivered; at least one.
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Vec<WebhookEventName>, min_items = 1, example = json!(["message.created"]))]
    pub subscriptions: Option<Vec<String>>,
}

impl AccountWebhookFields {
    fn raw(self) -> RawWebhook {
        RawWebhook {
            url: self.url,
            events: self.subscriptions,
            ..RawWebhook::default()
        }
    }
}

/// A webhook in the account dialect.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountWebhookJson {
    pub id: i64,
    pub account_id: i64,
    pub url: String,
    #[schema(value_type = Vec<WebhookEventName>)]
    pub subscriptions: Vec<&'static str>,
    /// The key deliveries are signed with (`X-ChatAPI-Signature`).
    pub secret: String,
}

impl From<Webhook> for AccountWebhookJson {
    fn from(webhook: Webhook) -> Self {
        Self {
            id: webhook.id.0,
            account_id: webhook.account_id.0,
            url: webhook.url.as_str().to_owned(),
            subscriptions: webhook.events.names(),
            secret: webhook.secret.expose().to_owned(),
        }
    }
}

/// At most this many webhooks are listed (the account dialect's list has no paging).
const LIST_LIMIT: i64 = 100;

/// The account's webhooks, oldest first (the first 100).
#[utoipa::path(
    tag = "webhooks",
    params(("account_id" = i64, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account's webhooks", body = Vec<AccountWebhookJson>),
        Unauthenticated,
        NotAdministrator,
        NotFound,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_account_webhooks(
    state: Data<AppState>,
    caller: AgentsManager,
) -> Result<HttpResponse, Error> {
    let window = chat_app::Window::new(0, LIST_LIMIT, LIST_LIMIT)?;
    let page = state.webhooks.list(&caller.actor, window).await?;
    let webhooks: Vec<AccountWebhookJson> = page
        .items
        .into_iter()
        .map(AccountWebhookJson::from)
        .collect();
    Ok(HttpResponse::Ok().json(webhooks))
}

/// Add a webhook; its secret is generated and shown in the answer.
#[utoipa::path(
    tag = "webhooks",
    params(("account_id" = i64, Path, description = "Account id")),
    request_body = AccountWebhookRequest,
    responses(
        (status = 200, description = "The webhook", body = AccountWebhookJson),
        BadRequest,
        Unauthenticated,
        NotAdministrator,
        NotFound,
        (status = 422, description = "Invalid fields; `url` also when it leads to a loopback, private or link-local address", body = ValidationBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_account_webhook(
    state: Data<AppState>,
    caller: AgentsManager,
    body: Json<AccountWebhookRequest>,
) -> Result<HttpResponse, Error> {
    let fields = body.read().await?.webhook.unwrap_or_default();
    let new = NewWebhook::parse(fields.raw(), "subscriptions")?;
    let webhook = state.webhooks.create(&caller.actor, new).await?;
    Ok(HttpResponse::Ok().json(AccountWebhookJson::from(webhook)))
}

/// Change a webhook's URL or subscriptions.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "The webhook's id"),
    ),
    request_body = AccountWebhookRequest,
    responses(
        (status = 200, description = "The webhook", body = AccountWebhookJson),
        BadRequest,
        Unauthenticated,
        NotAdministrator,
        NotFound,
        (status = 422, description = "Invalid fields; `url` also when it leads to a loopback, private or link-local address", body = ValidationBody),
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_account_webhook(
    state: Data<AppState>,
    caller: AgentsManager,
    path: AccountWebhookPath,
    body: Json<AccountWebhookRequest>,
) -> Result<HttpResponse, Error> {
    let (_, id) = path.ids()?;
    let fields = body.read().await?.webhook.unwrap_or_default();
    let patch = WebhookPatch::parse(fields.raw(), "subscriptions")?;
    let webhook = state.webhooks.update(&caller.actor, id, patch).await?;
    Ok(HttpResponse::Ok().json(AccountWebhookJson::from(webhook)))
}

/// Delete a webhook with its pending deliveries and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("id" = i64, Path, description = "The webhook's id"),
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
#[delete("/webhooks/{id}")]
pub async fn delete_account_webhook(
    state: Data<AppState>,
    caller: AgentsManager,
    path: AccountWebhookPath,
) -> Result<HttpResponse, Error> {
    let (_, id) = path.ids()?;
    state.webhooks.delete(&caller.actor, id).await?;
    Ok(HttpResponse::Ok().finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::path::segments;

    #[test]
    fn integers_name_an_account_and_a_webhook_and_anything_else_nothing() {
        assert!(matches!(
            WebhookSegments::from_path(&segments(&["7", "42"])),
            Ok((AccountId(7), WebhookRef::Id(WebhookId(42))))
        ));
        assert!(matches!(
            WebhookSegments::from_path(&segments(&["7", "x"])),
            Err(AppError::NotFound(Resource::Webhook))
        ));
        assert!(matches!(
            WebhookSegments::from_path(&segments(&["x", "1"])),
            Err(AppError::NotFound(Resource::Account))
        ));
    }

    #[test]
    fn every_account_webhook_route_is_documented_with_its_refusals() {
        let document = serde_json::to_value(crate::openapi()).unwrap_or_default();
        let paths = &document["paths"];
        let all = "/api/v1/accounts/{account_id}/webhooks";
        let one = "/api/v1/accounts/{account_id}/webhooks/{id}";
        for (path, method, statuses) in [
            (all, "get", &["200", "401", "403", "404"][..]),
            (all, "post", &["200", "400", "401", "403", "404", "422"]),
            (one, "patch", &["200", "400", "401", "403", "404", "422"]),
            (one, "delete", &["200", "401", "403", "404"]),
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
