//! How the hub behaves, and the stores it reads.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chat_app::{MessageStore, PresenceStore, RoomStore, UserDirectory};

/// How the hub behaves.
#[derive(Debug, Clone, Copy)]
pub struct HubConfig {
    /// Deliveries a connection may have waiting; one more and it is dropped as too slow.
    pub queue_capacity: usize,
    /// How often delivered positions are written (in batches).
    pub delivered_flush: Duration,
    /// How long a presence session lives without a heartbeat of its node.
    pub presence_ttl: Duration,
    /// How often this node renews its presence sessions.
    pub presence_heartbeat: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 256,
            delivered_flush: Duration::from_millis(100),
            presence_ttl: Duration::from_secs(30),
            presence_heartbeat: Duration::from_secs(10),
        }
    }
}

/// The stores the hub reads (recovery, notices from other nodes, context).
#[derive(Clone)]
pub struct HubStores {
    /// Rooms (context, notices).
    pub rooms: Arc<dyn RoomStore>,
    /// Messages (gaps, recovery, delivered positions).
    pub messages: Arc<dyn MessageStore>,
    /// Users (senders, readers, members).
    pub users: Arc<dyn UserDirectory>,
    /// Presence (this node's heartbeat).
    pub presence: Arc<dyn PresenceStore>,
}

impl fmt::Debug for HubStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubStores").finish_non_exhaustive()
    }
}
