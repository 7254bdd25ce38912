//! Account-dialect search across chat rooms (`…/chat_rooms/search`).

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chat_app::{MessageDetail, RawSearch, SearchQuery};

use super::caller::ChatRoomsCaller;
use super::json::ChatMessageJson;
use super::paging::Paging;
use super::responses::{BadRequest, Invalid, NotMember, Unauthenticated, Unavailable};
use super::{Error, ErrorBody, Query};
use crate::AppState;
use crate::links::Links;

/// Results a page holds when `per_page` is not given.
const DEFAULT_PER_PAGE: i64 = 20;
/// The most results a page holds.
const MAX_PER_PAGE: i64 = 50;

/// The search a query string asks for (`q`, `lang`) on the page it asks for.
fn search_query(query: &Query) -> Result<(SearchQuery, Paging), Error> {
    let paging = Paging::from_query(query, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let q = query.get("q")?;
    let language = query.get("lang")?;
    let search = SearchQuery::parse(
        RawSearch {
            q: q.as_deref(),
            language: language.as_deref(),
            ..RawSearch::default()
        },
        paging.window,
    )?;
    Ok((search, paging))
}

/// Search messages across the chat rooms the caller may read (agents: their rooms):
/// words in any inflection, "quoted phrases", `-word`, `a or b`. Best match first, then
/// newest; never deleted messages.
#[utoipa::path(
    tag = "chat_rooms",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("q" = String, Query, description = "What to look for (1–256 characters): words, \"quoted phrases\", -excluded, a or b"),
        ("lang" = Option<String>, Query, description = "The language of `q`: an ISO 639-1 code (`en`, `de`, …), PostgreSQL's name for it (`german`) or `simple`. Default: English"),
        ("page" = Option<i64>, Query, minimum = 1, description = "Page, from 1 (default 1)"),
        ("per_page" = Option<i64>, Query, minimum = 1, description = "Results per page: default 20, at most 50 (larger values are clamped)"),
    ),
    responses(
        (status = 200, description = "Matching messages, best match first; pages in X-Total-Count, X-Current-Page, X-Per-Page, X-Total-Pages", body = Vec<ChatMessageJson>),
        BadRequest,
        Unauthenticated,
        NotMember,
        (status = 404, description = "No such account", body = ErrorBody),
        Invalid,
        Unavailable,
    ),
    security(("api_access_token" = []), ("api_key" = []), ("bearer" = []))
)]
#[get("/chat_rooms/search")]
pub async fn search_chat_messages(
    state: Data<AppState>,
    caller: ChatRoomsCaller,
    query: Query,
    links: Links,
) -> Result<HttpResponse, Error> {
    let (search, paging) = search_query(&query)?;
    let page = state
        .app
        .conversations
        .search(&caller.actor, search, MessageDetail::Rich)
        .await?;
    let body = page.items.into_iter();
    let body = body.map(|view| ChatMessageJson::new(view, &caller.actor, &links));
    Ok(paging.respond(page.total, body.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Failure;
    use actix_web::FromRequest;
    use actix_web::test::TestRequest;
    use chat_app::AppError;

    fn search(raw: &str) -> Result<(SearchQuery, Paging), Error> {
        let req = TestRequest::with_uri(&format!("/chat_rooms/search?{raw}")).to_http_request();
        let query = Query::extract(&req)
            .into_inner()
            .unwrap_or_else(|_| panic!("a query string"));
        search_query(&query)
    }

    #[test]
    fn a_search_reads_its_words_language_and_page() {
        let (query, paging) =
            search("q=running+shoes&lang=fr&page=3&per_page=100").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(query.text, "running shoes");
        assert_eq!(query.language.as_deref(), Some("fr"));
        assert_eq!((paging.page, paging.per_page), (3, MAX_PER_PAGE));
        assert_eq!(
            (query.window.offset, query.window.limit),
            (2 * MAX_PER_PAGE, MAX_PER_PAGE)
        );
    }

    #[test]
    fn blank_words_and_an_unknown_language_are_named() {
        let Err(error) = search("q=%20&lang=xx") else {
            panic!("refused");
        };
        let fields: Vec<&str> = match error.failure() {
            Failure::App(AppError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(fields, ["q", "lang"]);
    }
}
