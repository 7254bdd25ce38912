//! The relay between server nodes over NATS: [`NatsRelay`], the [`EventRelay`] that
//! publishes [`Notice`]s on NATS subjects, and hands what other nodes publish to a
//! [`RelayInbox`].
//!
//! The alternative to `chat_relay_pg` for deployments of many nodes: PostgreSQL's
//! `NOTIFY` serialises committing transactions on one global lock, NATS does not touch
//! the database. The payloads are the same JSON (`chat_relay_wire`): ids, and a new
//! message whole when its notice stays within [`MAX_PAYLOAD_BYTES`] (far below NATS's
//! 1 MiB), so that the other nodes deliver it without reading it back. Core NATS is
//! at-most-once, as `LISTEN/NOTIFY` is: what a disconnected node missed it reads from the
//! tables after [`RelayInbox::resync`].
//!
//! Subjects are in `subject`; the publishing and listening tasks in `tasks`; what they
//! share with the handle and the client's event callback in `shared`.

#![warn(missing_docs)]

mod shared;
mod subject;
mod tasks;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context;
use async_nats::{Client, ConnectOptions};
use chat_app::{EventRelay, Notice, RelayInbox};
use chat_relay_wire::encode_notice;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::shared::Shared;
pub use crate::subject::SUBJECT_PREFIX;
use crate::subject::Subjects;
use crate::tasks::{Listener, Outgoing, round_trip};

/// Notices waiting for the publishing task; past this, [`NatsRelay::relay`] drops them.
pub const QUEUE_CAPACITY: usize = 1024;

/// The largest payload published: a new message whose notice would be larger travels as
/// its ids, and the other nodes read it from the tables (a message's text, meta and
/// mentions fit several times over at their usual sizes).
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;

/// How often the client pings the server: a connection that died without the socket
/// saying so is found out after a few missed pongs (NATS's default is every 2 minutes).
const PING_EVERY: Duration = Duration::from_secs(10);

/// How long the round trip after (re)subscribing waits for the server.
const ROUND_TRIP_WAIT: Duration = Duration::from_secs(2);

/// Carries [`Notice`]s between server nodes over NATS, on subjects
/// `{prefix}.{account}.{room}` (a notice about a room) and `{prefix}.{account}._` (about
/// an account as a whole), `chat.events` being the prefix unless told otherwise.
///
/// [`relay`](EventRelay::relay) queues the notice for a publishing task (bounded: a full
/// queue drops, counts and logs) and returns at once. [`listen`](NatsRelay::listen)
/// subscribes to `{prefix}.*.*` and hands what OTHER nodes publish to a [`RelayInbox`].
/// The client reconnects by itself (and subscribes again); after every reconnection the
/// inbox is asked to [`resync`](RelayInbox::resync), as notices published meanwhile are
/// lost. Its tasks run on the tokio runtime `connect` was called on.
pub struct NatsRelay {
    node: Uuid,
    subjects: Subjects,
    /// `None` once stopped: the connection closes when the tasks' clones are gone too.
    client: Mutex<Option<Client>>,
    /// Taken by [`listen`](NatsRelay::listen): a relay listens once.
    lost: Mutex<Option<mpsc::Receiver<()>>>,
    queue: mpsc::Sender<Outgoing>,
    shared: Arc<Shared>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for NatsRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password or a token.
        f.debug_struct("NatsRelay")
            .field("node", &self.node)
            .field("subjects", &self.subjects.all())
            .field("listening", &lock(&self.lost).is_none())
            .field("stopped", &self.shared.stopped())
            .field("dropped", &self.shared.dropped())
            .finish_non_exhaustive()
    }
}

impl NatsRelay {
    /// A relay for this node over the NATS server(s) at `url` (`nats://host:4222`; a
    /// comma-separated list for a cluster; `user:password@` or a token in the URL when the
    /// server wants one; `tls://` for TLS), on subjects under [`SUBJECT_PREFIX`].
    ///
    /// Connects now, and errors when NATS does not answer within 5 s: a node told to use
    /// NATS does not start without it. Once connected, the client reconnects by itself
    /// for as long as the relay lives. Must be called on a tokio runtime, which runs the
    /// relay's tasks.
    pub async fn connect(url: &str, node: Uuid) -> anyhow::Result<Self> {
        Self::connect_with_prefix(url, node, SUBJECT_PREFIX).await
    }

    /// [`connect`](Self::connect), on subjects under `prefix` instead of `chat.events`:
    /// several deployments on one NATS, or tests side by side, each hearing only its own.
    /// Errors when `prefix` is not a subject (empty tokens, whitespace, wildcards).
    pub async fn connect_with_prefix(url: &str, node: Uuid, prefix: &str) -> anyhow::Result<Self> {
        let subjects = Subjects::new(prefix)?;
        let (lost, lost_signals) = mpsc::channel(1);
        let shared = Arc::new(Shared::new(lost));
        let events = shared.clone();
        let client = ConnectOptions::new()
            // Find the node's connection in the server's monitoring (`connz`).
            .name(format!("chat-relay-{node}"))
            // The server does not send this connection what it published itself.
            .no_echo()
            .ping_interval(PING_EVERY)
            .request_timeout(Some(ROUND_TRIP_WAIT))
            // Never give up reconnecting: the relay has no other way back.
            .max_reconnects(None)
            .event_callback(move |event| {
                let shared = events.clone();
                async move { shared.on_event(event) }
            })
            .connect(url)
            .await
            .context("cannot connect to NATS")?;
        let (queue, notices) = mpsc::channel(QUEUE_CAPACITY);
        let publisher = tokio::spawn(tasks::publish(client.clone(), notices, shared.clone()));
        Ok(Self {
            node,
            subjects,
            client: Mutex::new(Some(client)),
            lost: Mutex::new(Some(lost_signals)),
            queue,
            shared,
            tasks: Mutex::new(vec![publisher]),
        })
    }

    /// Subscribes to every notice of the deployment and hands those of OTHER nodes to
    /// `inbox.received`, on a task of its own; after the connection is lost and made
    /// again, calls `inbox.resync()`. Notices published after this returns are received:
    /// it returns once the server has the subscription.
    ///
    /// Errors when the relay already listens or was stopped, or when the subscription
    /// fails (NATS refused it, or is away).
    pub async fn listen(&self, inbox: Arc<dyn RelayInbox>) -> anyhow::Result<()> {
        let client = lock(&self.client)
            .clone()
            .context("the relay was stopped")?;
        let lost = lock(&self.lost)
            .take()
            .context("the relay already listens")?;
        let subscriber = match client.subscribe(self.subjects.all()).await {
            Ok(subscriber) => subscriber,
            Err(error) => {
                *lock(&self.lost) = Some(lost);
                return Err(error).context("cannot subscribe to the relay's subjects");
            }
        };
        round_trip(&client, self.node).await;
        let listener = Listener {
            node: self.node,
            client,
            inbox,
        };
        let task = tokio::spawn(listener.run(subscriber, lost));
        let mut tasks = lock(&self.tasks);
        if self.shared.stopped() {
            // Stopped while subscribing.
            task.abort();
        } else {
            tasks.push(task);
        }
        Ok(())
    }

    /// Stops the tasks (also on Drop) and lets go of the client, which closes the
    /// connection once the tasks are gone. Notices still queued are not sent; later ones
    /// are dropped. Never blocks.
    pub fn stop(&self) {
        self.shared.stop();
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        lock(&self.client).take();
    }

    /// How many notices [`relay`](EventRelay::relay) has dropped because the queue was
    /// full (NATS slow or away), since the relay started.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped()
    }
}

impl Drop for NatsRelay {
    fn drop(&mut self) {
        self.stop();
    }
}

impl EventRelay for NatsRelay {
    /// Never blocks: encodes the notice and queues it for the publishing task. A notice
    /// that finds the queue full (NATS slow or away) is counted, logged and dropped.
    fn relay(&self, notice: Notice) {
        if self.shared.stopped() {
            tracing::debug!(?notice, "relay: stopped; notice dropped");
            return;
        }
        let payload = match encode_notice(self.node, &notice, MAX_PAYLOAD_BYTES) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "relay: notice dropped");
                return;
            }
        };
        let subject = self.subjects.of(&notice);
        match self.queue.try_send(Outgoing { subject, payload }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.shared.overflowed(QUEUE_CAPACITY),
            Err(TrySendError::Closed(_)) => {
                tracing::warn!("relay: the publishing task has ended; notice dropped");
            }
        }
    }
}

/// The lock of a relay's field; one poisoned by a panic elsewhere is still good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
