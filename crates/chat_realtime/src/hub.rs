//! The hub's public handle: subscriptions, publishing, delivered positions. It is the
//! use cases' `EventPublisher`, the relay's `RelayInbox`, and the live sessions'
//! `LiveHub`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use chat_app::live::CredentialWatcher;
use chat_app::{
    Connection, ConnectionState, Deliveries, Delivery, DomainEvent, EventPublisher, EventRelay,
    LiveEvent, LiveHub, Notice, RelayInbox, Scope, StoreError,
};
use chat_domain::{AccountId, RoomId, Seq, UserId};
use futures_core::Stream;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::config::{HubConfig, HubStores};
use crate::dispatcher::{Command, Dispatcher};
use crate::tasks::{DeliveredMarks, flush_delivered, presence_heartbeat};

/// The hub. Cheap to clone; every clone talks to the same dispatcher.
#[derive(Clone)]
pub struct Hub {
    commands: mpsc::UnboundedSender<Command>,
    relay: Arc<dyn EventRelay>,
    delivered: Arc<Mutex<DeliveredMarks>>,
    node: Uuid,
    config: HubConfig,
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("node", &self.node)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Starts the hub's tasks (dispatcher, delivered-position writer, presence
    /// heartbeat) on the current tokio runtime. `node` names this process in presence.
    pub fn start(
        stores: HubStores,
        relay: Arc<dyn EventRelay>,
        node: Uuid,
        config: HubConfig,
    ) -> Self {
        let (commands, inbox) = mpsc::unbounded_channel();
        let delivered = Arc::new(Mutex::new(HashMap::new()));
        let dispatcher = Dispatcher::new(stores.clone());
        tokio::spawn(dispatcher.run(inbox));
        tokio::spawn(flush_delivered(
            delivered.clone(),
            stores.messages.clone(),
            config.delivered_flush,
        ));
        tokio::spawn(presence_heartbeat(
            stores.presence.clone(),
            node,
            config,
            commands.downgrade(),
        ));
        Self {
            commands,
            relay,
            delivered,
            node,
            config,
        }
    }

    /// This node's id.
    pub fn node(&self) -> Uuid {
        self.node
    }

    /// How the hub behaves.
    pub fn config(&self) -> HubConfig {
        self.config
    }

    /// Subscribes a connection. The subscription takes effect between two events:
    /// everything delivered afterwards reaches it, and `start` says which messages
    /// came before (for a replay from the database).
    pub async fn subscribe(
        &self,
        scope: Scope,
        user_key: Option<String>,
    ) -> Result<Connection, StoreError> {
        let (sender, deliveries) = mpsc::channel(self.config.queue_capacity.max(1));
        let (reply, answer) = oneshot::channel();
        let id = Uuid::new_v4();
        let state = Arc::new(ConnectionState::default());
        self.command(Command::Subscribe {
            id,
            scope,
            user_key,
            sender,
            state: state.clone(),
            reply,
        })?;
        let start = answer
            .await
            .map_err(|_| StoreError::Unexpected(hub_stopped()))??;
        Ok(Connection {
            id,
            deliveries: Deliveries::new(Queue(deliveries)),
            start,
            state,
        })
    }

    /// Ends a subscription (every exit path of a connection calls this).
    pub fn unsubscribe(&self, id: Uuid) {
        let _ = self.commands.send(Command::Unsubscribe(id));
    }

    /// Publishes an ephemeral event (typing, presence) here and on every other node.
    pub fn publish_live(&self, event: LiveEvent) {
        self.relay.relay(Notice::of(&event));
        let _ = self.commands.send(Command::Local(event));
    }

    /// Notes that a message reached one of `user`'s sockets; delivered positions are
    /// written in batches.
    pub fn delivered(&self, account: AccountId, room: RoomId, user: UserId, seq: Seq) {
        if let Ok(mut pending) = self.delivered.lock() {
            let entry = pending.entry((account, room, user)).or_insert(seq);
            if *entry < seq {
                *entry = seq;
            }
        }
    }

    /// Tells `watcher` of every credential change from now on: published here (the
    /// relay carries it to the other nodes) or relayed from another node; and of
    /// possibly missed ones when the relay reconnects.
    pub fn watch_credentials(&self, watcher: Arc<dyn CredentialWatcher>) {
        let _ = self.commands.send(Command::WatchCredentials(watcher));
    }

    fn command(&self, command: Command) -> Result<(), StoreError> {
        self.commands
            .send(command)
            .map_err(|_| StoreError::Unexpected(hub_stopped()))
    }
}

fn hub_stopped() -> anyhow::Error {
    anyhow::anyhow!("the live-event hub has stopped")
}

impl EventPublisher for Hub {
    fn publish(&self, event: DomainEvent) {
        let event = LiveEvent::Domain(event);
        self.relay.relay(Notice::of(&event));
        let _ = self.commands.send(Command::Local(event));
    }
}

impl RelayInbox for Hub {
    fn received(&self, notice: Notice) {
        let _ = self.commands.send(Command::Remote(notice));
    }

    fn resync(&self) {
        let _ = self.commands.send(Command::Resync);
    }
}

/// A relay for a single node: nothing to tell anyone.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRelay;

impl EventRelay for NoRelay {
    fn relay(&self, _notice: Notice) {}
}

#[async_trait]
impl LiveHub for Hub {
    fn node(&self) -> Uuid {
        self.node
    }

    fn presence_ttl(&self) -> Duration {
        self.config.presence_ttl
    }

    async fn subscribe(
        &self,
        scope: Scope,
        user_key: Option<String>,
    ) -> Result<Connection, StoreError> {
        Hub::subscribe(self, scope, user_key).await
    }

    fn unsubscribe(&self, id: Uuid) {
        Hub::unsubscribe(self, id);
    }

    fn publish_live(&self, event: LiveEvent) {
        Hub::publish_live(self, event);
    }

    fn delivered(&self, account: AccountId, room: RoomId, user: UserId, seq: Seq) {
        Hub::delivered(self, account, room, user, seq);
    }

    fn watch_credentials(&self, watcher: Arc<dyn CredentialWatcher>) {
        Hub::watch_credentials(self, watcher);
    }
}

/// A connection's bounded queue, as the stream of its deliveries.
struct Queue(mpsc::Receiver<Arc<Delivery>>);

impl Stream for Queue {
    type Item = Arc<Delivery>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
