//! Account-dialect reactions and pins of a chat room's message
//! (`…/chat_rooms/{chat_room_id}/messages/{id}/reactions`, `…/pin`).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, post};
use chat_app::{AppError, MessageDetail};
use chat_domain::Emoji;
use serde::Deserialize;
use utoipa::ToSchema;

use super::caller::{ChatRoomsCaller, ChatUser};
use super::json::ChatMessageJson;
use super::path::ChatMessagePath;
use super::responses::{
    BadRequest, Invalid, NotFound, NotMember, TooLarge, Unauthenticated, Unavailable,
};
use super::{Error, ErrorBody, Json, Query};
use crate::AppState;
use crate::links::Links;

/// `{"emoji": "👍"}`, or wrapped as `{"reaction": {"emoji": "👍"}}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ChatReactionRequest {
    /// One emoji (a single grapheme cluster: `👍`, `👩🏽‍💻`, `🇫🇷`) or a short code
    /// `:name:` of 1–32 characters `a-z 0-9 _ + -` (`:thumbsup:`), kept as given.
    #[schema(example = "👍")]
    pub emoji: Option<String>,
    /// The same, wrapped.
    pub reaction: Option<ChatReactionFields>,
}

/// `{"emoji": "👍"}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatReactionFields {
    #[schema(example = "👍")]
    pub emoji: Option<String>,
}

impl ChatReactionRequest {
    /// The emoji, bare or wrapped (422 on `emoji` when neither is one).
    fn emoji(self) -> Result<Emoji, AppError> {
        let raw = self.emoji.or(self.reaction.and_then(|r| r.emoji));
        Ok(Emoji::parse(raw.as_deref().unwrap_or_default())?)
    }
}

async fn react(
    state: &AppState,
    caller: &ChatUser,
    path: ChatMessagePath,
    emoji: Emoji,
    add: bool,
    links: &Links,
) -> Result<HttpResponse, Error> {
    let ids = path.ids()?;
    let view = state
        .app
        .conversations
        .react(
            &caller.actor,
            Some(ids.room),
            ids.message,
            emoji,
            None,
            add,
            MessageDetail::Rich,
        )
        .await?;
    Ok(HttpResponse::Ok().json(ChatMessageJson::new(view, &caller.actor, links)))
}

/// React to a message of the chat room, as the calling user (a member). A repeat changes
/// nothing; a message carries at most 20 distinct emoji (422 on `emoji` beyond).
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
        ("id" = i64, Path, description = "Message id"),
    ),
    request_body = ChatReactionRequest,
    responses(
        (status = 200, description = "The message, with its reactions", body = ChatMessageJson),
        BadRequest,
        Unauthenticated,
        NotMember,
        NotFound,
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms/{chat_room_id}/messages/{id}/reactions")]
pub async fn add_chat_reaction(
    state: Data<AppState>,
    caller: ChatUser,
    path: ChatMessagePath,
    body: Json<ChatReactionRequest>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let emoji = body.read().await?.emoji()?;
    react(&state, &caller, path, emoji, true, &links).await
}

/// Take the calling user's reaction back: the emoji in the body (as for adding), or in
/// `?emoji=`. Removing a reaction that is not there changes nothing.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
        ("id" = i64, Path, description = "Message id"),
        ("emoji" = Option<String>, Query, description = "The emoji, when the request has no body"),
    ),
    request_body(content = Option<ChatReactionRequest>, description = "The emoji; or none, with `?emoji=`"),
    responses(
        (status = 200, description = "The message, with its reactions", body = ChatMessageJson),
        BadRequest,
        Unauthenticated,
        NotMember,
        NotFound,
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/chat_rooms/{chat_room_id}/messages/{id}/reactions")]
pub async fn remove_chat_reaction(
    state: Data<AppState>,
    caller: ChatUser,
    path: ChatMessagePath,
    body: Json<ChatReactionRequest>,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let mut request = body.read_optional().await?.unwrap_or_default();
    if request.emoji.is_none() && request.reaction.is_none() {
        request.emoji = query.get("emoji")?;
    }
    let emoji = request.emoji()?;
    react(&state, &caller, path, emoji, false, &links).await
}

async fn set_pinned(
    state: &AppState,
    caller: &ChatRoomsCaller,
    path: ChatMessagePath,
    pinned: bool,
    links: &Links,
) -> Result<HttpResponse, Error> {
    let ids = path.ids()?;
    let view = state
        .app
        .conversations
        .pin(
            &caller.actor,
            Some(ids.room),
            ids.message,
            pinned,
            MessageDetail::Rich,
        )
        .await?;
    Ok(HttpResponse::Ok().json(ChatMessageJson::new(view, &caller.actor, links)))
}

/// Pin a message of the chat room (its sender, an administrator or the API key).
/// Pinning a pinned message changes nothing.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
        ("id" = i64, Path, description = "Message id"),
    ),
    responses(
        (status = 200, description = "The message, with `pinned_at` and `pinned_by`", body = ChatMessageJson),
        Unauthenticated,
        (status = 403, description = "Not the sender, an administrator or the API key (You can only edit or delete your own messages), not a member, or the feature is off", body = ErrorBody),
        NotFound,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[post("/chat_rooms/{chat_room_id}/messages/{id}/pin")]
pub async fn pin_chat_message(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatMessagePath,
    links: Links,
) -> Result<HttpResponse, Error> {
    set_pinned(&state, &caller, path, true, &links).await
}

/// Unpin a message of the chat room (its sender, an administrator or the API key).
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("chat_room_id" = i64, Path, description = "Room id"),
        ("id" = i64, Path, description = "Message id"),
    ),
    responses(
        (status = 200, description = "The message, `pinned_at` and `pinned_by` null", body = ChatMessageJson),
        Unauthenticated,
        (status = 403, description = "Not the sender, an administrator or the API key, not a member, or the feature is off", body = ErrorBody),
        NotFound,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[delete("/chat_rooms/{chat_room_id}/messages/{id}/pin")]
pub async fn unpin_chat_message(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    path: ChatMessagePath,
    links: Links,
) -> Result<HttpResponse, Error> {
    set_pinned(&state, &caller, path, false, &links).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::body::parse_json;

    fn emoji_of(body: &str) -> Result<String, Vec<&'static str>> {
        let request: ChatReactionRequest =
            parse_json(body.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        match request.emoji() {
            Ok(emoji) => Ok(emoji.as_str().to_owned()),
            Err(AppError::Invalid(errors)) => Err(errors.iter().map(|e| e.field).collect()),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_emoji_comes_bare_or_wrapped() {
        assert_eq!(emoji_of(r#"{"emoji": "👍"}"#), Ok("👍".to_owned()));
        assert_eq!(
            emoji_of(r#"{"reaction": {"emoji": ":thumbsup:"}}"#),
            Ok(":thumbsup:".to_owned())
        );
        assert_eq!(emoji_of(r#"{}"#), Err(vec!["emoji"]));
        assert_eq!(emoji_of(r#"{"emoji": "ok"}"#), Err(vec!["emoji"]));
        assert_eq!(emoji_of(r#"{"reaction": {}}"#), Err(vec!["emoji"]));
    }
}
