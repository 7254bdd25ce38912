//! ChatAPI search across rooms (`GET /api/v1/messages/search`).

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chat_app::{MessageDetail, RawSearch, SearchQuery, Window};
use chat_domain::{FieldError, FieldErrors, Problem, RoomRef};
use uuid::Uuid;

use super::json::{Pagination, client_id};
use super::messages::{MessageList, time_param};
use super::params::MessageTypeParam;
use super::responses::{BadRequest, Invalid, PermissionDenied, Unauthenticated, Unavailable};
use super::{Authenticated, Error, Query};
use crate::AppState;
use crate::links::Links;

/// Results a page holds when `limit` is not given (as a room's message list).
pub const DEFAULT_LIMIT: i64 = 50;

/// The rooms of `room_ids`, each a UUID; the first that is not one is refused on
/// `room_ids` (a search names rooms to look in: a malformed one is a mistake to report,
/// not a room that happens to be empty).
fn room_refs(raw: &[String]) -> Result<Vec<RoomRef>, FieldError> {
    raw.iter()
        .map(|id| {
            Uuid::parse_str(id).map(RoomRef::Uuid).map_err(|_| {
                FieldError::new(
                    "room_ids",
                    Problem::Invalid(format!("{id:?} is not a room UUID")),
                )
            })
        })
        .collect()
}

/// The search a query string asks for: every bad parameter reported at once (422), a
/// parameter of the wrong type (a date, a boolean, `skip`/`limit`) 400 as elsewhere.
fn search_query(query: &Query) -> Result<SearchQuery, Error> {
    let window = Pagination::window(query, DEFAULT_LIMIT, Window::MAX_LIMIT)?;
    let q = query.get("q")?;
    let language = query.get("lang")?;
    let rooms = query.list("room_ids")?;
    let senders = query.list("sender_ids")?;
    let kinds = query.list("message_types")?;
    let raw = RawSearch {
        q: q.as_deref(),
        language: language.as_deref(),
        rooms: Vec::new(),
        senders: senders.iter().map(String::as_str).collect(),
        kinds: kinds.iter().map(String::as_str).collect(),
        from: time_param(query, "date_from")?,
        to: time_param(query, "date_to")?,
        has_mentions: query.boolean("has_mentions")?,
        has_attachments: query.boolean("has_attachments")?,
    };
    let mut errors = FieldErrors::new();
    let rooms = errors.collect(room_refs(&rooms));
    let parsed = SearchQuery::parse(
        RawSearch {
            rooms: rooms.unwrap_or_default(),
            ..raw
        },
        window,
    );
    match parsed {
        Ok(search) if errors.is_empty() => Ok(search),
        Ok(_) => Err(errors.into()),
        Err(others) => {
            for error in others.iter() {
                errors.push(error.clone());
            }
            Err(errors.into())
        }
    }
}

/// Search messages across the rooms the caller may read: words in any inflection
/// (`run` finds `running`), "quoted phrases", `-word` to leave a word out, `or` for
/// choices. Best match first, then newest; never deleted messages.
#[utoipa::path(
    tag = "messages",
    params(
        ("q" = String, Query, description = "What to look for (1–256 characters): words, \"quoted phrases\", -excluded, a or b"),
        ("lang" = Option<String>, Query, description = "The language of `q`: an ISO 639-1 code (`en`, `de`, `fr`, …) or PostgreSQL's name for it (`german`), or `simple` (no stemming). Default: English"),
        ("room_ids" = Option<String>, Query, description = "Comma-separated room UUIDs: only these rooms (a malformed one is 422 on room_ids)"),
        ("sender_ids" = Option<String>, Query, description = "Comma-separated sender `user_id`s (`system` for system messages)"),
        ("message_types" = Option<MessageTypeParam>, Query, description = "Comma-separated message types, built-in or custom (`text,poll`)"),
        ("date_from" = Option<String>, Query, description = "RFC 3339: only messages sent at or after"),
        ("date_to" = Option<String>, Query, description = "RFC 3339: only messages sent at or before"),
        ("has_mentions" = Option<bool>, Query, description = "Only messages that mention someone (true) or no one (false)"),
        ("has_attachments" = Option<bool>, Query, description = "Only messages with files (true) or without (false)"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Results to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "1–100, default 50; larger values are clamped"),
    ),
    responses(
        (status = 200, description = "A page of matching messages, best match first", body = MessageList),
        BadRequest,
        Unauthenticated,
        PermissionDenied,
        Invalid,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/messages/search")]
pub async fn search_messages(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let search = search_query(&query)?;
    let window = search.window;
    let page = state
        .app
        .conversations
        .search(&auth.actor, search, MessageDetail::Summary)
        .await?;
    Ok(crate::json_body::json(
        HttpResponse::Ok(),
        &MessageList::new(page, window, client_id(&auth.actor), &links),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Failure, RequestError};
    use actix_web::FromRequest;
    use actix_web::test::TestRequest;
    use chat_app::AppError;
    use chat_domain::MessageKind;

    fn query(raw: &str) -> Query {
        let req =
            TestRequest::with_uri(&format!("/api/v1/messages/search?{raw}")).to_http_request();
        Query::extract(&req)
            .into_inner()
            .unwrap_or_else(|_| panic!("a query string"))
    }

    /// What a refusal names: the fields of a 422, or the parameter of the wrong type (400).
    #[derive(Debug, PartialEq)]
    enum Refused {
        Invalid(Vec<&'static str>),
        WrongType(String),
        Other,
    }

    fn refused(raw: &str) -> Refused {
        let Err(error) = search_query(&query(raw)) else {
            panic!("{raw} must be refused");
        };
        match error.failure() {
            Failure::App(AppError::Invalid(errors)) => {
                Refused::Invalid(errors.iter().map(|e| e.field).collect())
            }
            Failure::Request(RequestError::WrongField { field, .. }) => {
                Refused::WrongType(field.clone())
            }
            _ => Refused::Other,
        }
    }

    fn invalid(fields: &[&'static str]) -> Refused {
        Refused::Invalid(fields.to_vec())
    }

    #[test]
    fn every_filter_is_read_from_its_parameter() {
        let room = Uuid::new_v4();
        let other = Uuid::new_v4();
        let raw = format!(
            "q=%22quick+fox%22+run&lang=de&room_ids={room},{other}&sender_ids=ann,system\
             &message_types=text,poll&date_from=2026-01-01T00:00:00Z\
             &date_to=2026-02-01T00:00:00%2B01:00&has_mentions=true\
             &has_attachments=false&skip=5&limit=500"
        );
        let search = search_query(&query(&raw)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(search.text, "\"quick fox\" run");
        assert_eq!(search.language.as_deref(), Some("de"));
        assert_eq!(search.rooms, [RoomRef::Uuid(room), RoomRef::Uuid(other)]);
        assert_eq!(search.senders, ["ann", "system"]);
        assert_eq!(search.kinds.len(), 2);
        assert_eq!(search.kinds.first(), Some(&MessageKind::Text));
        assert_eq!(search.from.map(|t| t.unix_timestamp()), Some(1_767_225_600));
        assert_eq!(
            search.to.map(|t| t.unix_timestamp()),
            Some(1_769_904_000 - 3600)
        );
        assert_eq!(search.has_mentions, Some(true));
        assert_eq!(search.has_attachments, Some(false));
        assert_eq!((search.window.offset, search.window.limit), (5, 100));
        assert_eq!(search.reader, None);
    }

    #[test]
    fn without_filters_a_search_is_everything_the_caller_may_read() {
        let search = search_query(&query("q=hello")).unwrap_or_else(|e| panic!("{e}"));
        assert!(search.rooms.is_empty() && search.senders.is_empty() && search.kinds.is_empty());
        assert_eq!((search.has_mentions, search.has_attachments), (None, None));
        assert_eq!(search.window.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_malformed_room_id_is_reported_with_every_other_bad_parameter() {
        assert_eq!(refused("q=x&room_ids=not-a-uuid"), invalid(&["room_ids"]));
        let room = Uuid::new_v4();
        assert_eq!(
            refused(&format!("q=&lang=klingon&room_ids={room},42")),
            invalid(&["room_ids", "q", "lang"])
        );
        assert_eq!(
            refused("q=x&message_types=Poll!"),
            invalid(&["message_types"])
        );
        assert_eq!(
            refused("q=x&date_from=2026-02-01T00:00:00Z&date_to=2026-01-01T00:00:00Z"),
            invalid(&["date_from"])
        );
    }

    #[test]
    fn a_parameter_of_the_wrong_type_is_named() {
        for (raw, field) in [
            ("q=x&has_mentions=maybe", "has_mentions"),
            ("q=x&has_attachments=2", "has_attachments"),
            ("q=x&date_from=yesterday", "date_from"),
            ("q=x&limit=ten", "limit"),
        ] {
            assert_eq!(refused(raw), Refused::WrongType(field.to_owned()), "{raw}");
        }
    }
}
