//! Group commit: the plain sends ([`batch::is_plain`]: no files, mentions or reply) of
//! all callers go to one thread,
//! which stores whatever has arrived meanwhile in one statement and one transaction
//! ([`batch::append_all`]): one round trip, one commit (one WAL flush), and one turn at
//! each room's row lock for many sends. One send alone is stored by the statement of one
//! send, as before.
//!
//! A batch that fails stores nothing (one transaction); its sends are then stored one by
//! one, each in its own transaction, so that one bad send fails alone and each gets its
//! own answer. The thread keeps one pooled connection; a lost one is replaced on the next
//! batch. The thread ends when the last clone of the store is dropped.

use std::sync::mpsc::{self, Receiver};
use std::thread;

use anyhow::anyhow;
use chat_app::StoreError;
use chat_domain::Message;
use diesel::PgConnection;

use super::append;
use super::batch::{self, BatchedRow, MAX_BATCH};
use super::rows::StoredMessage;
use crate::send_queue::{Answer, Job, SendQueue};
use crate::{Pool, connection_lost};

/// Starts the thread, which stores on connections of `pool`, and answers its queue.
pub(crate) fn start(pool: Pool) -> std::io::Result<SendQueue> {
    let (queue, jobs) = mpsc::channel();
    thread::Builder::new()
        .name("chat-send-commit".to_owned())
        .spawn(move || run(&pool, &jobs))?;
    Ok(SendQueue::new(queue))
}

/// The thread: waits for a send, takes every other one queued behind it (up to
/// [`MAX_BATCH`]), stores them, answers each; until the queue closes.
fn run(pool: &Pool, jobs: &Receiver<Job>) {
    let mut conn = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let connection = match &mut conn {
            Some(connection) => connection,
            None => match pool.get() {
                Ok(connection) => conn.insert(connection),
                Err(error) => {
                    let error = anyhow!(error).context("no database connection");
                    for job in batch {
                        let unavailable = StoreError::Unavailable(anyhow!("{error:#}"));
                        // A caller that stopped waiting needs no answer.
                        let _ = job.answer.send(Err(unavailable));
                    }
                    continue;
                }
            },
        };
        if !store(connection, batch) {
            conn = None;
        }
    }
}

/// Stores `batch` and answers each send; `false` when the connection was lost.
fn store(conn: &mut PgConnection, mut batch: Vec<Job>) -> bool {
    if batch.len() > 1 {
        let sends: Vec<_> = batch
            .iter()
            .map(|job| (job.account, job.room, &job.new))
            .collect();
        match batch::append_all(conn, &sends) {
            Ok(rows) => {
                let mut alone = Vec::new();
                for (job, row) in batch.into_iter().zip(rows) {
                    match row {
                        Some(row) => {
                            let _ = job.answer.send(message(row));
                        }
                        // Not the account's room: stored alone, it answers why.
                        None => alone.push(job),
                    }
                }
                batch = alone;
            }
            Err(error) if connection_lost(&error) => {
                for job in batch {
                    let lost = StoreError::Unavailable(anyhow!("{error}"));
                    let _ = job.answer.send(Err(lost));
                }
                return false;
            }
            // Stored nothing: each send alone, for its own answer.
            Err(_) => {}
        }
    }
    let mut alive = true;
    for job in batch {
        let answer = append::append(conn, job.account, job.room, job.new);
        if let Err(StoreError::Unavailable(_)) = &answer {
            alive = false;
        }
        let _ = job.answer.send(answer);
    }
    alive
}

/// The message of a stored row (a plain send has no files).
fn message(row: BatchedRow) -> Answer {
    let BatchedRow { row, room_uuid } = row;
    let stored = StoredMessage {
        row,
        room_uuid,
        attachments: Vec::new(),
    };
    Ok((Message::try_from(stored)?, true))
}

#[cfg(test)]
mod tests {
    use chat_app::NewMessage;
    use chat_domain::{Content, EchoId, MessageKind, MessageMeta, Sender, UserId};
    use chat_test_db::TestDatabase;
    use diesel::sql_types::BigInt;
    use diesel::{Connection, QueryableByName, RunQueryDsl};

    use chat_domain::{AccountId, RoomId};
    use tokio::sync::oneshot;

    use super::*;

    /// Account 1 with users 1 (external id `u-1`) and 2, both in rooms 1 and 2; account 2
    /// with room 3.
    fn database() -> (TestDatabase, PgConnection) {
        let db = crate::testing::migrated_database();
        let mut conn =
            PgConnection::establish(db.url()).unwrap_or_else(|e| panic!("the test database: {e}"));
        for sql in [
            "INSERT INTO accounts (name) VALUES ('one'), ('two')",
            "INSERT INTO users (account_id, name, role, external_id) \
             VALUES (1, 'Ada', 'agent', 'u-1'), (1, 'Bob', 'agent', NULL)",
            "INSERT INTO rooms (account_id, name) VALUES (1, 'A'), (1, 'B'), (2, 'C')",
            "INSERT INTO room_members (account_id, room_id, user_id) \
             VALUES (1, 1, 1), (1, 1, 2), (1, 2, 1), (1, 2, 2)",
        ] {
            diesel::sql_query(sql)
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        crate::session::configure(&mut conn).unwrap_or_else(|e| panic!("session: {e}"));
        (db, conn)
    }

    fn text(user: i64, content: &str) -> NewMessage {
        let label = if user == 1 {
            "u-1".to_owned()
        } else {
            user.to_string()
        };
        NewMessage {
            sender: Sender::User {
                id: UserId(user),
                label,
            },
            sender_name: Some(format!("User {user}")),
            content: Content::parse(content).unwrap_or_else(|e| panic!("{e:?}")),
            kind: MessageKind::Text,
            meta: MessageMeta::default(),
            reply_to: None,
            echo_id: None,
            attachments: Vec::new(),
            mentions: Vec::new(),
        }
    }

    /// Jobs for `sends` (account, room, message), and the receivers of their answers.
    fn jobs(sends: Vec<(i64, i64, NewMessage)>) -> (Vec<Job>, Vec<oneshot::Receiver<Answer>>) {
        sends
            .into_iter()
            .map(|(account, room, new)| {
                let (answer, answered) = oneshot::channel();
                let job = Job {
                    account: AccountId(account),
                    room: RoomId(room),
                    new,
                    answer,
                };
                (job, answered)
            })
            .unzip()
    }

    fn answered(mut receiver: oneshot::Receiver<Answer>) -> Answer {
        receiver
            .try_recv()
            .unwrap_or_else(|e| panic!("a send was not answered: {e}"))
    }

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Room {
        #[diesel(sql_type = BigInt)]
        last_seq: i64,
        #[diesel(sql_type = BigInt)]
        message_count: i64,
    }

    fn room(conn: &mut PgConnection, id: i64) -> Room {
        diesel::sql_query(format!(
            "SELECT last_seq, message_count FROM rooms WHERE id = {id}"
        ))
        .get_result(conn)
        .unwrap_or_else(|e| panic!("room {id}: {e}"))
    }

    /// How many distinct times the room's messages carry: 1 when one statement stored
    /// them all (a batch shares its room's time), one per message when stored one by one.
    fn times(conn: &mut PgConnection, room: i64) -> i64 {
        #[derive(QueryableByName)]
        struct Times {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        diesel::sql_query(format!(
            "SELECT count(DISTINCT created_at) AS n FROM messages WHERE room_id = {room}"
        ))
        .get_result::<Times>(conn)
        .unwrap_or_else(|e| panic!("times: {e}"))
        .n
    }

    fn read_seq(conn: &mut PgConnection, room: i64, user: i64) -> i64 {
        #[derive(QueryableByName)]
        struct Read {
            #[diesel(sql_type = BigInt)]
            last_read_seq: i64,
        }
        diesel::sql_query(format!(
            "SELECT last_read_seq FROM room_members WHERE room_id = {room} AND user_id = {user}"
        ))
        .get_result::<Read>(conn)
        .unwrap_or_else(|e| panic!("position: {e}"))
        .last_read_seq
    }

    #[test]
    fn a_batch_stores_each_send_in_arrival_order_and_refuses_another_accounts_room() {
        let (_db, mut conn) = database();
        let (batch, answers) = jobs(vec![
            (1, 1, text(1, "a1")),
            (1, 2, text(2, "b1")),
            (1, 1, text(2, "a2")),
            (1, 3, text(1, "elsewhere")),
            (1, 1, text(1, "a3")),
        ]);
        assert!(store(&mut conn, batch));
        let answers: Vec<Answer> = answers.into_iter().map(answered).collect();
        let stored: Vec<(i64, i64, String)> = answers
            .iter()
            .filter_map(|answer| answer.as_ref().ok())
            .map(|(message, created)| {
                assert!(created);
                (
                    message.room_id.0,
                    message.seq.0,
                    message.content.as_str().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            stored,
            [
                (1, 1, "a1".to_owned()),
                (2, 1, "b1".to_owned()),
                (1, 2, "a2".to_owned()),
                (1, 3, "a3".to_owned()),
            ]
        );
        assert!(
            matches!(answers[3], Err(StoreError::NotFound)),
            "{:?}",
            answers[3]
        );
        let senders: Vec<String> = answers
            .iter()
            .filter_map(|answer| answer.as_ref().ok())
            .map(|(message, _)| format!("{:?}", message.sender))
            .collect();
        assert!(
            senders[0].contains("u-1") && senders[1].contains("\"2\""),
            "{senders:?}"
        );
        assert_eq!(
            room(&mut conn, 1),
            Room {
                last_seq: 3,
                message_count: 3
            }
        );
        assert_eq!(
            room(&mut conn, 2),
            Room {
                last_seq: 1,
                message_count: 1
            }
        );
        assert_eq!(
            room(&mut conn, 3),
            Room {
                last_seq: 0,
                message_count: 0
            }
        );
        // One statement stored them (not the fallback, one by one).
        assert_eq!(times(&mut conn, 1), 1);
        // Each sender has read up to their own newest message of the room.
        assert_eq!(read_seq(&mut conn, 1, 1), 3);
        assert_eq!(read_seq(&mut conn, 1, 2), 2);
        assert_eq!(read_seq(&mut conn, 2, 2), 1);
        assert_eq!(read_seq(&mut conn, 2, 1), 0);
    }

    #[test]
    fn a_failed_batch_stores_its_sends_one_by_one_and_only_the_bad_one_fails() {
        let (_db, mut conn) = database();
        let mut bad = text(2, "too long a name");
        // Past the table's check (the domain bounds names before they get here).
        bad.sender_name = Some("x".repeat(300));
        let (batch, answers) = jobs(vec![
            (1, 1, text(1, "first")),
            (1, 1, bad),
            (1, 1, text(2, "third")),
        ]);
        assert!(store(&mut conn, batch));
        let answers: Vec<Answer> = answers.into_iter().map(answered).collect();
        let seqs: Vec<Option<i64>> = answers
            .iter()
            .map(|answer| answer.as_ref().ok().map(|(message, _)| message.seq.0))
            .collect();
        assert_eq!(seqs, [Some(1), None, Some(2)]);
        // Stored one by one, each at its own time.
        assert_eq!(times(&mut conn, 1), 2);
        assert!(
            matches!(answers[1], Err(StoreError::Unexpected(_))),
            "{:?}",
            answers[1]
        );
        assert_eq!(
            room(&mut conn, 1),
            Room {
                last_seq: 2,
                message_count: 2
            }
        );
    }

    #[test]
    fn a_repeated_echo_id_in_a_batch_answers_the_first_message_and_stores_the_others() {
        let (_db, mut conn) = database();
        let echo = |new: NewMessage, id: &str| NewMessage {
            echo_id: Some(EchoId::parse(id).unwrap_or_else(|e| panic!("{e:?}"))),
            ..new
        };
        let (first, answers) = jobs(vec![(1, 1, echo(text(1, "hello"), "e-1"))]);
        assert!(store(&mut conn, first));
        let first = answered(
            answers
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("no answer")),
        );
        let (first, created) = first.unwrap_or_else(|e| panic!("first send: {e:?}"));
        assert!(created);
        let (batch, answers) = jobs(vec![
            (1, 1, echo(text(2, "new"), "e-2")),
            (1, 1, echo(text(1, "hello again"), "e-1")),
            (1, 1, echo(text(2, "twice"), "e-3")),
            (1, 1, echo(text(2, "twice, retried"), "e-3")),
        ]);
        assert!(store(&mut conn, batch));
        let answers: Vec<(i64, bool, String)> = answers
            .into_iter()
            .map(answered)
            .map(|answer| {
                let (message, created) = answer.unwrap_or_else(|e| panic!("{e:?}"));
                (message.seq.0, created, message.content.as_str().to_owned())
            })
            .collect();
        assert_eq!(
            answers,
            [
                (2, true, "new".to_owned()),
                (first.seq.0, false, "hello".to_owned()),
                (3, true, "twice".to_owned()),
                (3, false, "twice".to_owned()),
            ]
        );
        assert_eq!(
            room(&mut conn, 1),
            Room {
                last_seq: 3,
                message_count: 3
            }
        );
    }

    #[test]
    fn a_batch_records_the_webhook_outbox_and_the_search_language_as_one_send_does() {
        let (_db, mut conn) = database();
        for sql in [
            // Room 1 speaks German; room 2 has no language. One webhook of account 1
            // listens to room 1 only.
            "UPDATE rooms SET meta = '{\"language\": \"de\"}' WHERE id = 1",
            "INSERT INTO webhooks (account_id, url, events, secret, room_filters) \
             SELECT 1, 'https://example.com/hook', ARRAY['message.created'], 's', ARRAY[uuid] \
             FROM rooms WHERE id = 1",
        ] {
            diesel::sql_query(sql)
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let mut french = text(2, "bonjour");
        french.meta = MessageMeta::parse(
            serde_json::json!({"language": "fr"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let (batch, answers) = jobs(vec![
            (1, 1, text(1, "hallo")),
            (1, 2, text(1, "hello")),
            (1, 1, french),
        ]);
        assert!(store(&mut conn, batch));
        for answer in answers.into_iter().map(answered) {
            assert!(answer.is_ok(), "{answer:?}");
        }
        #[derive(QueryableByName, Debug, PartialEq)]
        struct Stored {
            #[diesel(sql_type = diesel::sql_types::Text)]
            content: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            config: String,
            #[diesel(sql_type = BigInt)]
            events: i64,
            #[diesel(sql_type = BigInt)]
            deliveries: i64,
        }
        let stored: Vec<Stored> = diesel::sql_query(
            "SELECT m.content, m.search_config::text AS config, \
                    (SELECT count(*) FROM webhook_events e WHERE e.message_id = m.id \
                        AND e.event = 'message.created') AS events, \
                    (SELECT count(*) FROM webhook_deliveries d \
                        JOIN webhook_events e ON e.id = d.event_id \
                      WHERE e.message_id = m.id) AS deliveries \
             FROM messages m ORDER BY m.id",
        )
        .load(&mut conn)
        .unwrap_or_else(|e| panic!("messages: {e}"));
        let row = |content: &str, config: &str, n: i64| Stored {
            content: content.to_owned(),
            config: config.to_owned(),
            events: n,
            deliveries: n,
        };
        assert_eq!(
            stored,
            [
                row("hallo", "german", 1),
                row("hello", "english", 0),
                row("bonjour", "french", 1),
            ]
        );
        // One statement stored them (not the fallback, one by one).
        assert_eq!(times(&mut conn, 1), 1);
    }
}
