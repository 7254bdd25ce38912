//! The sending thread: runs `pg_notify` for the queued payloads on a connection of its
//! own, reconnecting (with backoff) when that fails. What has queued up while a statement
//! ran goes in the next one, together (at most [`BATCH`]): one transaction, and one
//! commit of PostgreSQL's notification queue, for many sends under load, in the order
//! queued.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

use crate::shared::{Backoff, Shared, TICK};
use crate::wire::CHANNEL;

/// Most notices sent by one statement.
const BATCH: usize = 256;

/// The sending thread.
pub(crate) struct Sender {
    url: String,
    shared: Arc<Shared>,
    conn: Option<PgConnection>,
    backoff: Backoff,
}

impl Sender {
    /// A sending thread's state, not connected yet: it connects with the first notice.
    pub(crate) fn new(url: String, shared: Arc<Shared>) -> Self {
        Self {
            url,
            shared,
            conn: None,
            backoff: Backoff::new(),
        }
    }

    /// Sends what `notices` hands it until the relay is stopped or the queue is gone.
    pub(crate) fn run(mut self, notices: &Receiver<String>) {
        let mut batch = Vec::with_capacity(BATCH);
        while !self.shared.stopped() {
            match notices.recv_timeout(TICK) {
                Ok(payload) => batch.push(payload),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let gone = fill(&mut batch, notices);
            self.send(&batch);
            batch.clear();
            if gone {
                break;
            }
        }
    }

    /// Sends the payloads, in order, in one statement; when that fails, reconnects and
    /// tries once more, then drops them. (Notifications whose failure was only reported
    /// after they were sent may go twice; notices say what to read again, so that does no
    /// harm.)
    fn send(&mut self, payloads: &[String]) {
        for attempt in 1..=2 {
            let Some(conn) = self.connection() else {
                return;
            };
            // unnest yields the array in order, each row's pg_notify runs as it comes, and
            // the notifications of one transaction are delivered in the order sent.
            let sent = diesel::sql_query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
                .bind::<Text, _>(CHANNEL)
                .bind::<Array<Text>, _>(payloads)
                .execute(conn);
            match sent {
                Ok(_) => {
                    self.backoff.reset();
                    if self.shared.overflowing.swap(false, Ordering::AcqRel) {
                        tracing::warn!(
                            dropped = self.shared.dropped.swap(0, Ordering::Relaxed),
                            "relay: the queue of notices to send drained"
                        );
                    }
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, "relay: cannot send a notice; reconnecting");
                    self.conn = None;
                }
            }
        }
        tracing::warn!(
            notices = payloads.len(),
            "relay: notices dropped after two failed attempts"
        );
    }

    /// The sending connection, connecting (with backoff) when there is none; `None` when
    /// the relay is stopped meanwhile.
    fn connection(&mut self) -> Option<&mut PgConnection> {
        while self.conn.is_none() {
            if self.shared.stopped() {
                return None;
            }
            match connect(&self.url) {
                Ok(conn) => self.conn = Some(conn),
                Err(error) => {
                    tracing::warn!(%error, "relay: cannot connect to send notices");
                    if !self.shared.pause(self.backoff.next()) {
                        return None;
                    }
                }
            }
        }
        self.conn.as_mut()
    }
}

/// A connection for sending notices, which commits without waiting for the WAL to reach
/// the disk.
///
/// A transaction that notifies writes a commit record; with `synchronous_commit = on` its
/// commit waited for that record's flush (an fsync per batch of notices, in the same WAL
/// as every send's commit, which queued behind it). Nothing needs a notice to be durable:
/// it is delivered at commit, and a notice lost in a crash is one no listener could have
/// had anyway; listeners catch up from the tables by `seq` when they reconnect.
fn connect(url: &str) -> ConnectionResult<PgConnection> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute("SET synchronous_commit = off")
        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// Adds what is queued already to `batch`, up to [`BATCH`]; whether the queue is gone.
fn fill(batch: &mut Vec<String>, notices: &Receiver<String>) -> bool {
    while batch.len() < BATCH {
        match notices.try_recv() {
            Ok(payload) => batch.push(payload),
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Disconnected) => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use chat_test_db::TestDatabase;

    use super::*;

    #[test]
    fn a_batch_takes_what_is_queued_in_order_up_to_its_size() {
        let (queue, notices) = mpsc::sync_channel(BATCH * 2);
        for n in 0..BATCH + 5 {
            queue
                .send(format!("n{n}"))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let mut batch = vec!["first".to_owned()];
        assert!(!fill(&mut batch, &notices));
        assert_eq!(batch.len(), BATCH);
        assert_eq!(batch[0], "first");
        assert_eq!(batch[1], "n0");
        assert_eq!(batch[BATCH - 1], format!("n{}", BATCH - 2));
        batch.clear();
        drop(queue);
        assert!(fill(&mut batch, &notices));
        assert_eq!(batch.len(), 6);
        assert_eq!(batch[0], format!("n{}", BATCH - 1));
    }

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        synchronous_commit: String,
    }

    #[test]
    fn the_sending_connection_commits_without_waiting_for_the_disk() {
        let db = TestDatabase::new();
        let mut conn = connect(db.url()).unwrap_or_else(|e| panic!("connected: {e}"));
        let setting: Setting = diesel::sql_query("SHOW synchronous_commit")
            .get_result(&mut conn)
            .unwrap_or_else(|e| panic!("the setting: {e}"));
        assert_eq!(setting.synchronous_commit, "off");
        // And it still notifies.
        diesel::sql_query("SELECT pg_notify('chat_test', 'x')")
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("notified: {e}"));
    }
}
