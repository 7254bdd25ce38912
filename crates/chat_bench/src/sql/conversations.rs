//! Direct SQL for the conversation rows: the history's sentences, the search index, and
//! reactions seeded in bulk.

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Text};

use chat_domain::{AccountId, RoomId};

use super::{Count, Sender};

/// The table the history's content comes from (see `history_rooms`): the bench's own,
/// outside the server's schema, dropped with the database.
pub const SENTENCES_TABLE: &str = "chat_bench_sentences";

/// The GIN index that cross-room search reads (migration 2026-12-06-000005).
pub const SEARCH_INDEX: &str = "messages_search_idx";

/// (Re)writes the history's sentences table: row `i` (0-based) holds `sentences[i]`.
pub fn store_sentences(conn: &mut PgConnection, sentences: &[String]) -> anyhow::Result<()> {
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        conn.batch_execute(&format!(
            "DROP TABLE IF EXISTS {SENTENCES_TABLE}; \
             CREATE UNLOGGED TABLE {SENTENCES_TABLE} (i bigint PRIMARY KEY, content text NOT NULL)"
        ))?;
        sql_query(format!(
            "INSERT INTO {SENTENCES_TABLE} (i, content) \
             SELECT n - 1, c FROM unnest($1::text[]) WITH ORDINALITY AS t(c, n)"
        ))
        .bind::<Array<Text>, _>(sentences)
        .execute(conn)?;
        conn.batch_execute(&format!("ANALYZE {SENTENCES_TABLE}"))?;
        Ok(())
    })
    .context("writing the history's sentences")
}

/// Messages of the account, not deleted, whose words match `q` as the search route's query
/// does (`websearch_to_tsquery` in English, against the stored `search_vector`).
pub fn search_matches(conn: &mut PgConnection, account: i64, q: &str) -> anyhow::Result<i64> {
    let count: Count = sql_query(
        "SELECT count(*)::bigint AS n FROM messages \
         WHERE account_id = $1 AND deleted_at IS NULL \
           AND search_vector @@ websearch_to_tsquery('english', $2)",
    )
    .bind::<BigInt, _>(account)
    .bind::<Text, _>(q)
    .get_result(conn)
    .context("counting the search's matches")?;
    Ok(count.n)
}

#[derive(Debug, QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    definition: String,
}

/// The definition (`pg_get_indexdef`) of the index `name` of `messages`, if it exists.
pub fn index_definition(conn: &mut PgConnection, name: &str) -> anyhow::Result<Option<String>> {
    let found: Vec<Definition> = sql_query(
        "SELECT pg_get_indexdef(i.oid) AS definition \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indrelid = 'messages'::regclass AND i.relname = $1",
    )
    .bind::<Text, _>(name)
    .load(conn)
    .with_context(|| format!("reading the definition of {name}"))?;
    Ok(found.into_iter().next().map(|d| d.definition))
}

/// Merges the search index's pending list (GIN `fastupdate`) into the index; answers the
/// pages merged.
pub fn clean_pending_list(conn: &mut PgConnection) -> anyhow::Result<i64> {
    let count: Count = sql_query(format!(
        "SELECT gin_clean_pending_list('{SEARCH_INDEX}'::regclass)::bigint AS n"
    ))
    .get_result(conn)
    .context("merging the search index's pending list")?;
    Ok(count.n)
}

/// Gives each of the room's newest `newest` messages (not deleted) a reaction of every
/// emoji by every user, in bulk: `message_reactions` rows (created in the order emoji by
/// emoji, user by user) and the `messages.reactions` summary the store keeps beside them,
/// rebuilt by the store's own statement. Answers the messages reacted to.
pub fn seed_reactions(
    conn: &mut PgConnection,
    account: i64,
    room: i64,
    newest: i64,
    emoji: &[&str],
    users: &[Sender],
) -> anyhow::Result<i64> {
    let ids: Vec<i64> = users.iter().map(|u| u.user_id).collect();
    let labels: Vec<String> = users.iter().map(|u| u.label.clone()).collect();
    let emoji: Vec<String> = emoji.iter().map(|e| (*e).to_owned()).collect();
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        sql_query(
            "INSERT INTO message_reactions (account_id, room_id, message_id, emoji, user_id, \
                                            user_label, created_at) \
             SELECT $1, m.room_id, m.id, e.emoji, u.id, u.label, \
                    now() + ((e.n - 1) * 100 + u.n) * interval '1 millisecond' \
             FROM (SELECT id, room_id FROM messages \
                   WHERE account_id = $1 AND room_id = $2 AND deleted_at IS NULL \
                   ORDER BY seq DESC LIMIT $3) AS m \
             CROSS JOIN unnest($4::text[]) WITH ORDINALITY AS e(emoji, n) \
             CROSS JOIN unnest($5::bigint[], $6::text[]) WITH ORDINALITY AS u(id, label, n) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<BigInt, _>(account)
        .bind::<BigInt, _>(room)
        .bind::<BigInt, _>(newest)
        .bind::<Array<Text>, _>(&emoji)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Text>, _>(&labels)
        .execute(conn)?;
        let updated =
            chat_store_pg::bench::rebuild_reactions(conn, AccountId(account), RoomId(room))
                .map_err(|e| anyhow::anyhow!("rebuilding the summaries: {e}"))?;
        Ok(updated as i64)
    })
    .context("seeding reactions")
}

/// Rewrites the room's newest `newest` messages without changing them (an empty summary
/// stays empty), so that a room without reactions has its rows rewritten as a seeded room's
/// were (new row versions, on the same kind of pages). Answers the messages rewritten.
pub fn rewrite_newest(
    conn: &mut PgConnection,
    account: i64,
    room: i64,
    newest: i64,
) -> anyhow::Result<i64> {
    let updated = sql_query(
        "UPDATE messages SET reactions = reactions \
         WHERE account_id = $1 AND room_id = $2 AND id IN ( \
             SELECT id FROM messages \
             WHERE account_id = $1 AND room_id = $2 AND deleted_at IS NULL \
             ORDER BY seq DESC LIMIT $3)",
    )
    .bind::<BigInt, _>(account)
    .bind::<BigInt, _>(room)
    .bind::<BigInt, _>(newest)
    .execute(conn)
    .context("rewriting the baseline room's newest messages")?;
    Ok(updated as i64)
}

/// Removes every reaction of the room, and the summaries.
pub fn clear_reactions(conn: &mut PgConnection, account: i64, room: i64) -> anyhow::Result<()> {
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        sql_query("DELETE FROM message_reactions WHERE account_id = $1 AND room_id = $2")
            .bind::<BigInt, _>(account)
            .bind::<BigInt, _>(room)
            .execute(conn)?;
        sql_query(
            "UPDATE messages SET reactions = '' \
             WHERE account_id = $1 AND room_id = $2 AND reactions <> ''",
        )
        .bind::<BigInt, _>(account)
        .bind::<BigInt, _>(room)
        .execute(conn)?;
        Ok(())
    })
    .context("removing the seeded reactions")
}
