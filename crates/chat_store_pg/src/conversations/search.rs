//! Search across the rooms of an account: full-text, ranked, over the messages that are
//! not deleted (`messages_search_idx`, a GIN index of `search_vector`; the account is a
//! condition on the rows it finds).
//!
//! The words are read by `websearch_to_tsquery` in the query's language (English when
//! none is given): words in any inflection the language's stemmer knows (`run` finds
//! `running`), `"quoted phrases"`, `-word` and `or`. A query of stop words only has no
//! lexemes, and matches nothing.
//!
//! The statement first takes the account's matches from the index (`hit`, MATERIALIZED
//! so that the planner cannot start from another index instead: reading a room's or a
//! member's whole history to find a word costs what the history costs, while the index
//! costs what the matches cost), then applies the filters to them, ranks them and reads
//! the page's rows by primary key, with the number of matches, in one round trip. Its
//! text depends only on which filters are given: it is prepared once per connection for
//! each such set, and planned once (crate::prepared).

use chat_app::{SearchQuery, StoreError};
use chat_domain::{AccountId, Message, RoomRef};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use uuid::Uuid;

use crate::messages::load::to_messages;
use crate::messages::rows::{MessageRow, message_columns};
use crate::prepared::{Binds, Prepared};
use crate::translate;

/// The statement's common part: the matches (`hit`) and those that pass every filter
/// (`found`); binds the account as `$1`.
fn found(statement: &mut Binds, account: AccountId, search: &SearchQuery) -> String {
    let account = statement.bind::<BigInt, _>(account.0);
    let language = statement.bind::<Nullable<Text>, _>(search.language.clone());
    let text = statement.bind::<Text, _>(search.text.clone());
    let tsquery = format!(
        "websearch_to_tsquery(COALESCE(chat_search_config({language}), 'english'), {text})"
    );
    // What the filters read of each match, beside what every search needs.
    let mut columns = vec!["m.id", "m.created_at"];
    let mut filters = Vec::new();
    if !search.rooms.is_empty() {
        let (mut ids, mut uuids) = (Vec::new(), Vec::new());
        for room in &search.rooms {
            match room {
                RoomRef::Id(id) => ids.push(id.0),
                RoomRef::Uuid(uuid) => uuids.push(*uuid),
            }
        }
        let ids = statement.bind::<Array<BigInt>, _>(ids);
        let uuids = statement.bind::<Array<diesel::sql_types::Uuid>, _>(uuids);
        columns.push("m.room_id");
        filters.push(format!(
            "(h.room_id = ANY({ids}) OR h.room_id IN \
             (SELECT r.id FROM rooms AS r WHERE r.account_id = {account} AND r.uuid = ANY({uuids})))"
        ));
    }
    if !search.senders.is_empty() {
        let senders = statement.bind::<Array<Text>, _>(search.senders.clone());
        columns.push("m.sender_label");
        filters.push(format!("h.sender_label = ANY({senders})"));
    }
    if !search.kinds.is_empty() {
        let kinds: Vec<String> = search
            .kinds
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect();
        let kinds = statement.bind::<Array<Text>, _>(kinds);
        columns.push("m.message_type");
        filters.push(format!("h.message_type = ANY({kinds})"));
    }
    if let Some(from) = search.from {
        let from = statement.bind::<Timestamptz, _>(from);
        filters.push(format!("h.created_at >= {from}"));
    }
    if let Some(to) = search.to {
        let to = statement.bind::<Timestamptz, _>(to);
        filters.push(format!("h.created_at <= {to}"));
    }
    if let Some(wanted) = search.has_mentions {
        columns.push("cardinality(m.mentions) > 0 AS has_mentions");
        filters.push(
            if wanted {
                "h.has_mentions"
            } else {
                "NOT h.has_mentions"
            }
            .to_owned(),
        );
    }
    if let Some(wanted) = search.has_attachments {
        columns.push("m.attachment_count > 0 AS has_files");
        filters.push(
            if wanted {
                "h.has_files"
            } else {
                "NOT h.has_files"
            }
            .to_owned(),
        );
    }
    if let Some(reader) = search.reader {
        let reader = statement.bind::<BigInt, _>(reader.0);
        if !columns.contains(&"m.room_id") {
            columns.push("m.room_id");
        }
        // The reader's rooms, by the (account_id, user_id) index of memberships.
        filters.push(format!(
            "h.room_id IN (SELECT rm.room_id FROM room_members AS rm \
                            WHERE rm.account_id = {account} AND rm.user_id = {reader})"
        ));
    }
    let filters = if filters.is_empty() {
        "TRUE".to_owned()
    } else {
        filters.join("\n       AND ")
    };
    let columns = columns.join(", ");
    // The query is built once (`q`) and read through scalar subqueries, which PostgreSQL
    // evaluates once per statement: written inline it was parsed again for every match
    // (15 µs each, two thirds of a search's time). The matches carry only what the
    // filters read. The rank is `ts_rank` (how often the query's words occur, and how
    // close together): `ts_rank_cd`'s cover density cost 1.2 µs a match more, 40 % of a
    // search (docs/decisions.md).
    format!(
        "
WITH q AS MATERIALIZED (
    SELECT {tsquery} AS query
), hit AS MATERIALIZED (
    SELECT {columns}, ts_rank(m.search_vector, (SELECT query FROM q)) AS rank
      FROM messages AS m
     WHERE m.account_id = {account} AND m.deleted_at IS NULL
       AND m.search_vector @@ (SELECT query FROM q)
       -- A query of only excluded words (`-run`) has nothing to look up in the index
       -- (querytree 'T'): it finds nothing rather than reading the whole index.
       AND querytree((SELECT query FROM q)) <> 'T'
), found AS (
    SELECT h.id, h.rank, h.created_at
      FROM hit AS h
     WHERE {filters}
)"
    )
}

/// One message of the page, its room's UUID, and the number of matches.
struct FoundRow {
    row: MessageRow,
    room_uuid: Uuid,
    total: i64,
}

impl diesel::QueryableByName<Pg> for FoundRow {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        Ok(Self {
            row: <MessageRow as diesel::QueryableByName<Pg>>::build(row)?,
            room_uuid: NamedRow::get::<diesel::sql_types::Uuid, Uuid>(row, "room_uuid")?,
            total: NamedRow::get::<BigInt, i64>(row, "total")?,
        })
    }
}

/// The number of matches, alone.
#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The page's statement: best match first, then newest.
fn page(account: AccountId, search: &SearchQuery) -> Prepared {
    let mut statement = Binds::new();
    let found = found(&mut statement, account, search);
    let offset = statement.bind::<BigInt, _>(search.window.offset);
    let limit = statement.bind::<BigInt, _>(search.window.limit);
    let sql = format!(
        "{found}
SELECT {columns}, r.uuid AS room_uuid, (SELECT count(*) FROM found) AS total
  FROM (SELECT f.id, f.rank, f.created_at FROM found AS f
         ORDER BY f.rank DESC, f.created_at DESC, f.id DESC
        OFFSET {offset} LIMIT {limit}) AS f
  JOIN messages AS m ON m.id = f.id
  JOIN rooms AS r ON r.id = m.room_id AND r.account_id = m.account_id
 ORDER BY f.rank DESC, f.created_at DESC, f.id DESC",
        columns = message_columns("m"),
    );
    statement.into_statement(&sql)
}

/// The count's statement, for a page past the last match.
fn count(account: AccountId, search: &SearchQuery) -> Prepared {
    let mut statement = Binds::new();
    let found = found(&mut statement, account, search);
    statement.into_statement(&format!("{found}\nSELECT count(*) AS total FROM found"))
}

/// [`chat_app::ConversationStore::search`]: one page, best match first (then newest),
/// and the number of matches, in one statement; a page past the last match counts them in
/// a second one (outside a transaction: the two round trips of one would cost every search
/// more than a count taken a moment later could be off by).
pub(super) fn search(
    conn: &mut PgConnection,
    account: AccountId,
    search: &SearchQuery,
) -> Result<(Vec<Message>, i64), StoreError> {
    let found: Vec<FoundRow> = page(account, search).load(conn).map_err(translate)?;
    let total = match found.first() {
        Some(first) => first.total,
        None if search.window.offset == 0 => 0,
        None => {
            count(account, search)
                .get_result::<Total>(conn)
                .map_err(translate)?
                .total
        }
    };
    let rows: Vec<(MessageRow, Uuid)> = found
        .into_iter()
        .map(|found| (found.row, found.room_uuid))
        .collect();
    Ok((to_messages(conn, account, rows)?, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_app::Window;
    use chat_domain::{MessageKind, RoomId, UserId};

    fn query() -> SearchQuery {
        SearchQuery {
            text: "run".to_owned(),
            language: Some("de".to_owned()),
            rooms: vec![RoomRef::Id(RoomId(1)), RoomRef::Uuid(Uuid::nil())],
            senders: vec!["ann".to_owned()],
            kinds: vec![MessageKind::Text],
            from: Some(time::OffsetDateTime::UNIX_EPOCH),
            to: Some(time::OffsetDateTime::UNIX_EPOCH),
            has_mentions: Some(true),
            has_attachments: Some(false),
            reader: Some(UserId(3)),
            window: Window {
                offset: 0,
                limit: 20,
            },
        }
    }

    #[test]
    fn every_filter_binds_its_values_in_the_order_of_their_numbers() {
        let mut statement = Binds::new();
        let sql = found(&mut statement, AccountId(1), &query());
        assert_eq!(statement.len(), 10);
        for n in 1..=10 {
            assert!(sql.contains(&format!("${n}")), "${n} in {sql}");
        }
        assert!(!sql.contains("$11"), "{sql}");
        // The index's column and predicate, the account bound first, the query built once.
        assert!(sql.contains("WHERE m.account_id = $1 AND m.deleted_at IS NULL"));
        assert!(sql.contains("m.search_vector @@ (SELECT query FROM q)"));
        assert!(sql.contains("SELECT websearch_to_tsquery"));
        assert!(sql.contains("h.has_mentions") && sql.contains("NOT h.has_files"));
        assert!(
            sql.contains("SELECT m.id, m.created_at, m.room_id, m.sender_label"),
            "{sql}"
        );
        assert_eq!(sql.matches(", m.room_id").count(), 1, "{sql}");

        let mut bare = Binds::new();
        let sql = found(
            &mut bare,
            AccountId(1),
            &SearchQuery {
                rooms: Vec::new(),
                senders: Vec::new(),
                kinds: Vec::new(),
                from: None,
                to: None,
                has_mentions: None,
                has_attachments: None,
                reader: None,
                ..query()
            },
        );
        assert_eq!(bare.len(), 3);
        assert!(sql.contains("WHERE TRUE"), "{sql}");
        // Without filters, the matches carry nothing but what the page needs.
        assert!(sql.contains("SELECT m.id, m.created_at, ts_rank("), "{sql}");
    }
}
