//! Search across the rooms of an account: full-text, ranked, over the messages that are
//! not deleted (`messages_search_idx`, a GIN index of `(account_id, search_vector)`).
//!
//! The words are read by `websearch_to_tsquery` in the query's language (English when
//! none is given): words in any inflection the language's stemmer knows (`run` finds
//! `running`), `"quoted phrases"`, `-word` and `or`. A query of stop words only has no
//! lexemes, and matches nothing.

use chat_app::{SearchQuery, StoreError};
use chat_domain::{AccountId, Message, RoomRef};
use diesel::dsl::{exists, sql};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Bool, Float, Nullable, Text};

use crate::messages::load::to_messages;
use crate::messages::rows::MessageRow;
use crate::schema::{messages, room_members, rooms};
use crate::translate;

/// A condition or a value over `messages`, built from SQL text and bound values.
type Over<ST> = Box<dyn BoxableExpression<messages::table, Pg, SqlType = ST>>;

/// `websearch_to_tsquery` of the query's text, in its language's configuration: SQL
/// text to wrap, with the two values bound.
fn with_tsquery<ST: 'static>(before: &str, query: &SearchQuery, after: &str) -> Over<ST>
where
    ST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue + Send,
{
    Box::new(
        sql::<ST>(before)
            .sql("websearch_to_tsquery(COALESCE(chat_search_config(")
            .bind::<Nullable<Text>, _>(query.language.clone())
            .sql("), 'english'), ")
            .bind::<Text, _>(query.text.clone())
            .sql(")")
            .sql(after),
    )
}

/// Whether a message's words match the query (the index condition).
fn matches(query: &SearchQuery) -> Over<Bool> {
    with_tsquery("messages.search_vector @@ ", query, "")
}

/// How well a message matches (higher is better).
fn rank(query: &SearchQuery) -> Over<Float> {
    with_tsquery("ts_rank_cd(messages.search_vector, ", query, ")")
}

/// `query` (on `messages`) restricted to the account's messages that are not deleted and
/// match `search` with every filter it has. Generic over the selection, so the page and
/// the count share one definition.
fn matching<'a, ST: 'a>(
    query: messages::BoxedQuery<'a, Pg, ST>,
    account: AccountId,
    search: &SearchQuery,
) -> messages::BoxedQuery<'a, Pg, ST> {
    // The partial index's predicate, and its two columns.
    let mut query = query
        .filter(messages::account_id.eq(account.0))
        .filter(messages::deleted_at.is_null())
        .filter(matches(search));
    if !search.rooms.is_empty() {
        let (mut ids, mut uuids) = (Vec::new(), Vec::new());
        for room in &search.rooms {
            match room {
                RoomRef::Id(id) => ids.push(id.0),
                RoomRef::Uuid(uuid) => uuids.push(*uuid),
            }
        }
        let by_uuid = rooms::table
            .filter(rooms::account_id.eq(account.0))
            .filter(rooms::uuid.eq_any(uuids))
            .select(rooms::id);
        query = query.filter(
            messages::room_id
                .eq_any(ids)
                .or(messages::room_id.eq_any(by_uuid)),
        );
    }
    if !search.senders.is_empty() {
        query = query.filter(messages::sender_label.eq_any(search.senders.clone()));
    }
    if !search.kinds.is_empty() {
        let kinds: Vec<String> = search
            .kinds
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect();
        query = query.filter(messages::message_type.eq_any(kinds));
    }
    if let Some(from) = search.from {
        query = query.filter(messages::created_at.ge(from));
    }
    if let Some(to) = search.to {
        query = query.filter(messages::created_at.le(to));
    }
    match search.has_mentions {
        Some(true) => query = query.filter(sql::<Bool>("cardinality(messages.mentions) > 0")),
        Some(false) => query = query.filter(sql::<Bool>("cardinality(messages.mentions) = 0")),
        None => {}
    }
    match search.has_attachments {
        Some(true) => query = query.filter(messages::attachment_count.gt(0)),
        Some(false) => query = query.filter(messages::attachment_count.eq(0)),
        None => {}
    }
    if let Some(reader) = search.reader {
        // The membership's primary key, for each match.
        query = query.filter(exists(
            room_members::table
                .filter(room_members::account_id.eq(account.0))
                .filter(room_members::room_id.eq(messages::room_id))
                .filter(room_members::user_id.eq(reader.0)),
        ));
    }
    query
}

/// [`chat_app::ConversationStore::search`]: one page, best match first (then newest),
/// and the number of matches, read in one snapshot.
pub(super) fn search(
    conn: &mut PgConnection,
    account: AccountId,
    search: &SearchQuery,
) -> Result<(Vec<Message>, i64), StoreError> {
    let (rows, total) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let rows: Vec<(MessageRow, uuid::Uuid)> =
                matching(messages::table.into_boxed(), account, search)
                    .order_by((
                        rank(search).desc(),
                        messages::created_at.desc(),
                        messages::id.desc(),
                    ))
                    .offset(search.window.offset)
                    .limit(search.window.limit)
                    .select((
                        MessageRow::as_select(),
                        sql::<diesel::sql_types::Uuid>(
                            "(SELECT r.uuid FROM rooms AS r WHERE r.id = messages.room_id)",
                        ),
                    ))
                    .load(conn)?;
            let total = matching(messages::table.into_boxed(), account, search)
                .count()
                .get_result::<i64>(conn)?;
            Ok::<_, DieselError>((rows, total))
        })
        .map_err(translate)?;
    Ok((to_messages(conn, account, rows)?, total))
}
