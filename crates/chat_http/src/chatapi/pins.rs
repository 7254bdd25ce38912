//! ChatAPI pins: pin and unpin a message (`/api/v1/messages/{message_id}/pin`), list a
//! room's pinned messages (`/api/v1/rooms/{room_id}/pins`).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post};
use chat_app::{MessageDetail, Window};

use super::json::{MessageJson, Pagination, client_id};
use super::messages::MessageList;
use super::path::{MessagePath, RoomPath};
use super::responses::{
    BadRequest, EditDenied, Invalid, RoomAccessDenied, Unauthenticated, Unavailable,
};
use super::{Authenticated, Envelope, Error, ErrorBody, Query};
use crate::AppState;
use crate::links::Links;

/// Pinned messages a page holds when `limit` is not given.
const DEFAULT_LIMIT: i64 = 50;

async fn set_pinned(
    state: &AppState,
    auth: &Authenticated,
    message_id: MessagePath,
    pinned: bool,
    links: &Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .conversations
        .pin(
            &auth.actor,
            None,
            message_id.ids()?,
            pinned,
            MessageDetail::Summary,
        )
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(MessageJson::new(
        view,
        client_id(&auth.actor),
        links,
    ))))
}

/// Pin a message (its sender, an administrator or the API key, as for editing). Pinning
/// a pinned message changes nothing.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    responses(
        (status = 200, description = "The message, with `pinned_at` and `pinned_by`", body = Envelope<MessageJson>),
        Unauthenticated,
        EditDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND (also for a deleted message)", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/messages/{message_id}/pin")]
pub async fn pin_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
    links: Links,
) -> Result<HttpResponse, Error> {
    set_pinned(&state, &auth, message_id, true, &links).await
}

/// Unpin a message (its sender, an administrator or the API key). Unpinning a message
/// that is not pinned changes nothing.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    responses(
        (status = 200, description = "The message, `pinned_at` and `pinned_by` null", body = Envelope<MessageJson>),
        Unauthenticated,
        EditDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[delete("/messages/{message_id}/pin")]
pub async fn unpin_message(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
    links: Links,
) -> Result<HttpResponse, Error> {
    set_pinned(&state, &auth, message_id, false, &links).await
}

/// A room's pinned messages, most recently pinned first.
#[utoipa::path(
    tag = "rooms",
    params(
        ("room_id" = Uuid, Path, description = "The room's UUID"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Messages to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "1–100, default 50; larger values are clamped"),
    ),
    responses(
        (status = 200, description = "A page of pinned messages, most recently pinned first", body = MessageList),
        BadRequest,
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}/pins")]
pub async fn list_pins(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let room = room_id.ids()?;
    let window = Pagination::window(&query, DEFAULT_LIMIT, Window::MAX_LIMIT)?;
    let page = state
        .app
        .conversations
        .pins(&auth.actor, room, window, MessageDetail::Summary)
        .await?;
    Ok(crate::json_body::json(
        HttpResponse::Ok(),
        &MessageList::new(page, window, client_id(&auth.actor), &links),
    ))
}
