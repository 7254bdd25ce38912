//! Growing the history to a given number of stored messages, in bulk: new rooms of the
//! benchmark's account, each with `PER_ROOM` messages (see `sql::history_rooms`), written
//! by a few connections at once, then `ANALYZE`.
//!
//! Each message's content is a sentence of the benchmark's corpus (`crate::corpus`: words
//! of a fixed vocabulary with a Zipf spread), so that search has real words to find.
//!
//! As bulk loads usually are, it is done without the indexes that back no constraint
//! (the secondary B-trees, the trigram GIN index and the full-text search GIN index
//! `messages_search_idx` of `messages`): they are dropped and
//! then built again from their own definitions (`pg_get_indexdef`), which is about twice
//! as fast as updating them row by row. The constraints' indexes (primary key, the UUID,
//! `(room_id, seq)`, `(room_id, id)`) stay and check every row.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::corpus::Corpus;
use crate::sql::{self, Sender};
use crate::ui::Ui;

/// Messages in each history room.
pub const PER_ROOM: i64 = 10_000;

/// Rooms per statement (one transaction each).
const ROOMS_PER_BATCH: i64 = 10;

/// Connections inserting at once.
const WRITERS: usize = 2;

/// What growing took.
#[derive(Debug, Clone)]
pub struct Grown {
    pub added: i64,
    pub insert: Duration,
    /// The indexes dropped for the load and built again, by name.
    pub indexes: Vec<String>,
    pub rebuild: Duration,
}

/// Adds history until `target` messages are stored in all.
pub fn grow_to(
    ui: &Ui,
    database_url: &str,
    conn: &mut PgConnection,
    account: i64,
    sender: &Sender,
    target: i64,
) -> anyhow::Result<Grown> {
    let stored = sql::stored_messages(conn)?;
    let need = target - stored;
    if need <= 0 {
        return Ok(Grown {
            added: 0,
            insert: Duration::ZERO,
            indexes: Vec::new(),
            rebuild: Duration::ZERO,
        });
    }
    sql::conversations::store_sentences(conn, &Corpus::new().history())?;
    let indexes = sql::plain_message_indexes(conn)?;
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX {}", index.name))
            .with_context(|| format!("dropping {} for the bulk load", index.name))?;
    }
    let began = Instant::now();
    let inserted = insert(ui, database_url, account, sender, stored, target);
    let insert_took = began.elapsed();
    // Build the indexes again whatever happened.
    let began = Instant::now();
    let rebuilt = rebuild(ui, database_url, &indexes);
    let rebuild_took = began.elapsed();
    inserted?;
    rebuilt?;
    sql::settle(conn)?;
    Ok(Grown {
        added: need,
        insert: insert_took,
        indexes: indexes.iter().map(|i| i.name.clone()).collect(),
        rebuild: rebuild_took,
    })
}

/// A connection for bulk work: commits not waited for, room to sort, no parallel workers
/// (the writers already use the cores).
fn bulk_connection(url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::establish(url).context("connecting")?;
    conn.batch_execute(
        "SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; \
         SET work_mem = '64MB'; SET max_parallel_maintenance_workers = 0",
    )?;
    Ok(conn)
}

/// Runs `work(conn, i)` for i in 0..jobs over `WRITERS` connections, showing `done`.
fn on_writers(
    ui: &Ui,
    label: String,
    url: &str,
    jobs: usize,
    total: u64,
    work: impl Fn(&mut PgConnection, usize) -> anyhow::Result<u64> + Send + Sync + 'static,
) -> anyhow::Result<()> {
    let bar = ui.counter(total, label);
    let done = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let writers: Vec<_> = (0..WRITERS.min(jobs.max(1)))
        .map(|w| {
            let url = url.to_owned();
            let done = done.clone();
            let next = next.clone();
            let work = work.clone();
            thread::Builder::new()
                .name(format!("bulk-{w}"))
                .spawn(move || -> anyhow::Result<()> {
                    let mut conn = bulk_connection(&url)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs {
                            return Ok(());
                        }
                        let n = work(&mut conn, i)?;
                        done.fetch_add(n, Ordering::Relaxed);
                    }
                })
                .context("starting a bulk writer")
        })
        .collect::<anyhow::Result<_>>()?;
    while !writers.iter().all(|w| w.is_finished()) {
        bar.set_position(done.load(Ordering::Relaxed));
        thread::sleep(Duration::from_millis(100));
    }
    ui.done(&bar);
    let mut first_error = None;
    for writer in writers {
        let result = writer
            .join()
            .map_err(|_| anyhow!("a bulk writer panicked"))
            .and_then(|r| r);
        if let Err(error) = result {
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Inserts the history rooms: whole rooms of `PER_ROOM`, then one room with the rest.
fn insert(
    ui: &Ui,
    url: &str,
    account: i64,
    sender: &Sender,
    stored: i64,
    target: i64,
) -> anyhow::Result<()> {
    let need = target - stored;
    let mut batches: Vec<(i64, i64)> = Vec::new();
    let mut rooms = need / PER_ROOM;
    while rooms > 0 {
        let n = rooms.min(ROOMS_PER_BATCH);
        batches.push((n, PER_ROOM));
        rooms -= n;
    }
    if need % PER_ROOM > 0 {
        batches.push((1, need % PER_ROOM));
    }
    let sender = sender.clone();
    on_writers(
        ui,
        format!("history: {stored} → {target} messages"),
        url,
        batches.len(),
        u64::try_from(need).unwrap_or(0),
        move |conn, i| {
            let (rooms, per_room) = batches[i];
            let added = sql::history_rooms(conn, account, &sender, rooms, per_room)?;
            Ok(added as u64)
        },
    )
}

/// Builds the dropped indexes again, largest first.
fn rebuild(ui: &Ui, url: &str, indexes: &[sql::IndexDef]) -> anyhow::Result<()> {
    let definitions: Vec<String> = indexes.iter().map(|i| i.definition.clone()).collect();
    on_writers(
        ui,
        format!("history: building {} indexes again", definitions.len()),
        url,
        definitions.len(),
        definitions.len() as u64,
        move |conn, i| {
            conn.batch_execute(&definitions[i])
                .with_context(|| format!("building {}", definitions[i]))?;
            Ok(1)
        },
    )
}
