//! The sending thread: runs `pg_notify` for each queued payload on a connection of its
//! own, reconnecting (with backoff) when that fails.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::shared::{Backoff, Shared, TICK};
use crate::wire::CHANNEL;

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
        while !self.shared.stopped() {
            match notices.recv_timeout(TICK) {
                Ok(payload) => self.send(&payload),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    /// Sends one payload; when that fails, reconnects and tries once more, then drops it.
    /// (A notification whose failure was only reported after it was sent may go twice;
    /// notices say what to read again, so that does no harm.)
    fn send(&mut self, payload: &str) {
        for attempt in 1..=2 {
            let Some(conn) = self.connection() else {
                return;
            };
            let sent = diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(payload)
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
        tracing::warn!("relay: notice dropped after two failed attempts");
    }

    /// The sending connection, connecting (with backoff) when there is none; `None` when
    /// the relay is stopped meanwhile.
    fn connection(&mut self) -> Option<&mut PgConnection> {
        while self.conn.is_none() {
            if self.shared.stopped() {
                return None;
            }
            match PgConnection::establish(&self.url) {
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
