//! The HTTP adapter: both dialects of the chat-rooms API over actix-web.
//!
//! - [`chatapi`]: `/api/v1/clients`, `/api/v1/rooms`, `/api/v1/messages` (`X-API-Key`,
//!   `{data, status}` envelopes, UUIDs, RFC 3339 times);
//! - [`account`]: `/api/v1/accounts/{account_id}/...` and the platform API
//!   (`api_access_token`, integer ids, unix times);
//! - [`ops`]: `/health`, `/ready`, `/metrics`, `/openapi.json`, `/docs`.
//!
//! Handlers are thin: extract, convert to domain values, call a use case of
//! [`chat_app::ChatApp`], render. Every route is registered through
//! `utoipa-actix-web`, so the OpenAPI document lists exactly the routes served.

pub mod account;
mod allow;
pub mod chatapi;
pub mod error;
pub mod extract;
mod fields;
pub mod files;
mod json_body;
pub mod limits;
pub mod links;
pub mod live;
pub mod observe;
pub mod ops;
#[cfg(test)]
mod renderings_tests;
pub mod signing;
mod state;
pub mod web_client;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::middleware::{NormalizePath, from_fn};
use actix_web::web::{self, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use chat_app::{ChatApp, EndUsers, WebhookDelivery, Webhooks};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::{AppExt, UtoipaApp, scope};

use crate::account::AccountApi;
use crate::chatapi::ChatApi;
use crate::error::{Dialect, Failure, RequestError};
pub use crate::observe::Metrics;
pub use crate::state::{
    AppState, DEFAULT_FILE_URL_TTL_SECS, DEFAULT_JSON_LIMIT, DEFAULT_UPLOAD_LIMIT,
};

/// How the HTTP server runs.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub json_limit: usize,
    /// Largest accepted body with files (multipart), in bytes.
    pub upload_limit: u64,
    /// The base of file URLs handed out; `None` for the host each request came to.
    pub public_url: Option<String>,
    /// How long handed-out file URLs work, in seconds.
    pub file_url_ttl_secs: i64,
    /// Signs the URLs of stored files; every node must use the same secret.
    pub signer: signing::UrlSigner,
    /// Live connections (WebSockets).
    pub live: Option<live::Live>,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// How long in-flight requests may finish after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    /// The rate limits (`limits`).
    pub rate: limits::RateConfig,
    /// Credentials' allowances shared by every node (Redis); `None`: each node's own.
    pub shared_buckets: Option<std::sync::Arc<dyn limits::SharedBuckets>>,
    /// Serve the web client's files from this folder, read on each request, instead of
    /// the copies embedded in the binary (for developing the client).
    pub app_dir: Option<std::path::PathBuf>,
}

impl HttpOptions {
    /// Defaults, with URLs signed by `signer`.
    pub fn new(signer: signing::UrlSigner) -> Self {
        Self {
            json_limit: DEFAULT_JSON_LIMIT,
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            public_url: None,
            file_url_ttl_secs: DEFAULT_FILE_URL_TTL_SECS,
            live: None,
            signer,
            workers: 0,
            shutdown_timeout: Duration::from_secs(10),
            rate: limits::RateConfig::default(),
            shared_buckets: None,
            app_dir: None,
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chat rooms API",
        description = "Rooms, members, messages, unread counts and live events, in two dialects: \
                       the ChatAPI dialect (`/api/v1/rooms`, `X-API-Key`) and the account dialect \
                       (`/api/v1/accounts/{account_id}/chat_rooms`, `api_access_token`). Every route \
                       accepts a credential as `X-API-Key`, `api_access_token` or `Authorization: Bearer`: \
                       an account's API key, a user's access token, an end user's scoped key (`sk_…`, \
                       from `POST /api/v1/users/login`) or a signed token (JWT, HS256, minted with the \
                       client's signing secret)."
    ),
    modifiers(&SecuritySchemes),
    // Query parameters' closed sets: routes name them, and only bodies are collected
    // into components by themselves.
    components(schemas(
        chatapi::params::RoomSortParam,
        chatapi::params::MessageSortParam,
        chatapi::params::MessageTypeParam,
    )),
    tags(
        (name = "platform", description = "Accounts and users, with the operator's platform token (account dialect)"),
        (name = "clients", description = "ChatAPI clients: an account seen through its UUID"),
        (name = "users", description = "ChatAPI users: the integration's end users, their scoped keys (login, logout) and the revocation of their signed tokens (API key)"),
        (name = "rooms", description = "ChatAPI rooms (`X-API-Key`, UUIDs, RFC 3339)"),
        (name = "messages", description = "ChatAPI messages"),
        (name = "chat_rooms", description = "Account-dialect chat rooms (`api_access_token`, integer ids, unix times)"),
        (name = "agents", description = "Account-dialect agents: the account's users, managed by its API key and administrators"),
        (name = "webhooks", description = "Webhooks: signed POSTs of what happens in the account, retried, with a delivery log (ChatAPI: API key; account dialect: administrators and the API key)"),
        (name = "live", description = "WebSockets: live events of a room (ChatAPI dialect) or of all a user's rooms (account dialect); the frames are described in docs/asyncapi.yaml"),
        (name = "web client", description = "The web client for people (`/app/`), served from the binary; it uses only this API and its WebSockets"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "api_access_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("api_access_token"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route, registered so that the OpenAPI document collects it.
fn routes<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(ops::health)
        .service(ops::ready)
        .service(ops::metrics)
        .service(ops::openapi_json)
        .service(ops::docs)
        .service(ops::docs_script)
        .service(ops::docs_style)
        .service(files::serve_file)
        .service(web_client::app_page)
        .service(web_client::app_file)
        .service(live::room_socket)
        .service(
            scope("/platform/api/v1")
                .service(account::platform::create_account)
                .service(account::platform::update_account)
                .service(account::platform::create_user),
        )
        // Before `/api/v1`: actix routes to the first scope whose prefix matches.
        .service(
            scope("/api/v1/accounts/{account_id}")
                .service(account::rooms::list_chat_rooms)
                .service(account::rooms::create_chat_room)
                // Before `/chat_rooms/{id}`, which `search` would match.
                .service(account::search::search_chat_messages)
                .service(account::rooms::get_chat_room)
                .service(account::rooms::update_chat_room)
                .service(account::rooms::patch_chat_room)
                .service(account::rooms::delete_chat_room)
                .service(account::rooms::delete_chat_room_avatar)
                .service(account::members::list_members)
                .service(account::members::add_members)
                .service(account::members::replace_members)
                .service(account::members::remove_members)
                .service(account::messages::list_chat_messages)
                .service(account::messages::send_chat_message)
                .service(account::messages::mark_as_read)
                .service(account::reactions::add_chat_reaction)
                .service(account::reactions::remove_chat_reaction)
                .service(account::reactions::pin_chat_message)
                .service(account::reactions::unpin_chat_message)
                .service(live::user_stream)
                .service(account::agents::list_agents)
                .service(account::agents::create_agent)
                .service(account::agents::update_agent)
                .service(account::agents::delete_agent)
                .service(account::agents::reset_access_token)
                .service(account::webhooks::list_account_webhooks)
                .service(account::webhooks::create_account_webhook)
                .service(account::webhooks::update_account_webhook)
                .service(account::webhooks::delete_account_webhook),
        )
        .service(
            scope("/api/v1")
                .service(chatapi::rooms::create_room)
                .service(chatapi::rooms::list_rooms)
                .service(chatapi::rooms::get_room)
                .service(chatapi::rooms::update_room)
                .service(chatapi::rooms::delete_room)
                .service(chatapi::rooms::deactivate_room)
                .service(chatapi::rooms::activate_room)
                .service(chatapi::participants::join_room)
                .service(chatapi::participants::leave_room)
                .service(chatapi::participants::list_participants)
                .service(chatapi::participants::online_users)
                .service(chatapi::messages::send_message)
                .service(chatapi::messages::list_messages)
                // Before `/messages/{message_id}`, which `search` would match.
                .service(chatapi::search::search_messages)
                .service(chatapi::messages::get_message)
                .service(chatapi::messages::edit_message)
                .service(chatapi::messages::delete_message)
                .service(chatapi::messages::restore_message)
                .service(chatapi::threads::message_thread)
                .service(chatapi::threads::thread_summary)
                .service(chatapi::reactions::add_reaction)
                .service(chatapi::reactions::remove_reaction)
                .service(chatapi::pins::pin_message)
                .service(chatapi::pins::unpin_message)
                .service(chatapi::pins::list_pins)
                .service(chatapi::read::mark_room_read)
                .service(chatapi::read::room_receipts)
                .service(chatapi::clients::create_client)
                .service(chatapi::clients::current_client)
                .service(chatapi::clients::update_client)
                .service(chatapi::clients::deactivate_client)
                .service(chatapi::clients::regenerate_key)
                .service(chatapi::clients::signing_secret)
                .service(chatapi::me::me)
                .service(chatapi::users::create_user)
                .service(chatapi::users::list_users)
                .service(chatapi::users::login)
                .service(chatapi::users::logout)
                .service(chatapi::users::get_user)
                .service(chatapi::users::update_user)
                .service(chatapi::users::revoke_tokens)
                .service(chatapi::webhooks::create_webhook)
                .service(chatapi::webhooks::list_webhooks)
                .service(chatapi::webhooks::get_webhook)
                .service(chatapi::webhooks::update_webhook)
                .service(chatapi::webhooks::delete_webhook)
                .service(chatapi::webhooks::activate_webhook)
                .service(chatapi::webhooks::deactivate_webhook)
                .service(chatapi::webhooks::test_webhook)
                .service(chatapi::webhooks::list_deliveries),
        )
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = routes(App::new().into_utoipa_app()).split_for_parts().1;
    limits::document_rate_limits(&mut api);
    api
}

/// The application: routes, state, the OpenAPI document and middleware.
pub fn build_app(
    state: Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, mut api) = routes(App::new().into_utoipa_app()).split_for_parts();
    limits::document_rate_limits(&mut api);
    let methods = Data::new(allow::MethodTable::of(&api));
    let document = api.to_json().unwrap_or_else(|error| {
        tracing::error!(error = %error, "the OpenAPI document could not be rendered");
        "{}".to_owned()
    });
    app.app_data(state)
        .app_data(methods)
        .app_data(Data::new(ops::OpenApiJson(document)))
        .default_service(web::to(no_route))
        // Outermost last: paths are normalised before they are observed, limited and
        // routed.
        .wrap(from_fn(limits::limit))
        .wrap(from_fn(observe::observe))
        .wrap(NormalizePath::trim())
}

/// True for paths of the account dialect (and the platform API, which speaks it).
pub(crate) fn is_account_dialect(path: &str) -> bool {
    path.starts_with("/api/v1/accounts") || path.starts_with("/platform/")
}

/// An unknown path is 404; a known path asked with a method it does not have is 405 with
/// `Allow` listing the methods it has; both in the error shape of the path's dialect.
async fn no_route(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .app_data::<Data<allow::MethodTable>>()
        .and_then(|table| table.allowed(req.path()));
    let failure = Failure::Request(match allowed {
        Some(_) => RequestError::MethodNotAllowed,
        None => RequestError::RouteNotFound,
    });
    let mut response = if is_account_dialect(req.path()) {
        AccountApi::render(&failure)
    } else {
        ChatApi::render(&failure)
    };
    if let Some(methods) = allowed {
        let list = methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(value) = HeaderValue::from_str(&list) {
            response.headers_mut().insert(ALLOW, value);
        }
    }
    response
}

/// Starts serving `app` on `listener`, with the end-user and webhook use cases beside it
/// (and the webhook deliveries whose counts `/metrics` shows). SIGINT and SIGTERM stop
/// accepting connections and let in-flight requests finish for `options.shutdown_timeout`.
/// With live events, every accepted connection is dropped by the kernel once its peer
/// takes no byte for the live send timeout plus the close's wait (`live::tcp`).
pub fn serve(
    listener: TcpListener,
    app: ChatApp,
    end_users: EndUsers,
    webhooks: (Webhooks, WebhookDelivery),
    options: HttpOptions,
) -> anyhow::Result<Server> {
    let (webhooks, delivery) = webhooks;
    let state = Data::new(AppState {
        app,
        end_users,
        webhooks,
        delivery,
        signer: options.signer.clone(),
        json_limit: options.json_limit,
        upload_limit: options.upload_limit,
        public_url: options.public_url.clone(),
        file_url_ttl_secs: options.file_url_ttl_secs,
        // One for all sockets: each holds a handle, not a copy (560 bytes a socket).
        live: options.live.clone().map(std::sync::Arc::new),
        metrics: Metrics::new()?,
        limits: std::sync::Arc::new(match options.shared_buckets.clone() {
            Some(shared) => limits::RateLimits::new(options.rate.clone()).with_shared(shared),
            None => limits::RateLimits::new(options.rate.clone()),
        }),
        app_dir: options.app_dir.clone(),
    });
    limits::sweep_every(std::sync::Arc::downgrade(&state.limits));
    // A peer that takes no byte for this long is dropped by the kernel (`live::tcp`).
    let stall = options
        .live
        .as_ref()
        .map(|live| live::tcp::stall_timeout(&live.settings));
    let mut server = HttpServer::new(move || build_app(state.clone()))
        .on_connect(move |io, _| {
            if let Some(stall) = stall {
                live::tcp::drop_when_stalled(io, stall);
            }
        })
        .shutdown_timeout(options.shutdown_timeout.as_secs())
        .listen(listener)?;
    if options.workers > 0 {
        server = server.workers(options.workers);
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    use super::*;

    /// `search` is a word where a message or room id could stand: the literal route wins,
    /// in the router (registered first) and in the methods `405` lists.
    #[test]
    fn search_routes_are_not_taken_for_ids() {
        let table = allow::MethodTable::of(&openapi());
        let allowed = |path| table.allowed(path).map(<[Method]>::to_vec);
        assert_eq!(allowed("/api/v1/messages/search"), Some(vec![Method::GET]));
        assert_eq!(
            allowed("/api/v1/messages/0b0e2e9c-4a4e-4d3e-9a51-7f2d8e1f6a10"),
            Some(vec![Method::GET, Method::PUT, Method::DELETE])
        );
        assert_eq!(
            allowed("/api/v1/accounts/1/chat_rooms/search"),
            Some(vec![Method::GET])
        );
        assert_eq!(
            allowed("/api/v1/messages/x/reactions/%F0%9F%91%8D"),
            Some(vec![Method::DELETE])
        );
        assert_eq!(
            allowed("/api/v1/accounts/1/chat_rooms/2/messages/3/pin"),
            Some(vec![Method::POST, Method::DELETE])
        );
    }
}
