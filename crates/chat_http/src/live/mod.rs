//! Live connections over WebSocket (actix-ws): a room's socket in the ChatAPI dialect
//! (`GET /ws/{room_id}`) and a user's stream of all their rooms in the account dialect
//! (`GET /api/v1/accounts/{account_id}/ws`). The protocol is described in
//! `docs/asyncapi.yaml`; what a session means is `chat_app::LiveSessions`.
//!
//! The credential and access are checked before the connection loop starts; a refused
//! connection is upgraded only to be closed with its code (4001 unauthorized, 4002 room
//! not found, 4003 access denied, 4004 rate limited: its person already has
//! [`LiveSettings::sockets_per_user`] sockets open on this node; listeners without a
//! person are not counted). An admitted connection's place among its person's sockets
//! is held by its task and given back however the task ends. An admitted connection
//! follows its credential (`chat_app::LiveSessions::follow`): revoked, rotated or
//! expired, or its user or account deactivated, it is closed with 4001 and a reason
//! saying which. Each connection is one
//! task that selects over the client's frames, the hub's deliveries and a heartbeat
//! ([`session`]); every way out of it unsubscribes and closes its presence session.
//!
//! Frames are rendered by one [`LiveDialect`] per dialect ([`chatapi`], [`account`]):
//! the envelope and error frames are in [`frames`], events in [`events`].
//!
//! A client that stops reading is closed with 1013 by its loop; its TCP connection is
//! dropped by the kernel once no byte has gone out for the send timeout plus the close's
//! wait ([`tcp`]).

pub mod account;
pub mod chatapi;
pub mod close;
#[cfg(test)]
mod conversation_frames;
mod dialect;
pub mod events;
pub mod frames;
pub mod session;
mod settings;
pub mod tcp;

use std::sync::Arc;

use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, get};
use chat_app::live::SocketPlace;
use chat_app::{LiveSession, Refusal, SessionKind};
use serde::Deserialize;

use self::account::AccountLive;
use self::chatapi::ChatApiLive;
use self::close::{
    ACCESS_DENIED, Close, RATE_LIMITED, ROOM_NOT_FOUND, SERVER_ERROR, UNAUTHORIZED, close,
};
pub use self::dialect::LiveDialect;
pub use self::settings::{
    DEFAULT_FRAME_BURST, DEFAULT_FRAMES_PER_SECOND, DEFAULT_SOCKETS_PER_USER, Live, LiveSettings,
};
use crate::AppState;
use crate::links::Links;
use crate::observe::Metrics;

/// The close of a refused connection.
fn refusal(refused: &Refusal) -> Close {
    match refused {
        Refusal::Unauthorized => (UNAUTHORIZED, "unauthorized"),
        Refusal::RoomNotFound => (ROOM_NOT_FOUND, "room not found"),
        Refusal::InvalidSince => (ROOM_NOT_FOUND, "since_seq must be a non-negative integer"),
        Refusal::AccessDenied => (ACCESS_DENIED, "access denied"),
        Refusal::TooManySockets => (RATE_LIMITED, "rate limited"),
        Refusal::Failed(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "a live connection could not be admitted"
            );
            (SERVER_ERROR, "server error")
        }
    }
}

/// The query of a socket URL.
#[derive(Debug, Default, Deserialize)]
struct SocketQuery {
    token: Option<String>,
    user_id: Option<String>,
    since_seq: Option<String>,
}

fn socket_query(req: &HttpRequest) -> SocketQuery {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

/// An admitted connection, about to run.
struct Admitted {
    live: Arc<Live>,
    session: LiveSession,
    /// Its place among its person's open sockets, held by the connection's task until
    /// it ends (however it ends).
    place: SocketPlace,
    links: Links,
    metrics: Metrics,
}

/// Lets `session` in if its person has a socket place left on this node.
fn admitted(
    live: Arc<Live>,
    session: LiveSession,
    links: Links,
    metrics: Metrics,
) -> Result<Admitted, Close> {
    let place = live
        .sessions
        .take_place(&session, live.settings.sockets_per_user)
        .map_err(|refused| refusal(&refused))?;
    Ok(Admitted {
        live,
        session,
        place,
        links,
        metrics,
    })
}

/// Upgrades the request and runs the connection `admitted` lets in (or closes with its
/// refusal).
fn upgrade<F>(
    req: &HttpRequest,
    body: Payload,
    admitted: F,
) -> Result<HttpResponse, actix_web::Error>
where
    F: std::future::Future<Output = Result<Admitted, Close>> + 'static,
{
    let (response, ws, stream) = actix_ws::handle(req, body)?;
    actix_web::rt::spawn(async move {
        // Boxed, here and below: a connection's task lives as long as the socket, and
        // its state machine would otherwise hold room for the largest future it ever
        // awaits (a use case's) for all that time — per idle socket.
        let Admitted {
            live,
            session,
            place: _place,
            links,
            metrics,
        } = match Box::pin(admitted).await {
            Ok(admitted) => admitted,
            Err((code, reason)) => return close(ws, code, reason).await,
        };
        // The one place the kind of connection picks its dialect.
        match &session.kind {
            SessionKind::Room { room, .. } => {
                let client = session.actor.account().map(|a| a.uuid).unwrap_or_default();
                let dialect = ChatApiLive::new(room, session.user_key(), client, links);
                Box::pin(session::run(live, session, dialect, ws, stream, metrics)).await;
            }
            SessionKind::Stream { .. } => {
                let dialect = AccountLive::new(&session, links);
                Box::pin(session::run(live, session, dialect, ws, stream, metrics)).await;
            }
        }
    });
    Ok(response)
}

fn live_of(state: &AppState) -> Result<Arc<Live>, Close> {
    state
        .live
        .clone()
        .ok_or((SERVER_ERROR, "live events are not enabled"))
}

/// A room's live events in the ChatAPI dialect. `token` is any credential; with the
/// API key, `user_id` names the participant the socket speaks for (without it, the
/// socket only listens). `since_seq` replays the messages after it first.
#[utoipa::path(
    tag = "live",
    params(
        ("room_id" = String, Path, description = "The room's UUID"),
        ("token" = String, Query, description = "API key, user access token, scoped key (sk_…) or signed token (JWT)"),
        ("user_id" = Option<String>, Query, description = "With the API key: the participant the socket speaks for. Ignored for a user access token; with a scoped key or signed token it may only name the credential's own user (another one is closed with 4003)"),
        ("user_name" = Option<String>, Query, description = "Accepted for compatibility; names come from the user"),
        ("since_seq" = Option<i64>, Query, description = "Replay the room's messages after this seq before live events"),
    ),
    responses(
        (status = 101, description = "WebSocket; frames as in docs/asyncapi.yaml. Refusals are closes: 4001 unauthorized, 4002 room not found, 4003 access denied, 4004 too many open sockets of the user on this node; later 4001 when the credential is revoked, rotated or expires or its user or account is deactivated, 4004 rate limited, 1013 too slow"),
        (status = 400, description = "Not a WebSocket upgrade request"),
    )
)]
#[get("/ws/{room_id}")]
pub async fn room_socket(
    req: HttpRequest,
    body: Payload,
    state: Data<AppState>,
    path: Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    let query = socket_query(&req);
    let links = Links::for_request(&req, &state);
    let room = path.into_inner();
    upgrade(&req, body, async move {
        let live = live_of(&state)?;
        let session = live
            .sessions
            .admit_room(
                query.token.as_deref(),
                &room,
                query.user_id.as_deref(),
                query.since_seq.as_deref(),
            )
            .await
            .map_err(|refused| refusal(&refused))?;
        admitted(live, session, links, state.metrics.clone())
    })
}

/// A user's live events in every room they belong to, in the account dialect. `token`
/// is the user's access token.
#[utoipa::path(
    tag = "live",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("token" = String, Query, description = "The user's access token, scoped key (sk_…) or signed token (JWT)"),
    ),
    responses(
        (status = 101, description = "WebSocket; frames as in docs/asyncapi.yaml. Refusals are closes: 4001 unauthorized, 4003 access denied, 4004 too many open sockets of the user on this node; later 4001 when the credential is revoked, rotated or expires or its user or account is deactivated, 4004 rate limited, 1013 too slow"),
        (status = 400, description = "Not a WebSocket upgrade request"),
    )
)]
#[get("/ws")]
pub async fn user_stream(
    req: HttpRequest,
    body: Payload,
    state: Data<AppState>,
    path: Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    let query = socket_query(&req);
    let links = Links::for_request(&req, &state);
    let account = path.into_inner();
    upgrade(&req, body, async move {
        let live = live_of(&state)?;
        let session = live
            .sessions
            .admit_stream(query.token.as_deref(), &account)
            .await
            .map_err(|refused| refusal(&refused))?;
        admitted(live, session, links, state.metrics.clone())
    })
}
