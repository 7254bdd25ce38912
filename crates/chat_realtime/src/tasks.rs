//! The hub's background tasks: delivered positions written in batches, and the
//! presence heartbeat of this node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_app::{DeliveredMark, MessageStore, PresenceStore};
use chat_domain::{AccountId, RoomId, Seq, UserId};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::HubConfig;
use crate::dispatcher::Command;

/// Delivered positions waiting to be written: the newest seq per member of a room.
pub(crate) type DeliveredMarks = HashMap<(AccountId, RoomId, UserId), Seq>;

/// Writes the delivered positions noted since the last tick, every `every`: one batch
/// per account (a message to a room of a thousand members on this node is one
/// statement, not a thousand).
pub(crate) async fn flush_delivered(
    pending: Arc<Mutex<DeliveredMarks>>,
    messages: Arc<dyn MessageStore>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
    loop {
        tick.tick().await;
        let batch = match pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return,
        };
        let mut by_account: HashMap<AccountId, Vec<DeliveredMark>> = HashMap::new();
        for ((account, room, user), upto) in batch {
            by_account
                .entry(account)
                .or_default()
                .push(DeliveredMark { room, user, upto });
        }
        for (account, marks) in by_account {
            let count = marks.len();
            if let Err(error) = messages.mark_delivered(account, marks).await {
                tracing::warn!(%error, count, "delivered positions could not be written");
            }
        }
        if Arc::strong_count(&pending) == 1 {
            return; // the hub is gone
        }
    }
}

pub(crate) async fn presence_heartbeat(
    presence: Arc<dyn PresenceStore>,
    node: Uuid,
    config: HubConfig,
    alive: mpsc::WeakUnboundedSender<Command>,
) {
    let mut tick = tokio::time::interval(config.presence_heartbeat.max(Duration::from_millis(10)));
    loop {
        tick.tick().await;
        if alive.upgrade().is_none() {
            return;
        }
        if let Err(error) = presence.heartbeat(node, config.presence_ttl).await {
            tracing::warn!(%error, "the presence heartbeat failed");
        }
    }
}
