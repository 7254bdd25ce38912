//! The PostgreSQL limits the send and list rows are measured against
//! (docs/benchmarks/README.md, "The limits"). Each is one operation that a plain loop
//! ([`crate::load::pg_phase`]) repeats on every client's own `PgConnection`, on the
//! server's database, its rooms and its senders, with the spread of the HTTP row:
//!
//! - (a) [`physical_insert`]: the physical limit of a durable write, one single-row INSERT
//!   into the bench's own minimal table, prepared (diesel's DSL, cached per connection),
//!   autocommit (one statement, one transaction, one commit);
//! - (b) [`send_statement`]: the store's own send, [`chat_store_pg::bench::send_context`]
//!   then [`chat_store_pg::bench::append`]: what the server's `MessageStore::send` runs,
//!   statement for statement and prepared alike, one send per transaction;
//! - (c) [`list_select`]: the store's own newest-50 read,
//!   [`chat_store_pg::bench::room_page`]: what the server's `MessageStore::room_page`
//!   runs for the list row.
//!
//! [`prepared`] checks, on a fresh connection, what an operation leaves prepared.

use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use chat_app::{MessageFilter, NewMessage, Speaker, Window};
use chat_domain::{AccountId, Content, MessageKind, MessageMeta, RoomRef, UserId};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use uuid::Uuid;

use crate::load::PgOp;
use crate::setup::World;
use crate::sql::Sender;

diesel::table! {
    /// The physical limit's table: the least a stored message could be (a key, a room, a
    /// text), logged like `messages`, with only its primary key as index.
    chat_bench_physical (id) {
        id -> BigInt,
        room -> BigInt,
        body -> Text,
    }
}

/// The messages a list row reads, and what (c) checks that it read.
pub const PAGE: i64 = 50;

/// Creates the physical limit's table, if the run has not yet.
pub fn create_physical_table(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS chat_bench_physical (\
             id bigserial PRIMARY KEY, room bigint NOT NULL, body text NOT NULL)",
    )
    .context("creating chat_bench_physical")
}

/// The content of the send of client `task` on its `iteration`-th turn: the HTTP row's,
/// and (a)'s and (b)'s, so that all three write the same text.
pub fn content(task: usize, iteration: u64) -> String {
    format!("bench message {task}-{iteration}")
}

/// The room and sender of the send rows' client `task` on its `iteration`-th turn: in the
/// hot room each client is one participant; else clients walk the 100 rooms. Answers an
/// index into [`send_targets`].
pub fn send_target(hot: bool, task: usize, iteration: u64, concurrency: usize, n: usize) -> usize {
    if hot {
        task % n.max(1)
    } else {
        crate::spread(task, iteration, concurrency, n)
    }
}

/// The rooms (id, UUID) and senders of a send row, in the order [`send_target`] picks.
pub fn send_targets(world: &World, hot: bool) -> Vec<(i64, String, Sender)> {
    if hot {
        world
            .hot_senders
            .iter()
            .map(|s| (world.hot_room.id, world.hot_room.uuid.clone(), s.clone()))
            .collect()
    } else {
        world
            .send_rooms
            .iter()
            .map(|(room, s)| (room.id, room.uuid.clone(), s.clone()))
            .collect()
    }
}

/// (a): one prepared single-row INSERT into `chat_bench_physical` per transaction, with
/// the room and content the HTTP row's client would send.
pub fn physical_insert(world: &World, hot: bool, concurrency: usize) -> PgOp {
    let targets = Arc::new(send_targets(world, hot));
    Arc::new(move |conn, task, iteration| {
        let (room, _, _) = &targets[send_target(hot, task, iteration, concurrency, targets.len())];
        insert_physical(conn, *room, &content(task, iteration))
    })
}

fn insert_physical(conn: &mut PgConnection, room: i64, body: &str) -> anyhow::Result<()> {
    use chat_bench_physical::dsl;
    diesel::insert_into(dsl::chat_bench_physical)
        .values((dsl::room.eq(room), dsl::body.eq(body)))
        .execute(conn)?;
    Ok(())
}

/// (b): the store's send of the message the HTTP row's client would send, statement for
/// statement as the server issues it: the send's context (the room by UUID, the sender by
/// their `sender_id` with their membership), then the append.
pub fn send_statement(world: &World, hot: bool, concurrency: usize) -> anyhow::Result<PgOp> {
    let account = AccountId(world.account_id);
    let targets = send_targets(world, hot)
        .into_iter()
        .map(|(_, uuid, sender)| Ok((Uuid::parse_str(&uuid)?, sender)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let targets = Arc::new(targets);
    Ok(Arc::new(move |conn, task, iteration| {
        let (room, sender) =
            &targets[send_target(hot, task, iteration, concurrency, targets.len())];
        send_as_the_server(conn, account, *room, sender, &content(task, iteration))
    }))
}

/// What the server's store runs for one send of `content` by `sender` to `room`.
fn send_as_the_server(
    conn: &mut PgConnection,
    account: AccountId,
    room: Uuid,
    sender: &Sender,
    content: &str,
) -> anyhow::Result<()> {
    let speaker = Some(Speaker::ChatId(sender.label.clone()));
    let context =
        chat_store_pg::bench::send_context(conn, account, RoomRef::Uuid(room), speaker, None)?;
    if !matches!(context.speaker, Some((_, true))) {
        bail!("the send's context did not find the sender a member of the room");
    }
    let new = new_message(sender, content)?;
    let (_, created) = chat_store_pg::bench::append(conn, account, context.room.id, new)?;
    if !created {
        bail!("the store answered an earlier message instead of storing the send");
    }
    Ok(())
}

/// The message the server's send use case hands the store for `POST …/messages` with
/// the API key and `{"sender_id", "content"}` only: the participant speaks, under their
/// own name, a text message without meta, reply, echo id, files or mentions.
pub fn new_message(sender: &Sender, content: &str) -> anyhow::Result<NewMessage> {
    Ok(NewMessage {
        sender: chat_domain::Sender::User {
            id: UserId(sender.user_id),
            label: sender.label.clone(),
        },
        sender_name: Some(sender.name.clone()),
        content: Content::parse(content).map_err(|e| anyhow!("content refused: {e:?}"))?,
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        attachments: Vec::new(),
        mentions: Vec::new(),
    })
}

/// The filter of `GET /api/v1/rooms/{uuid}/messages?limit=50`.
pub fn newest_page() -> anyhow::Result<MessageFilter> {
    let window = Window::new(0, PAGE, Window::MAX_LIMIT)
        .map_err(|e| anyhow!("the window of {PAGE} is refused: {e:?}"))?;
    Ok(MessageFilter::newest(window))
}

/// (c): the store's page of the newest 50 of the room the list row's client would read,
/// named by UUID as the ChatAPI dialect names it; a page short of 50 is an error (every
/// room holds more).
pub fn list_select(world: &World, concurrency: usize) -> anyhow::Result<PgOp> {
    let account = AccountId(world.account_id);
    let rooms: Vec<Uuid> = world
        .send_rooms
        .iter()
        .map(|(room, _)| Uuid::parse_str(&room.uuid).context("a room's UUID"))
        .collect::<anyhow::Result<_>>()?;
    let rooms = Arc::new(rooms);
    let filter = Arc::new(newest_page()?);
    Ok(Arc::new(move |conn, task, iteration| {
        let room = rooms[crate::spread(task, iteration, concurrency, rooms.len())];
        let (_, messages, _) =
            chat_store_pg::bench::room_page(conn, account, RoomRef::Uuid(room), &filter)?;
        if messages.len() as i64 != PAGE {
            bail!("the page held {} messages, not {PAGE}", messages.len());
        }
        Ok(())
    }))
}

#[derive(Debug, QueryableByName)]
struct PreparedCount {
    #[diesel(sql_type = BigInt)]
    statements: i64,
    #[diesel(sql_type = BigInt)]
    executions: i64,
    #[diesel(sql_type = BigInt)]
    generic: i64,
    #[diesel(sql_type = Text)]
    synchronous_commit: String,
}

/// What `op` leaves prepared: run `calls` times as client 0 on a fresh connection to
/// `url`, then read that connection's `pg_prepared_statements` (the named statements it
/// holds, how many times they ran, `generic_plans + custom_plans`, and how many of those
/// on a generic plan). Answers a line
/// for the report.
pub fn prepared(url: &str, name: &str, op: &PgOp, calls: u64) -> anyhow::Result<String> {
    let mut conn = crate::load::connect_as_server(url)?;
    for iteration in 0..calls {
        op(&mut conn, 0, iteration).with_context(|| format!("{name}, before the load"))?;
    }
    let count: PreparedCount = sql_query(
        "SELECT count(*)::bigint AS statements, \
                COALESCE(sum(generic_plans + custom_plans), 0)::bigint AS executions, \
                COALESCE(sum(generic_plans), 0)::bigint AS generic, \
                current_setting('synchronous_commit') AS synchronous_commit \
         FROM pg_prepared_statements",
    )
    .get_result(&mut conn)
    .context("reading pg_prepared_statements")?;
    Ok(format!(
        "{name}: {calls} calls on a fresh connection (`synchronous_commit={}`) left {} named \
         prepared statement(s), executed {} times ({} on a generic plan)",
        count.synchronous_commit, count.statements, count.executions, count.generic
    ))
}

#[cfg(test)]
mod tests {
    use chat_test_db::TestDatabase;

    use super::*;

    fn sender() -> Sender {
        Sender {
            user_id: 7,
            label: "p-3".into(),
            name: "Bench p-3".into(),
        }
    }

    #[test]
    fn the_send_rows_walk_their_targets_as_the_http_row_does() {
        // In the hot room client 5 of 8 senders is always sender 5.
        assert_eq!(send_target(true, 5, 0, 32, 8), 5);
        assert_eq!(send_target(true, 5, 9, 32, 8), 5);
        // Over 100 rooms, clients walk the rooms in step.
        assert_eq!(send_target(false, 3, 1, 32, 100), 35);
    }

    #[test]
    fn the_store_gets_the_message_of_the_http_send() -> anyhow::Result<()> {
        let new = new_message(&sender(), &content(4, 11))?;
        assert_eq!(
            new.sender,
            chat_domain::Sender::User {
                id: UserId(7),
                label: "p-3".into()
            }
        );
        assert_eq!(new.sender_name.as_deref(), Some("Bench p-3"));
        assert_eq!(new.content.as_str(), "bench message 4-11");
        assert_eq!(new.kind, MessageKind::Text);
        assert!(new.meta.into_map().is_empty());
        assert!(new.echo_id.is_none() && new.reply_to.is_none());
        assert!(new.attachments.is_empty() && new.mentions.is_empty());
        Ok(())
    }

    #[test]
    fn the_list_limit_reads_the_newest_50_unfiltered() -> anyhow::Result<()> {
        let filter = newest_page()?;
        let window = Window {
            offset: 0,
            limit: 50,
        };
        assert_eq!(filter, MessageFilter::newest(window));
        Ok(())
    }

    #[test]
    fn the_physical_insert_is_one_prepared_statement() -> anyhow::Result<()> {
        let db = TestDatabase::new();
        let mut conn = PgConnection::establish(db.url())?;
        create_physical_table(&mut conn)?;
        let op: PgOp =
            Arc::new(|conn, task, iteration| insert_physical(conn, 9, &content(task, iteration)));
        let line = prepared(db.url(), "(a)", &op, 3)?;
        assert!(
            line.ends_with(
                "left 1 named prepared statement(s), executed 3 times (3 on a generic plan)"
            ),
            "{line}"
        );
        let stored: i64 = chat_bench_physical::table
            .filter(chat_bench_physical::room.eq(9))
            .count()
            .get_result(&mut conn)?;
        assert_eq!(stored, 3);
        Ok(())
    }
}
