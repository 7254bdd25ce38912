//! The hub's background tasks: delivered positions written in batches, and the
//! presence heartbeat of this node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_app::{MessageStore, PresenceStore};
use chat_domain::{AccountId, RoomId, Seq, UserId};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::HubConfig;
use crate::dispatcher::Command;

/// Delivered positions waiting to be written: the newest seq per member of a room.
pub(crate) type DeliveredMarks = HashMap<(AccountId, RoomId, UserId), Seq>;

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
        for ((account, room, user), seq) in batch {
            if let Err(error) = messages.mark_delivered(account, room, user, seq).await {
                tracing::warn!(%error, "a delivered position could not be written");
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
