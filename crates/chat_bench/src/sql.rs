//! Direct SQL: look-ups of ids; bulk history (`INSERT … SELECT generate_series`) that
//! keeps the schema's invariants; the fresh database. (The limits' operations are in
//! [`crate::limits`].)
//!
//! Everything goes through `diesel::sql_query` with bind parameters; none of it is
//! measured.

use std::collections::HashMap;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Text};
use uuid::Uuid;

pub mod conversations;
pub mod rooms;

/// A sending participant: its user id, its ChatAPI `sender_id` and the name it speaks
/// under.
#[derive(Debug, Clone)]
pub struct Sender {
    pub user_id: i64,
    pub label: String,
    pub name: String,
}

#[derive(Debug, QueryableByName)]
struct RoomId {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    uuid: Uuid,
}

/// The ids of the account's rooms named by UUID.
pub fn room_ids(
    conn: &mut PgConnection,
    account: i64,
    uuids: &[Uuid],
) -> anyhow::Result<HashMap<Uuid, i64>> {
    let rows: Vec<RoomId> =
        sql_query("SELECT id, uuid FROM rooms WHERE account_id = $1 AND uuid = ANY($2)")
            .bind::<BigInt, _>(account)
            .bind::<Array<diesel::sql_types::Uuid>, _>(uuids)
            .load(conn)
            .context("reading room ids")?;
    Ok(rows.into_iter().map(|row| (row.uuid, row.id)).collect())
}

#[derive(Debug, QueryableByName)]
struct ChatUser {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    chat_id: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// The account's users as senders, by ChatAPI id (their external id, else their id as
/// text).
pub fn senders(conn: &mut PgConnection, account: i64) -> anyhow::Result<HashMap<String, Sender>> {
    let rows: Vec<ChatUser> = sql_query(
        "SELECT id, COALESCE(external_id, id::text) AS chat_id, name FROM users \
         WHERE account_id = $1",
    )
    .bind::<BigInt, _>(account)
    .load(conn)
    .context("reading the account's users")?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let sender = Sender {
                user_id: row.id,
                label: row.chat_id.clone(),
                name: row.name,
            };
            (row.chat_id, sender)
        })
        .collect())
}

#[derive(Debug, QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Messages stored, from the rooms' counters (seqs are gapless, so `last_seq` is a room's
/// message count).
pub fn stored_messages(conn: &mut PgConnection) -> anyhow::Result<i64> {
    let count: Count = sql_query("SELECT COALESCE(SUM(last_seq), 0)::bigint AS n FROM rooms")
        .get_result(conn)
        .context("counting messages")?;
    Ok(count.n)
}

/// Live presence sessions (one per open socket that stands for a person).
pub fn presence_sessions(conn: &mut PgConnection) -> anyhow::Result<i64> {
    let count: Count = sql_query("SELECT count(*)::bigint AS n FROM presence_sessions")
        .get_result(conn)
        .context("counting presence sessions")?;
    Ok(count.n)
}

/// Size of the `messages` table with its indexes, in bytes.
pub fn messages_bytes(conn: &mut PgConnection) -> anyhow::Result<i64> {
    let count: Count = sql_query("SELECT pg_total_relation_size('messages')::bigint AS n")
        .get_result(conn)
        .context("measuring the messages table")?;
    Ok(count.n)
}

/// Appends `n` messages to each of `rooms` (each by its sender), in bulk, keeping the
/// invariants: seqs continue gaplessly from the room's `last_seq`, `last_seq` and
/// `message_count` move by `n`, creation times follow seq and never pass now. The rows
/// are inserted turn by turn (every room's next message, then the next), so that a
/// room's newest messages lie on different pages, as they do when rooms are busy at the
/// same time, not packed together as one room's bulk insert would put them.
pub fn prefill(
    conn: &mut PgConnection,
    account: i64,
    rooms: &[(i64, Sender)],
    n: i64,
) -> anyhow::Result<()> {
    let ids: Vec<i64> = rooms.iter().map(|(room, _)| *room).collect();
    let senders: Vec<i64> = rooms.iter().map(|(_, s)| s.user_id).collect();
    let labels: Vec<String> = rooms.iter().map(|(_, s)| s.label.clone()).collect();
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        sql_query(
            "INSERT INTO messages (account_id, room_id, seq, sender_user_id, sender_label, \
             content, message_type, created_at, updated_at) \
             SELECT r.account_id, r.id, r.last_seq + s, p.sender, p.label, \
                    'history message ' || (r.last_seq + s), 'text', \
                    LEAST(now(), r.created_at + s * interval '1 millisecond'), \
                    LEAST(now(), r.created_at + s * interval '1 millisecond') \
             FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS p(room, sender, label) \
             JOIN rooms r ON r.account_id = $1 AND r.id = p.room \
             CROSS JOIN generate_series(1, $5) AS s \
             ORDER BY s, r.id",
        )
        .bind::<BigInt, _>(account)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<BigInt>, _>(&senders)
        .bind::<Array<Text>, _>(&labels)
        .bind::<BigInt, _>(n)
        .execute(conn)?;
        sql_query(
            "UPDATE rooms SET last_seq = last_seq + $3, message_count = message_count + $3, \
             last_message_at = GREATEST(last_message_at, \
                 LEAST(now(), created_at + $3 * interval '1 millisecond')) \
             WHERE account_id = $1 AND id = ANY($2)",
        )
        .bind::<BigInt, _>(account)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<BigInt, _>(n)
        .execute(conn)?;
        Ok(())
    })
}

/// Creates `rooms` new rooms of the account, each holding `per_room` messages by `sender`
/// (seq 1..=per_room, `last_seq` = `message_count` = per_room, one millisecond apart, a
/// month ago), in one statement. Answers the messages inserted.
///
/// The content is a sentence of [`conversations::SENTENCES_TABLE`] (written by
/// [`conversations::store_sentences`] first, `SENTENCES` rows, a power of two): message
/// `s` of room `r` takes sentence (r·40503 + s·2654435761) mod `SENTENCES`, an odd stride,
/// so a room's messages walk the sentences without repeating one before it has used them
/// all.
pub fn history_rooms(
    conn: &mut PgConnection,
    account: i64,
    sender: &Sender,
    rooms: i64,
    per_room: i64,
) -> anyhow::Result<usize> {
    let inserted = sql_query(format!(
        "WITH new_rooms AS ( \
             INSERT INTO rooms (account_id, name, last_seq, message_count, created_at, \
                                updated_at, last_message_at) \
             SELECT $1, 'history ' || g, $2, $2, now() - interval '30 days', \
                    now() - interval '30 days', \
                    now() - interval '30 days' + $2 * interval '1 millisecond' \
             FROM generate_series(1, $3) AS g \
             RETURNING id, created_at) \
         INSERT INTO messages (account_id, room_id, seq, sender_user_id, sender_label, content, \
                               message_type, created_at, updated_at) \
         SELECT $1, r.id, s, $4, $5, t.content, 'text', \
                r.created_at + s * interval '1 millisecond', \
                r.created_at + s * interval '1 millisecond' \
         FROM new_rooms r CROSS JOIN generate_series(1, $2) AS s \
         JOIN {table} t ON t.i = (r.id * 40503 + s * 2654435761) % $6",
        table = conversations::SENTENCES_TABLE,
    ))
    .bind::<BigInt, _>(account)
    .bind::<BigInt, _>(per_room)
    .bind::<BigInt, _>(rooms)
    .bind::<BigInt, _>(sender.user_id)
    .bind::<Text, _>(&sender.label)
    .bind::<BigInt, _>(crate::corpus::SENTENCES as i64)
    .execute(conn)
    .context("inserting history")?;
    Ok(inserted)
}

#[derive(Debug, QueryableByName)]
pub struct IndexDef {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub definition: String,
}

/// The indexes of `messages` that back no constraint (not the primary key, not a UNIQUE
/// constraint): they can be dropped for a bulk load and built again from their
/// definitions, largest first.
pub fn plain_message_indexes(conn: &mut PgConnection) -> anyhow::Result<Vec<IndexDef>> {
    sql_query(
        "SELECT quote_ident(i.relname)::text AS name, pg_get_indexdef(i.oid) AS definition \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indrelid = 'messages'::regclass AND NOT x.indisprimary \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         ORDER BY pg_relation_size(i.oid) DESC, i.relname",
    )
    .load(conn)
    .context("reading the indexes of messages")
}

/// `ANALYZE` of the tables the history grew, and a checkpoint (so that the next phase does
/// not pay for writing out the bulk insert; skipped without the right).
pub fn settle(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.batch_execute("ANALYZE messages; ANALYZE rooms;")
        .context("ANALYZE")?;
    let _ = conn.batch_execute("CHECKPOINT");
    Ok(())
}

/// The rooms and their memberships vacuumed and analyzed, as autovacuum would have them
/// (it may be off on the bench's server), before a phase that reads many rooms: the send
/// phases before it leave tens of thousands of dead versions of the rooms' rows, which every
/// read of a room would otherwise walk, whatever the list's own cost.
pub fn settle_rooms(conn: &mut PgConnection) -> anyhow::Result<()> {
    // One statement each: VACUUM refuses to run inside a transaction block.
    for table in ["rooms", "room_members"] {
        conn.batch_execute(&format!("VACUUM ANALYZE {table}"))
            .with_context(|| format!("VACUUM ANALYZE {table} before the agent's rooms"))?;
    }
    Ok(())
}

/// The same start for every growth point: `rooms` vacuumed as autovacuum would have it
/// (it may be off on the bench's server; the send phases before the later points leave
/// tens of thousands of dead versions of the rooms' rows, which a send's `UPDATE rooms`
/// would otherwise wade through), fresh statistics, and a checkpoint just made (after
/// one, the first change of each page writes a whole page image to the WAL: every point
/// pays that alike). Without the right to checkpoint, it is skipped, at every point.
pub fn settle_point(conn: &mut PgConnection) -> anyhow::Result<()> {
    // One statement each: several in one call would run as one transaction block, where
    // VACUUM refuses to run.
    conn.batch_execute("VACUUM ANALYZE rooms")
        .context("VACUUM ANALYZE rooms before a growth point")?;
    conn.batch_execute("ANALYZE messages")
        .context("ANALYZE messages before a growth point")?;
    let _ = conn.batch_execute("CHECKPOINT");
    Ok(())
}

#[derive(Debug, QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// A server setting (`SHOW name`), or "?" when it cannot be read.
pub fn show(conn: &mut PgConnection, name: &str) -> String {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return "?".into();
    }
    sql_query(format!("SELECT current_setting('{name}') AS value"))
        .get_result::<Setting>(conn)
        .map(|s| s.value)
        .unwrap_or_else(|_| "?".into())
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let Some(scheme_end) = url.find("://") else {
        bail!("not a URL: {url}");
    };
    let after = scheme_end + 3;
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let host_end = base[after..].find('/').map_or(base.len(), |i| after + i);
    Ok(format!("{}/{name}{query}", &base[..host_end]))
}

/// The database a URL names.
pub fn database_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    after_scheme
        .split_once('/')
        .map_or("postgres", |(_, db)| db)
        .to_owned()
}

/// Drops and creates database `name` on the server of `admin_url`; answers its URL.
pub fn reset_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("refusing the database name {name:?}");
    }
    let mut conn = PgConnection::establish(admin_url)
        .with_context(|| format!("connecting to {}", redact(admin_url)))?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .with_context(|| format!("dropping database {name}"))?;
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .with_context(|| format!("creating database {name}"))?;
    with_database(admin_url, name)
}

/// `url` without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{}", &url[..s + 3 + colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() -> anyhow::Result<()> {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "chat_bench")?,
            "postgres://postgres@127.0.0.1:5432/chat_bench"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x")?,
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "x")?, "postgres://h:1/x");
        assert_eq!(
            database_name("postgres://u@h:1/chat_bench?x=y"),
            "chat_bench"
        );
        Ok(())
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
