//! ChatAPI threads: the replies to a message (`/api/v1/messages/{message_id}/thread`)
//! and their summary.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chat_app::{MessageDetail, ThreadSummary, Window};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::json::{Pagination, client_id};
use super::messages::MessageList;
use super::path::MessagePath;
use super::responses::{BadRequest, Invalid, RoomAccessDenied, Unauthenticated, Unavailable};
use super::{Authenticated, Envelope, Error, ErrorBody, Query, rfc3339};
use crate::AppState;
use crate::links::Links;

/// Replies a page holds when `limit` is not given.
const DEFAULT_LIMIT: i64 = 50;

/// A message's thread, summed up.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadSummaryJson {
    /// The message the thread answers.
    pub message_id: Uuid,
    /// How many replies it has (deleted ones not counted).
    pub reply_count: i64,
    /// When the newest reply was sent; `null` without replies.
    #[serde(serialize_with = "rfc3339::serialize_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_reply_at: Option<OffsetDateTime>,
    /// Who replied (`user_id`s, `system` for system messages), each once, in the order
    /// of their first reply.
    pub participants: Vec<String>,
}

impl From<ThreadSummary> for ThreadSummaryJson {
    fn from(summary: ThreadSummary) -> Self {
        Self {
            message_id: summary.message.uuid,
            reply_count: summary.reply_count,
            last_reply_at: summary.last_reply_at,
            participants: summary.participants.into_iter().map(|p| p.label).collect(),
        }
    }
}

/// The replies to a message (those whose `reply_to` is it), oldest first; deleted
/// replies are left out.
#[utoipa::path(
    tag = "messages",
    params(
        ("message_id" = Uuid, Path, description = "The UUID of the message replied to"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Replies to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "1–100, default 50; larger values are clamped"),
    ),
    responses(
        (status = 200, description = "A page of replies, oldest first", body = MessageList),
        BadRequest,
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/messages/{message_id}/thread")]
pub async fn message_thread(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let message = message_id.ids()?;
    let window = Pagination::window(&query, DEFAULT_LIMIT, Window::MAX_LIMIT)?;
    let page = state
        .app
        .conversations
        .thread(&auth.actor, message, window, MessageDetail::Summary)
        .await?;
    Ok(crate::json_body::json(
        HttpResponse::Ok(),
        &MessageList::new(page, window, client_id(&auth.actor), &links),
    ))
}

/// A message's thread, summed up: how many replies, the newest one's time, who replied.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The UUID of the message replied to")),
    responses(
        (status = 200, description = "The summary", body = Envelope<ThreadSummaryJson>),
        Unauthenticated,
        RoomAccessDenied,
        (status = 404, description = "MESSAGE_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/messages/{message_id}/thread/summary")]
pub async fn thread_summary(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: MessagePath,
) -> Result<HttpResponse, Error> {
    let summary = state
        .app
        .conversations
        .thread_summary(&auth.actor, message_id.ids()?)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(ThreadSummaryJson::from(summary))))
}
