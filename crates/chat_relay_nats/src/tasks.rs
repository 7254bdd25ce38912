//! The relay's two tasks: one publishes the queued notices, the other hands what other
//! nodes publish to a [`RelayInbox`], and asks it to resync after notices may have been
//! lost.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use async_nats::{Client, RequestErrorKind, Subscriber};
use chat_app::RelayInbox;
use chat_relay_wire::decode_notice;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::shared::Shared;

/// A notice on its way: its subject and payload.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) subject: String,
    pub(crate) payload: String,
}

/// Publishes what `notices` hands it, in order, until the queue is gone or the task is
/// aborted. `publish` hands the message to the client's own buffer (which writes many at
/// once); while NATS is away it waits there, and [`NatsRelay::relay`](crate::NatsRelay)
/// drops what no longer fits the queue.
pub(crate) async fn publish(
    client: Client,
    mut notices: mpsc::Receiver<Outgoing>,
    shared: Arc<Shared>,
) {
    while let Some(Outgoing { subject, payload }) = notices.recv().await {
        match client.publish(subject, payload.into()).await {
            Ok(()) => shared.published(),
            Err(error) => tracing::warn!(%error, "relay: cannot publish a notice; dropped"),
        }
    }
}

/// The subject of the round trip of [`round_trip`]: one nobody subscribes to.
fn round_trip_subject(node: Uuid) -> String {
    format!("_chat_relay.round_trip.{}", node.simple())
}

/// Waits until the server has handled what this client sent before (its subscriptions
/// in particular): a request to a subject nobody serves, which the server answers "no
/// responders" after everything the client sent before it. Without it, a subscription
/// (made, or made again after a reconnection) may not yet be active on the server when
/// the inbox resyncs, and a notice published in between would be missed by both. Any
/// answer, or none within the client's request timeout, ends the wait.
pub(crate) async fn round_trip(client: &Client, node: Uuid) {
    match client
        .request(round_trip_subject(node), Default::default())
        .await
    {
        Ok(_) => {}
        Err(error) if error.kind() == RequestErrorKind::NoResponders => {}
        Err(error) => tracing::warn!(%error, "relay: no round trip to NATS"),
    }
}

/// The listening task's state.
pub(crate) struct Listener {
    pub(crate) node: Uuid,
    pub(crate) client: Client,
    pub(crate) inbox: Arc<dyn RelayInbox>,
}

impl Listener {
    /// Hands notices to the inbox until the subscription ends or the task is aborted;
    /// after each signal on `lost`, makes a round trip and asks the inbox to resync.
    pub(crate) async fn run(self, mut subscriber: Subscriber, mut lost: mpsc::Receiver<()>) {
        loop {
            tokio::select! {
                message = subscriber.next() => match message {
                    Some(message) => self.received(&message.payload),
                    None => {
                        tracing::warn!("relay: the NATS subscription ended; no more notices from other nodes");
                        return;
                    }
                },
                Some(()) = lost.recv() => {
                    round_trip(&self.client, self.node).await;
                    self.deliver(|inbox| inbox.resync());
                }
            }
        }
    }

    fn received(&self, payload: &[u8]) {
        match std::str::from_utf8(payload).ok().and_then(decode_notice) {
            // no_echo keeps this connection's own messages away; another connection of
            // the same node (or a misconfigured twin) is skipped here.
            Some((node, _)) if node == self.node => {}
            Some((_, notice)) => self.deliver(move |inbox| inbox.received(notice)),
            None => {
                let start: String = String::from_utf8_lossy(payload).chars().take(200).collect();
                tracing::warn!(payload = %start, "relay: skipped a message that is not a notice");
            }
        }
    }

    /// Calls the inbox; a panic there is logged, and does not end the listening task.
    fn deliver(&self, call: impl FnOnce(&dyn RelayInbox)) {
        let inbox = self.inbox.as_ref();
        if catch_unwind(AssertUnwindSafe(|| call(inbox))).is_err() {
            tracing::error!("relay: the inbox panicked");
        }
    }
}
