//! The relay between server nodes over PostgreSQL: [`PgRelay`], the [`EventRelay`] that
//! carries [`Notice`]s with `LISTEN/NOTIFY`, and hands what other nodes send to a
//! [`RelayInbox`].
//!
//! It is an adapter of its own, beside the store: it has connections of its own, on
//! threads of its own (a listening connection is held for as long as the relay listens,
//! and sending must never wait for a pooled connection). The payloads
//! ([`encode_notice`], [`decode_notice`]) are the JSON of `chat_relay_wire`, shared with
//! the other relays; `wire` adds PostgreSQL's channel and size limit. The two threads are
//! in `sender` and `listener`.

#![warn(missing_docs)]

mod conninfo;
mod listener;
mod sender;
mod shared;
mod wire;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use chat_app::{EventRelay, Notice, RelayInbox};
use uuid::Uuid;

use crate::conninfo::with_application_name;
use crate::listener::{Listener, connect_listening};
use crate::sender::Sender;
use crate::shared::Shared;
pub use crate::wire::{decode_notice, encode_notice};

/// The `application_name` of the listening connection (find it in `pg_stat_activity`).
const LISTEN_APPLICATION: &str = "chat-relay-listen";

/// The `application_name` of the sending connection.
const SEND_APPLICATION: &str = "chat-relay-send";

/// Notices waiting for the sending thread; past this, [`PgRelay::relay`] drops them.
const QUEUE_CAPACITY: usize = 1024;

/// How long [`PgRelay::stop`] waits for its threads to finish before leaving them to
/// finish on their own (a thread stuck in a connection attempt).
const STOP_WAIT: Duration = Duration::from_secs(2);

/// Carries [`Notice`]s between server nodes over PostgreSQL `LISTEN/NOTIFY` on channel
/// `chat_events`, on connections (and threads) of its own.
///
/// [`relay`](EventRelay::relay) hands the notice to a sending thread through a bounded
/// queue and returns at once; that thread runs `pg_notify` on its own connection and
/// reconnects when it fails. [`listen`](PgRelay::listen) starts a thread that holds a
/// listening connection and hands what other nodes send to a [`RelayInbox`]; when that
/// connection is lost it reconnects and calls [`RelayInbox::resync`], as notifications
/// sent meanwhile are lost.
pub struct PgRelay {
    node: Uuid,
    listen_url: String,
    shared: Arc<Shared>,
    queue: SyncSender<String>,
    listening: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for PgRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URLs: they may carry a password.
        f.debug_struct("PgRelay")
            .field("node", &self.node)
            .field("listening", &self.listening.load(Ordering::Relaxed))
            .field("stopped", &self.shared.stopped())
            .finish_non_exhaustive()
    }
}

impl PgRelay {
    /// A relay for this node over `database_url` (its own connections, not the pool's).
    /// Sends nothing yet: the sending thread starts now, and connects with the first
    /// notice.
    pub fn new(database_url: &str, node: Uuid) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::default());
        let (queue, notices) = mpsc::sync_channel(QUEUE_CAPACITY);
        let sender = Sender::new(
            with_application_name(database_url, SEND_APPLICATION),
            shared.clone(),
        );
        let handle = thread::Builder::new()
            .name("chat-relay-send".to_owned())
            .spawn(move || sender.run(&notices))
            .context("cannot start the relay's sending thread")?;
        Ok(Self {
            node,
            listen_url: with_application_name(database_url, LISTEN_APPLICATION),
            shared,
            queue,
            listening: AtomicBool::new(false),
            threads: Mutex::new(vec![handle]),
        })
    }

    /// Starts listening on channel `chat_events` on a dedicated thread; notices sent by
    /// OTHER nodes are handed to `inbox.received`. After the listening connection is
    /// lost and established again, `inbox.resync()` is called (notifications sent
    /// meanwhile are lost). Polls for notifications every `poll` (5 ms is the intended
    /// value).
    ///
    /// The first connection is attempted here: when it succeeds, notices sent after this
    /// returns are received. When it fails, this still succeeds; the thread keeps trying
    /// (100 ms, doubling up to 2 s) and calls `inbox.resync()` once it listens.
    ///
    /// Errors when the relay already listens or was stopped, or when the thread cannot
    /// be started.
    pub fn listen(&self, inbox: Arc<dyn RelayInbox>, poll: Duration) -> anyhow::Result<()> {
        if self.shared.stopped() {
            anyhow::bail!("the relay was stopped");
        }
        if self.listening.swap(true, Ordering::AcqRel) {
            anyhow::bail!("the relay already listens");
        }
        let conn = match connect_listening(&self.listen_url) {
            Ok(conn) => Some(conn),
            Err(error) => {
                tracing::warn!(
                    error = %format!("{error:#}"),
                    "relay: cannot listen yet; retrying in the background"
                );
                None
            }
        };
        let listener = Listener::new(
            self.listen_url.clone(),
            self.node,
            inbox,
            poll,
            self.shared.clone(),
        );
        let spawned = thread::Builder::new()
            .name("chat-relay-listen".to_owned())
            .spawn(move || listener.run(conn));
        match spawned {
            Ok(handle) => {
                self.threads
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(handle);
                Ok(())
            }
            Err(error) => {
                self.listening.store(false, Ordering::Release);
                Err(anyhow!(error).context("cannot start the relay's listening thread"))
            }
        }
    }

    /// Stops the threads (also on Drop): they close their connections and end. Waits a
    /// moment for them (at most 2 s; a thread in the middle of connecting ends when that
    /// attempt does). Notices still queued are not sent; later ones are dropped.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::Release);
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        let until = Instant::now() + STOP_WAIT;
        let me = thread::current().id();
        for handle in threads {
            // Called from an inbox, on the listening thread itself: it ends on return.
            if handle.thread().id() == me {
                continue;
            }
            while !handle.is_finished() && Instant::now() < until {
                thread::sleep(Duration::from_millis(2));
            }
            if handle.is_finished() && handle.join().is_err() {
                tracing::error!("relay: a relay thread panicked");
            }
        }
    }
}

impl Drop for PgRelay {
    fn drop(&mut self) {
        self.stop();
    }
}

impl EventRelay for PgRelay {
    /// Never blocks: encodes the notice and queues it for the sending thread. A notice
    /// too large for a notification, or one that finds the queue full (the database
    /// slow or away), is logged and dropped.
    fn relay(&self, notice: Notice) {
        if self.shared.stopped() {
            tracing::debug!(?notice, "relay: stopped; notice dropped");
            return;
        }
        let payload = match encode_notice(self.node, &notice) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "relay: notice dropped");
                return;
            }
        };
        match self.queue.try_send(payload) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                if !self.shared.overflowing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        capacity = QUEUE_CAPACITY,
                        "relay: the queue of notices to send is full; dropping notices until it drains"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::warn!("relay: the sending thread has ended; notice dropped");
            }
        }
    }
}

#[cfg(test)]
// Tests stop at the first surprise, with the reason.
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn relay_debug_output_hides_the_url() {
        let relay = PgRelay::new("postgres://user:hunter2@127.0.0.1:1/db", Uuid::nil())
            .expect("relay built");
        let printed = format!("{relay:?}");
        assert!(printed.contains("PgRelay"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
