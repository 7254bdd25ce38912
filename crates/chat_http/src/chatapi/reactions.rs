//! ChatAPI reactions: `POST /api/v1/messages/{message_id}/reactions` adds one,
//! `DELETE /api/v1/messages/{message_id}/reactions/{emoji}` removes one.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, post};
use chat_app::{AppError, MessageDetail, Resource};
use chat_domain::{Emoji, ExternalId, FieldErrors, MessageRef};
use serde::Deserialize;
use utoipa::ToSchema;

use super::json::{MessageJson, client_id};
use super::path::MessageSegment;
use super::responses::{BadRequest, Invalid, TooLarge, Unauthenticated, Unavailable};
use super::{Authenticated, Envelope, Error, ErrorBody, Json, Query};
use crate::AppState;
use crate::extract::{FromPath, PathIds};
use crate::links::Links;

/// `{emoji, user_id?}`
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReactionRequest {
    /// One emoji (a single grapheme cluster: `👍`, `👩🏽‍💻`, `🇫🇷`) or a short code
    /// `:name:` of 1–32 characters `a-z 0-9 _ + -` (`:thumbsup:`, `:+1:`), kept as given.
    #[schema(required = true, value_type = String, example = "👍")]
    pub emoji: Option<String>,
    /// With the API key: the participant who reacts (required). With a user's credential
    /// the reaction is that user's, whatever this says.
    #[schema(example = "user_123")]
    pub user_id: Option<String>,
}

/// `/messages/{message_id}/reactions/{emoji}`: the message and the emoji as sent
/// (percent-decoded; checked by the handler, so that a bad emoji is a 422 on `emoji`).
pub type ReactionPath = PathIds<ReactionSegments>;

/// Reads a message's UUID from the first segment and an emoji from the second.
#[derive(Debug)]
pub struct ReactionSegments;

impl FromPath for ReactionSegments {
    type Ids = (MessageRef, String);

    fn from_path(segments: &[String]) -> Result<(MessageRef, String), AppError> {
        let message = MessageSegment::from_path(segments)?;
        let emoji = segments
            .get(1)
            .cloned()
            .ok_or(AppError::NotFound(Resource::Message))?;
        Ok((message, emoji))
    }
}

/// The emoji and the participant of a reaction, every bad field at once (422).
fn reaction(
    emoji: Option<&str>,
    user_id: Option<&str>,
) -> Result<(Emoji, Option<ExternalId>), AppError> {
    let mut errors = FieldErrors::new();
    let emoji = errors.collect(Emoji::parse(emoji.unwrap_or_default()));
    let user_id = user_id.and_then(|raw| errors.collect(ExternalId::parse_field("user_id", raw)));
    match emoji {
        Some(emoji) if errors.is_empty() => Ok((emoji, user_id)),
        _ => Err(errors.into()),
    }
}

async fn react(
    state: &AppState,
    auth: &Authenticated,
    message: MessageRef,
    (emoji, user_id): (Emoji, Option<ExternalId>),
    add: bool,
    links: &Links,
) -> Result<HttpResponse, Error> {
    let view = state
        .app
        .conversations
        .react(
            &auth.actor,
            None,
            message,
            emoji,
            user_id,
            add,
            MessageDetail::Summary,
        )
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(MessageJson::new(
        view,
        client_id(&auth.actor),
        links,
    ))))
}

/// React to a message. A user reacts with an emoji once: a repeat changes nothing (200,
/// no event). A message carries at most 20 distinct emoji.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = Uuid, Path, description = "The message's UUID")),
    request_body = ReactionRequest,
    responses(
        (status = 200, description = "The message, with its reactions", body = Envelope<MessageJson>),
        BadRequest,
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: not a member of the room; PERMISSION_DENIED: a scoped credential without send_messages", body = ErrorBody),
        (status = 404, description = "MESSAGE_NOT_FOUND (also for a deleted message); NOT_IN_ROOM for a `user_id` that is no participant of the room", body = ErrorBody),
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/messages/{message_id}/reactions")]
pub async fn add_reaction(
    state: Data<AppState>,
    auth: Authenticated,
    message_id: super::path::MessagePath,
    body: Json<ReactionRequest>,
    links: Links,
) -> Result<HttpResponse, Error> {
    let message = message_id.ids()?;
    let body = body.read().await?;
    let fields = reaction(body.emoji.as_deref(), body.user_id.as_deref())?;
    react(&state, &auth, message, fields, true, &links).await
}

/// Take a reaction back. Removing a reaction that is not there changes nothing.
#[utoipa::path(
    tag = "messages",
    params(
        ("message_id" = Uuid, Path, description = "The message's UUID"),
        ("emoji" = String, Path, description = "The emoji, percent-encoded UTF-8 (`%F0%9F%91%8D` for 👍, `:%2B1:` or `:+1:`)"),
        ("user_id" = Option<String>, Query, description = "With the API key: the participant whose reaction it is (required)"),
    ),
    responses(
        (status = 200, description = "The message, with its reactions", body = Envelope<MessageJson>),
        BadRequest,
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: not a member of the room; PERMISSION_DENIED: a scoped credential without send_messages", body = ErrorBody),
        (status = 404, description = "MESSAGE_NOT_FOUND; NOT_IN_ROOM for a `user_id` that is no participant of the room", body = ErrorBody),
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[delete("/messages/{message_id}/reactions/{emoji}")]
pub async fn remove_reaction(
    state: Data<AppState>,
    auth: Authenticated,
    path: ReactionPath,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let (message, emoji) = path.ids()?;
    let user_id = query.get("user_id")?;
    let fields = reaction(Some(&emoji), user_id.as_deref())?;
    react(&state, &auth, message, fields, false, &links).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{TestRequest, call_and_read_body, init_service};
    use actix_web::{App, web};
    use uuid::Uuid;

    /// Answers what the extractor read from the path: `message emoji`, or the refusal.
    async fn echo(path: ReactionPath) -> String {
        match path.ids() {
            Ok((MessageRef::Uuid(id), emoji)) => format!("{id} {emoji}"),
            Ok((other, _)) => format!("{other:?}"),
            Err(error) => format!("refused: {error:?}"),
        }
    }

    #[actix_web::test]
    async fn the_emoji_in_the_path_is_percent_decoded_utf8() {
        let app = init_service(
            App::new().route("/messages/{message_id}/reactions/{emoji}", web::to(echo)),
        )
        .await;
        let id = Uuid::new_v4();
        for (sent, read) in [
            ("%F0%9F%91%8D", "👍"),
            (":%2B1:", ":+1:"),
            (":+1:", ":+1:"),
            (":thumbsup:", ":thumbsup:"),
            ("%F0%9F%91%A9%F0%9F%8F%BD%E2%80%8D%F0%9F%92%BB", "👩🏽‍💻"),
        ] {
            let req = TestRequest::delete()
                .uri(&format!("/messages/{id}/reactions/{sent}"))
                .to_request();
            let body = call_and_read_body(&app, req).await;
            assert_eq!(
                String::from_utf8_lossy(&body),
                format!("{id} {read}"),
                "{sent}"
            );
            let (_, emoji) = ReactionSegments::from_path(&[id.to_string(), read.to_owned()])
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert!(Emoji::parse(&emoji).is_ok(), "{read} is an emoji");
        }
        let req = TestRequest::delete()
            .uri("/messages/not-a-uuid/reactions/%F0%9F%91%8D")
            .to_request();
        let body = call_and_read_body(&app, req).await;
        assert_eq!(String::from_utf8_lossy(&body), "refused: NotFound(Message)");
    }

    #[test]
    fn a_reaction_names_every_bad_field() {
        let fields = |emoji, user_id| match reaction(emoji, user_id) {
            Ok(_) => Vec::new(),
            Err(AppError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
            Err(other) => panic!("{other:?}"),
        };
        assert!(fields(Some("👍"), None).is_empty());
        assert!(fields(Some(":+1:"), Some("ann")).is_empty());
        assert_eq!(fields(None, None), ["emoji"]);
        assert_eq!(fields(Some("ok"), Some("")), ["emoji", "user_id"]);
        assert_eq!(fields(Some("👍👍"), Some("system")), ["emoji", "user_id"]);
        let Ok((emoji, user)) = reaction(Some("🇫🇷"), Some("ann")) else {
            panic!("a flag is one emoji");
        };
        assert_eq!(emoji.as_str(), "🇫🇷");
        assert_eq!(user.as_ref().map(ExternalId::as_str), Some("ann"));
    }
}
