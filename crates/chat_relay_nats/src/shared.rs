//! What the relay's handle, its tasks and the NATS client's event callback share: the
//! stop flag, the count of dropped notices, and the signal that notices may have been
//! lost.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_nats::Event;
use tokio::sync::mpsc;

/// What the relay's parts share.
#[derive(Debug)]
pub(crate) struct Shared {
    stopped: AtomicBool,
    /// Whether notices are being dropped because the queue is full (logged once per
    /// episode), how many were in this episode, and in all.
    overflowing: AtomicBool,
    dropped_now: AtomicU64,
    dropped: AtomicU64,
    /// The connection was lost; the next `Connected` is a reconnection.
    disconnected: AtomicBool,
    /// "Notices may have been lost": one slot, so that signals coalesce into one resync
    /// while the listener is busy (or not listening yet).
    lost: mpsc::Sender<()>,
}

impl Shared {
    /// Shared state that signals lost notices on `lost`.
    pub(crate) fn new(lost: mpsc::Sender<()>) -> Self {
        Self {
            stopped: AtomicBool::new(false),
            overflowing: AtomicBool::new(false),
            dropped_now: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            disconnected: AtomicBool::new(false),
            lost,
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    /// Notices dropped so far because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A notice found the queue full: counted, and logged once per episode.
    pub(crate) fn overflowed(&self, capacity: usize) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        self.dropped_now.fetch_add(1, Ordering::Relaxed);
        if !self.overflowing.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                capacity,
                "relay: the queue of notices to publish is full; dropping notices until it drains"
            );
        }
    }

    /// A notice was published: the end of an overflow episode, if one was on.
    pub(crate) fn published(&self) {
        if self.overflowing.load(Ordering::Relaxed)
            && self.overflowing.swap(false, Ordering::AcqRel)
        {
            // Outside the macro: tracing skips its arguments when the level is off.
            let dropped = self.dropped_now.swap(0, Ordering::Relaxed);
            tracing::warn!(dropped, "relay: publishing notices again");
        }
    }

    /// What the NATS client reports about its connection. Core NATS does not keep
    /// messages for a subscriber that is away, so after a reconnection (and when the
    /// client dropped messages it could not hand over fast enough) notices may have been
    /// lost: the listener is told, and asks its inbox to resync.
    pub(crate) fn on_event(&self, event: Event) {
        match event {
            Event::Disconnected => {
                self.disconnected.store(true, Ordering::Release);
                tracing::warn!("relay: lost the connection to NATS; reconnecting");
            }
            Event::Connected => {
                if self.disconnected.swap(false, Ordering::AcqRel) {
                    tracing::info!("relay: connected to NATS again");
                    self.notices_lost();
                }
            }
            Event::SlowConsumer(_) => {
                tracing::warn!(
                    "relay: notices from other nodes arrived faster than handled; some were dropped"
                );
                self.notices_lost();
            }
            Event::LameDuckMode => {
                tracing::info!("relay: the NATS server is shutting down; the client will move");
            }
            Event::ServerError(error) => tracing::warn!(%error, "relay: NATS server error"),
            Event::ClientError(error) => tracing::warn!(%error, "relay: NATS client error"),
            Event::Draining | Event::Closed => tracing::debug!(%event, "relay: NATS"),
        }
    }

    /// Signals the listener (one pending signal is enough: a full slot already says so).
    fn notices_lost(&self) {
        let _ = self.lost.try_send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reconnection_signals_lost_notices_and_signals_coalesce() {
        let (lost, mut signals) = mpsc::channel(1);
        let shared = Shared::new(lost);
        // The first connection is no reconnection.
        shared.on_event(Event::Connected);
        assert!(signals.try_recv().is_err());
        shared.on_event(Event::Disconnected);
        assert!(signals.try_recv().is_err());
        shared.on_event(Event::Connected);
        // Two losses before the listener looks: one resync covers both.
        shared.on_event(Event::SlowConsumer(1));
        assert!(signals.try_recv().is_ok());
        assert!(signals.try_recv().is_err());
        shared.on_event(Event::Connected);
        assert!(signals.try_recv().is_err());
    }

    #[test]
    fn overflow_is_counted_in_all_and_per_episode() {
        let (lost, _signals) = mpsc::channel(1);
        let shared = Shared::new(lost);
        shared.overflowed(1);
        shared.overflowed(1);
        assert_eq!(shared.dropped(), 2);
        shared.published();
        assert!(!shared.overflowing.load(Ordering::Relaxed));
        assert_eq!(shared.dropped_now.load(Ordering::Relaxed), 0);
        assert_eq!(shared.dropped(), 2);
    }
}
