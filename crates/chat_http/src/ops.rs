//! Operating the server: liveness, readiness, metrics, the OpenAPI document and its explorer.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusJson {
    /// `ok`, `ready` or `unavailable`.
    pub status: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "operations", responses((status = 200, body = StatusJson)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusJson { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = StatusJson),
        (status = 503, description = "The database does not answer", body = StatusJson),
    )
)]
#[get("/ready")]
pub async fn ready(state: Data<AppState>) -> HttpResponse {
    // The store bounds its own wait; this deadline also covers a round trip that hangs.
    let ping = actix_web::rt::time::timeout(READY_DEADLINE, state.app.health.ping()).await;
    let unavailable = || {
        HttpResponse::ServiceUnavailable().json(StatusJson {
            status: "unavailable",
        })
    };
    match ping {
        Ok(Ok(())) => HttpResponse::Ok().json(StatusJson { status: "ready" }),
        Ok(Err(error)) => {
            tracing::warn!(error = format!("{error:#}"), "not ready");
            unavailable()
        }
        Err(_elapsed) => {
            tracing::warn!(deadline = ?READY_DEADLINE, "not ready: the database did not answer in time");
            unavailable()
        }
    }
}

/// The longest `/ready` waits for the database: a probe with a one-second timeout always
/// gets an answer.
const READY_DEADLINE: std::time::Duration = std::time::Duration::from_millis(800);

/// Prometheus metrics: requests and latencies by route and status, pool state, live
/// sockets closed, webhook deliveries by result and the webhook backlog.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    let backlog = match state.delivery.backlog().await {
        Ok(backlog) => Some(backlog),
        Err(error) => {
            tracing::warn!(error = %error, "the webhook backlog could not be read");
            None
        }
    };
    state.metrics.set_webhooks(crate::observe::WebhookGauges {
        counts: state.delivery.counts(),
        backlog,
    });
    match state.metrics.render(state.app.health.pool_state()) {
        Ok(text) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
            .body(text),
        Err(error) => {
            tracing::error!(error = %error, "metrics could not be rendered");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The OpenAPI document, rendered once when the application is built.
#[derive(Debug)]
pub struct OpenApiJson(pub String);

/// The OpenAPI 3 document of every route, generated from the code.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub async fn openapi_json(doc: Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(doc.0.clone())
}

const DOCS_HTML: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Chat rooms API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.onload = () => { window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" }); };
  </script>
</body>
</html>
"##;

const SWAGGER_JS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");

/// An API explorer (Swagger UI, served from the binary) for `/openapi.json`.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "HTML page", content_type = "text/html", body = String))
)]
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(DOCS_HTML)
}

/// The explorer's script.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript", body = String))
)]
#[get("/docs/swagger-ui-bundle.js")]
pub async fn docs_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(SWAGGER_JS)
}

/// The explorer's style sheet.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "CSS", content_type = "text/css", body = String))
)]
#[get("/docs/swagger-ui.css")]
pub async fn docs_style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(SWAGGER_CSS)
}
