//! ChatAPI webhooks (`/api/v1/webhooks`): an integration's webhooks, a test delivery,
//! and the delivery log. API key only.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use chat_app::{Attempt, NewWebhook, RawWebhook, WebhookPatch, WebhookRef};
use chat_domain::Webhook;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::json::{Pagination, client_id};
use super::path::WebhookPath;
use super::responses::{BadRequest, Invalid, NotApiKey, TooLarge, Unavailable};
use super::{ApiKeyCaller, Envelope, Error, ErrorBody, Json, MessageOnly, Query, rfc3339};
use crate::AppState;

/// The events a webhook may subscribe to (`webhook.test` is sent by `/test` only).
#[derive(Debug, Serialize, ToSchema)]
pub enum WebhookEventName {
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "message.updated")]
    MessageUpdated,
    #[serde(rename = "message.deleted")]
    MessageDeleted,
    #[serde(rename = "message.restored")]
    MessageRestored,
    #[serde(rename = "room.created")]
    RoomCreated,
    #[serde(rename = "room.updated")]
    RoomUpdated,
    #[serde(rename = "room.deleted")]
    RoomDeleted,
    #[serde(rename = "room.activated")]
    RoomActivated,
    #[serde(rename = "room.deactivated")]
    RoomDeactivated,
    #[serde(rename = "room.joined")]
    RoomJoined,
    #[serde(rename = "room.left")]
    RoomLeft,
    /// Accepted; recorded once reactions exist.
    #[serde(rename = "reaction.added")]
    ReactionAdded,
    /// Accepted; recorded once reactions exist.
    #[serde(rename = "reaction.removed")]
    ReactionRemoved,
    #[serde(rename = "message.read")]
    MessageRead,
    /// A member with no open socket got a message (at most one per member and room per
    /// `CHAT_OFFLINE_NOTICE_SECS`).
    #[serde(rename = "message.unread_offline")]
    MessageUnreadOffline,
}

/// `{url, events, secret?, custom_headers?, room_filters?, meta?, is_active?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// `http` or `https`, up to 2048 characters; must lead to a public address.
    #[schema(required = true, value_type = String, max_length = 2048, example = "https://example.com/hooks/chat")]
    pub url: Option<String>,
    /// At least one event.
    #[schema(required = true, value_type = Vec<WebhookEventName>, min_items = 1, example = json!(["message.created"]))]
    pub events: Option<Vec<String>>,
    /// 16–256 visible ASCII characters; generated (`whsec_` + 64 hex) when absent.
    #[schema(min_length = 16, max_length = 256)]
    pub secret: Option<String>,
    /// Up to 20 extra headers sent with every delivery (not `Content-Type`,
    /// `Content-Length`, `Host`, `User-Agent` nor `X-ChatAPI-*`).
    #[schema(value_type = Option<Object>, example = json!({"X-Team": "support"}))]
    pub custom_headers: Option<Map<String, Value>>,
    /// Room UUIDs: only events of these rooms are delivered; empty or absent: every room.
    #[schema(value_type = Option<Vec<Uuid>>)]
    pub room_filters: Option<Vec<String>>,
    /// Any JSON object up to 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
    /// Default `true`.
    pub is_active: Option<bool>,
}

/// Any of `{url, events, secret, custom_headers, room_filters, meta}`; the fields given
/// replace, the others are kept (`null` is refused, 400). `is_active` changes through
/// activate and deactivate.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateWebhookRequest {
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String, max_length = 2048)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Vec<WebhookEventName>, min_items = 1)]
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = String, min_length = 16, max_length = 256)]
    pub secret: Option<String>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Object)]
    pub custom_headers: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Vec<Uuid>)]
    pub room_filters: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::fields::not_null")]
    #[schema(value_type = Object)]
    pub meta: Option<Map<String, Value>>,
}

/// A webhook in the ChatAPI dialect.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookJson {
    pub id: Uuid,
    pub client_id: Uuid,
    pub url: String,
    #[schema(value_type = Vec<WebhookEventName>)]
    pub events: Vec<&'static str>,
    /// The key deliveries are signed with (`X-ChatAPI-Signature`).
    #[schema(example = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    pub secret: String,
    /// `false` after 5 failed deliveries in a row, or once deactivated.
    pub is_active: bool,
    #[schema(value_type = Object)]
    pub custom_headers: Map<String, Value>,
    pub room_filters: Vec<Uuid>,
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
    #[serde(serialize_with = "rfc3339::serialize_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_delivery_at: Option<OffsetDateTime>,
    /// Failed deliveries in a row (reset by a success or by activate).
    pub failure_count: i32,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub updated_at: OffsetDateTime,
}

impl WebhookJson {
    fn new(webhook: Webhook, client_id: Uuid) -> Self {
        Self {
            id: webhook.uuid,
            client_id,
            url: webhook.url.as_str().to_owned(),
            events: webhook.events.names(),
            secret: webhook.secret.expose().to_owned(),
            is_active: webhook.is_active,
            custom_headers: webhook.custom_headers.to_map(),
            room_filters: webhook.room_filters,
            meta: webhook.meta.into_map(),
            last_delivery_at: webhook.last_delivery_at,
            failure_count: webhook.failure_count,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

/// One attempt of a delivery, in the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryJson {
    /// The delivery's id (`X-ChatAPI-Delivery`), the same on every attempt of it.
    pub id: Uuid,
    #[schema(example = "message.created")]
    pub event: String,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: i32,
    /// The HTTP status the receiver answered; `null` when none came.
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// Why the attempt failed (a status, a timeout, a refused address, …).
    pub error: Option<String>,
    #[serde(serialize_with = "rfc3339::serialize")]
    #[schema(value_type = String, format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub delivered_at: OffsetDateTime,
}

impl From<Attempt> for DeliveryJson {
    fn from(attempt: Attempt) -> Self {
        Self {
            id: attempt.delivery_uuid,
            event: attempt.event,
            attempt: attempt.attempt,
            status_code: attempt.status_code,
            duration_ms: attempt.duration_ms,
            error: attempt.error,
            delivered_at: attempt.delivered_at,
        }
    }
}

/// What `/test` answers: the attempt, and whether the receiver answered 2xx.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestDeliveryJson {
    /// Whether the receiver answered 2xx within 10 s.
    pub success: bool,
    pub delivery: DeliveryJson,
}

/// A list of webhooks with its pagination.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

/// A page of the delivery log with its pagination.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryJson>,
    pub pagination: Pagination,
    /// Always `success`.
    pub status: &'static str,
}

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

/// 404 `WEBHOOK_NOT_FOUND`: also for malformed ids and other clients' webhooks.
#[derive(Debug, utoipa::IntoResponses)]
#[response(
    status = 404,
    description = "WEBHOOK_NOT_FOUND: also for malformed ids and other clients' webhooks"
)]
pub struct WebhookNotFound(pub ErrorBody);

/// 422 `VALIDATION_ERROR`: `details` names each bad field (a URL that leads to a
/// non-public address included, unless the server allows private addresses).
#[derive(Debug, utoipa::IntoResponses)]
#[response(
    status = 422,
    description = "VALIDATION_ERROR: details names each bad field; `url` also when it leads to a loopback, private or link-local address"
)]
pub struct InvalidWebhook(pub ErrorBody);

/// Create a webhook. The secret is generated when none is given and shown in the answer
/// (and on get). API key only.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "The webhook", body = Envelope<WebhookJson>),
        BadRequest,
        NotApiKey,
        InvalidWebhook,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    body: Json<CreateWebhookRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.read().await?;
    let new = NewWebhook::parse(
        RawWebhook {
            url: body.url,
            events: body.events,
            secret: body.secret,
            custom_headers: body.custom_headers,
            room_filters: body.room_filters,
            meta: body.meta,
            is_active: body.is_active,
        },
        "events",
    )?;
    let webhook = state.webhooks.create(&auth.actor, new).await?;
    let json = WebhookJson::new(webhook, client_id(&auth.actor));
    Ok(HttpResponse::Created().json(Envelope::ok(json)))
}

/// The client's webhooks, oldest first. API key only.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("skip" = Option<i64>, Query, minimum = 0, description = "Webhooks to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "Webhooks to return: 1–100, default 50; larger values are clamped to 100"),
    ),
    responses(
        (status = 200, description = "A page of webhooks", body = WebhookList),
        BadRequest,
        NotApiKey,
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    query: Query,
) -> Result<HttpResponse, Error> {
    let window = Pagination::window(&query, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = state.webhooks.list(&auth.actor, window).await?;
    let client = client_id(&auth.actor);
    Ok(HttpResponse::Ok().json(WebhookList {
        pagination: Pagination::of(window, page.items.len(), page.total),
        data: page
            .items
            .into_iter()
            .map(|webhook| WebhookJson::new(webhook, client))
            .collect(),
        status: "success",
    }))
}

/// One webhook, with its secret. API key only.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = Envelope<WebhookJson>),
        NotApiKey,
        WebhookNotFound,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[get("/webhooks/{webhook_id}")]
pub async fn get_webhook(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    path: WebhookPath,
) -> Result<HttpResponse, Error> {
    let webhook = state.webhooks.get(&auth.actor, path.ids()?).await?;
    let json = WebhookJson::new(webhook, client_id(&auth.actor));
    Ok(HttpResponse::Ok().json(Envelope::ok(json)))
}

/// Change a webhook: the fields given replace, the others are kept. API key only.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The webhook's id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The webhook", body = Envelope<WebhookJson>),
        BadRequest,
        NotApiKey,
        WebhookNotFound,
        InvalidWebhook,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[put("/webhooks/{webhook_id}")]
pub async fn update_webhook(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    path: WebhookPath,
    body: Json<UpdateWebhookRequest>,
) -> Result<HttpResponse, Error> {
    let id = path.ids()?;
    let body = body.read().await?;
    let patch = WebhookPatch::parse(
        RawWebhook {
            url: body.url,
            events: body.events,
            secret: body.secret,
            custom_headers: body.custom_headers,
            room_filters: body.room_filters,
            meta: body.meta,
            is_active: None,
        },
        "events",
    )?;
    let webhook = state.webhooks.update(&auth.actor, id, patch).await?;
    let json = WebhookJson::new(webhook, client_id(&auth.actor));
    Ok(HttpResponse::Ok().json(Envelope::ok(json)))
}

/// Delete a webhook, its pending deliveries and its delivery log. API key only.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "Deleted", body = MessageOnly),
        NotApiKey,
        WebhookNotFound,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    path: WebhookPath,
) -> Result<HttpResponse, Error> {
    state.webhooks.delete(&auth.actor, path.ids()?).await?;
    Ok(HttpResponse::Ok().json(MessageOnly {
        message: "Webhook deleted successfully",
        status: "success",
    }))
}

/// Switch a webhook on; its failure count starts again from 0. API key only.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook, active", body = Envelope<WebhookJson>),
        NotApiKey,
        WebhookNotFound,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/webhooks/{webhook_id}/activate")]
pub async fn activate_webhook(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    path: WebhookPath,
) -> Result<HttpResponse, Error> {
    let webhook = state.webhooks.activate(&auth.actor, path.ids()?).await?;
    let json = WebhookJson::new(webhook, client_id(&auth.actor));
    Ok(HttpResponse::Ok().json(Envelope {
        data: json,
        message: Some("Webhook activated successfully"),
        status: "success",
    }))
}

/// Switch a webhook off: nothing more is recorded for it. API key only.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook, inactive", body = Envelope<WebhookJson>),
        NotApiKey,
        WebhookNotFound,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/webhooks/{webhook_id}/deactivate")]
pub async fn deactivate_webhook(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    path: WebhookPath,
) -> Result<HttpResponse, Error> {
    let webhook = state.webhooks.deactivate(&auth.actor, path.ids()?).await?;
    let json = WebhookJson::new(webhook, client_id(&auth.actor));
    Ok(HttpResponse::Ok().json(Envelope {
        data: json,
        message: Some("Webhook deactivated successfully"),
        status: "success",
    }))
}

/// Send a `webhook.test` event to this webhook now (even an inactive one) and answer
/// the attempt. A failed test is retried like any delivery. API key only.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The attempt, whatever the receiver answered", body = Envelope<TestDeliveryJson>),
        NotApiKey,
        WebhookNotFound,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[post("/webhooks/{webhook_id}/test")]
pub async fn test_webhook(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    path: WebhookPath,
) -> Result<HttpResponse, Error> {
    let attempt = state.webhooks.test(&auth.actor, path.ids()?).await?;
    let success = attempt.error.is_none()
        && attempt
            .status_code
            .is_some_and(|status| (200..300).contains(&status));
    Ok(HttpResponse::Ok().json(Envelope::ok(TestDeliveryJson {
        success,
        delivery: DeliveryJson::from(attempt),
    })))
}

/// The webhook's delivery log, newest first (kept `CHAT_WEBHOOK_LOG_DAYS`, default 7).
/// API key only.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("webhook_id" = Uuid, Path, description = "The webhook's id"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Attempts to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "Attempts to return: 1–100, default 50; larger values are clamped to 100"),
    ),
    responses(
        (status = 200, description = "A page of the delivery log", body = DeliveryList),
        BadRequest,
        NotApiKey,
        WebhookNotFound,
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("bearer" = []), ("api_access_token" = []))
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn list_deliveries(
    state: Data<AppState>,
    auth: ApiKeyCaller,
    path: WebhookPath,
    query: Query,
) -> Result<HttpResponse, Error> {
    let id: WebhookRef = path.ids()?;
    let window = Pagination::window(&query, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = state.webhooks.attempts(&auth.actor, id, window).await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        pagination: Pagination::of(window, page.items.len(), page.total),
        data: page.items.into_iter().map(DeliveryJson::from).collect(),
        status: "success",
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(crate::openapi()).unwrap_or_default()
    }

    #[test]
    fn the_documented_events_are_the_domains_subscribable_ones() {
        let document = document();
        let names = &document["components"]["schemas"]["WebhookEventName"]["enum"];
        assert_eq!(
            *names,
            serde_json::json!(chat_domain::WebhookEvent::NAMES),
            "{document}"
        );
    }

    #[test]
    fn every_webhook_route_is_documented_with_its_refusals() {
        let document = document();
        let paths = &document["paths"];
        let one = "/api/v1/webhooks/{webhook_id}";
        for (path, method, statuses) in [
            (
                "/api/v1/webhooks".to_owned(),
                "post",
                &["201", "400", "401", "413", "422", "429", "503"][..],
            ),
            (
                "/api/v1/webhooks".to_owned(),
                "get",
                &["200", "400", "401", "422"],
            ),
            (one.to_owned(), "get", &["200", "401", "404"]),
            (one.to_owned(), "put", &["200", "400", "401", "404", "422"]),
            (one.to_owned(), "delete", &["200", "401", "404"]),
            (format!("{one}/activate"), "post", &["200", "401", "404"]),
            (format!("{one}/deactivate"), "post", &["200", "401", "404"]),
            (format!("{one}/test"), "post", &["200", "401", "404"]),
            (
                format!("{one}/deliveries"),
                "get",
                &["200", "400", "401", "404", "422"],
            ),
        ] {
            let responses = &paths[path.as_str()][method]["responses"];
            for status in statuses {
                assert!(
                    responses[*status].is_object(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
}
