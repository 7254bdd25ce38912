//! The listening thread: holds a `LISTEN` connection, hands what other nodes send to a
//! [`RelayInbox`], and after reconnecting asks the inbox to resync.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chat_app::RelayInbox;
use diesel::pg::{PgConnection, PgNotification};
use diesel::prelude::*;
use uuid::Uuid;

use crate::shared::{Backoff, Shared};
use crate::wire::{CHANNEL, decode_notice};

/// How often an idle listening connection is asked `SELECT 1`, to find out that it has
/// died without the socket saying so.
const PROBE_EVERY: Duration = Duration::from_secs(10);

/// A connection that listens on [`CHANNEL`].
pub(crate) fn connect_listening(url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::establish(url).context("cannot connect to listen")?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .context("LISTEN failed")?;
    Ok(conn)
}

/// The listening thread.
pub(crate) struct Listener {
    url: String,
    node: Uuid,
    inbox: Arc<dyn RelayInbox>,
    poll: Duration,
    shared: Arc<Shared>,
}

impl Listener {
    /// A listening thread's state for `node`, polling every `poll` (at least 1 ms: a
    /// zero poll would spin).
    pub(crate) fn new(
        url: String,
        node: Uuid,
        inbox: Arc<dyn RelayInbox>,
        poll: Duration,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            url,
            node,
            inbox,
            poll: poll.max(Duration::from_millis(1)),
            shared,
        }
    }

    /// Listens until stopped: over `first` if `listen` could connect, then over every
    /// connection made after one is lost, calling `resync` on each of those.
    pub(crate) fn run(self, first: Option<PgConnection>) {
        let mut backoff = Backoff::new();
        // Notices sent before the first connection listens are missed too.
        let mut missed = first.is_none();
        let mut conn = first;
        loop {
            let mut listening = match conn.take() {
                Some(listening) => listening,
                None => {
                    if !self.shared.pause(backoff.next()) {
                        return;
                    }
                    match connect_listening(&self.url) {
                        Ok(listening) => {
                            tracing::info!("relay: listening again");
                            listening
                        }
                        Err(error) => {
                            tracing::warn!(error = %format!("{error:#}"), "relay: cannot listen");
                            continue;
                        }
                    }
                }
            };
            backoff.reset();
            if missed {
                self.deliver(|inbox| inbox.resync());
            }
            missed = true;
            match self.pump(&mut listening) {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "relay: the listening connection was lost; reconnecting");
                }
            }
        }
    }

    /// Hands notifications to the inbox until stopped (`Ok`) or the connection fails.
    fn pump(&self, conn: &mut PgConnection) -> QueryResult<()> {
        let mut checked = Instant::now();
        while !self.shared.stopped() {
            // Non-blocking: reads what the socket holds (PQconsumeInput), then takes one
            // notification if there is one.
            let next = conn.notifications_iter().next();
            match next {
                Some(Ok(notification)) => {
                    checked = Instant::now();
                    self.received(notification);
                }
                Some(Err(error)) => return Err(error),
                None => {
                    if checked.elapsed() >= PROBE_EVERY {
                        diesel::sql_query("SELECT 1").execute(conn)?;
                        checked = Instant::now();
                    }
                    self.shared.pause(self.poll);
                }
            }
        }
        Ok(())
    }

    fn received(&self, notification: PgNotification) {
        if notification.channel != CHANNEL {
            return;
        }
        match decode_notice(&notification.payload) {
            // LISTEN also hears this node's own notifications.
            Some((node, _)) if node == self.node => {}
            Some((_, notice)) => self.deliver(move |inbox| inbox.received(notice)),
            None => {
                let start: String = notification.payload.chars().take(200).collect();
                tracing::warn!(
                    payload = %start,
                    sender_pid = notification.process_id,
                    "relay: skipped a notification that is not a notice"
                );
            }
        }
    }

    /// Calls the inbox; a panic there is logged, and does not end the listening thread.
    fn deliver(&self, call: impl FnOnce(&dyn RelayInbox)) {
        let inbox = self.inbox.as_ref();
        if catch_unwind(AssertUnwindSafe(|| call(inbox))).is_err() {
            tracing::error!("relay: the inbox panicked");
        }
    }
}
