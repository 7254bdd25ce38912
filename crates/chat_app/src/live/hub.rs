//! The port to the hub of live connections, and the plain data a subscription is made
//! of. `chat_realtime::Hub` implements it; a second hub (or a test double) would sit
//! beside it.

use std::collections::HashMap;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use chat_domain::{AccountId, Message, RoomId, Seq, User, UserId};
use futures_core::Stream;
use uuid::Uuid;

use crate::Replied;
use crate::live::credentials::CredentialWatcher;
use crate::live::events::LiveEvent;
use crate::ports::StoreError;

/// The live connections of one server node: subscriptions with ordered deliveries,
/// ephemeral events, delivered positions.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LiveHub: Send + Sync {
    /// This node's id (presence sessions name the node that holds them).
    fn node(&self) -> Uuid;

    /// How long a presence session lives without a heartbeat of its node.
    fn presence_ttl(&self) -> Duration;

    /// Subscribes a connection to `scope`. The subscription takes effect between two
    /// events: everything delivered afterwards reaches it, and [`Connection::start`]
    /// says which messages came before (for a replay from the tables). `user_key` is
    /// the ChatAPI `user_id` of the connected person (their own typing is not echoed).
    /// A room position that cannot be read is the store's error; a hub that has
    /// stopped is `StoreError::Unexpected`.
    async fn subscribe(
        &self,
        scope: Scope,
        user_key: Option<String>,
    ) -> Result<Connection, StoreError>;

    /// Ends a subscription (every exit path of a connection calls this). An unknown id
    /// is ignored.
    fn unsubscribe(&self, id: Uuid);

    /// Publishes an ephemeral event (typing, presence) here and on every other node.
    /// Never blocks and never fails.
    fn publish_live(&self, event: LiveEvent);

    /// Notes that message `seq` of `room` reached one of `user`'s sockets; the hub
    /// writes delivered positions in batches. Never blocks and never fails.
    fn delivered(&self, account: AccountId, room: RoomId, user: UserId, seq: Seq);

    /// Tells `watcher` of every credential change from now on: each
    /// `DomainEvent::Credentials` published on this node and each one relayed from
    /// another, in the order the hub handles them, and [`CredentialWatcher::missed`]
    /// when the relay may have lost some. The hub calls it on its own task.
    fn watch_credentials(&self, watcher: Arc<dyn CredentialWatcher>);
}

/// What a connection listens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One room (a room socket).
    Room {
        /// The room's account.
        account: AccountId,
        /// The room.
        room: RoomId,
    },
    /// Every room of a user, now and as they join or leave rooms (a user's stream).
    User {
        /// The user's account.
        account: AccountId,
        /// The user.
        user: UserId,
        /// The user's rooms when the stream opens.
        rooms: Vec<RoomId>,
    },
}

impl Scope {
    /// The account the scope is in.
    pub fn account(&self) -> AccountId {
        match self {
            Scope::Room { account, .. } | Scope::User { account, .. } => *account,
        }
    }
}

/// What a rendering needs besides the event, read once for every socket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// The room's name (message events).
    pub room_name: Option<String>,
    /// The sending user (message events; none for system messages).
    pub sender: Option<User>,
    /// The message a message replies to, with its sender.
    pub replied: Option<Replied>,
    /// The message a `read` position points at.
    pub read_message: Option<Message>,
    /// Who moved a `read` position.
    pub reader: Option<User>,
}

/// One event for the sockets of a room, with its context.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// What happened.
    pub event: LiveEvent,
    /// What renderings of it need.
    pub context: Context,
    /// A rendering every socket of the same kind can share (made by the first).
    pub rendered: RenderCache,
}

impl Delivery {
    /// A delivery of `event`, not rendered yet.
    pub fn new(event: LiveEvent, context: Context) -> Self {
        Self {
            event,
            context,
            rendered: RenderCache::default(),
        }
    }
}

/// One shared rendering of a delivery, under a key saying what it depends on: sockets
/// that would render the event identically render it once between them.
#[derive(Debug, Clone, Default)]
pub struct RenderCache(OnceLock<(String, Arc<str>)>);

impl PartialEq for RenderCache {
    /// A cache is not part of what a delivery says.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl RenderCache {
    /// The rendering for `key`: the shared one when it was made for the same key, else
    /// `render`'s (shared when it is the first).
    pub fn get_or_render(&self, key: &str, render: impl FnOnce() -> String) -> Arc<str> {
        if let Some((cached, text)) = self.0.get() {
            if cached == key {
                return text.clone();
            }
            return Arc::from(render());
        }
        let text: Arc<str> = Arc::from(render());
        match self.0.set((key.to_owned(), text.clone())) {
            Ok(()) => text,
            // Another socket got there first: theirs is as good, if for the same key.
            Err(_) => match self.0.get() {
                Some((cached, shared)) if cached == key => shared.clone(),
                _ => text,
            },
        }
    }
}

/// Why the hub let go of a connection (set by the hub, read by the connection).
#[derive(Debug, Default)]
pub struct ConnectionState {
    too_slow: AtomicBool,
    removed: AtomicBool,
}

impl ConnectionState {
    /// The connection did not drain its queue and was dropped.
    pub fn was_too_slow(&self) -> bool {
        self.too_slow.load(Ordering::Acquire)
    }

    /// The room socket's person left the room (or was removed from it): it may no
    /// longer listen.
    pub fn was_removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    /// The hub drops the connection for not draining its queue.
    pub fn mark_too_slow(&self) {
        self.too_slow.store(true, Ordering::Release);
    }

    /// The hub drops the room socket because its person left the room.
    pub fn mark_removed(&self) {
        self.removed.store(true, Ordering::Release);
    }
}

/// A connection's deliveries, in order; the end of the stream means the hub let go
/// of the connection (see [`ConnectionState`] for why).
pub struct Deliveries(Pin<Box<dyn Stream<Item = Arc<Delivery>> + Send>>);

impl Deliveries {
    /// Deliveries from `stream` (the hub's bounded queue).
    pub fn new(stream: impl Stream<Item = Arc<Delivery>> + Send + 'static) -> Self {
        Self(Box::pin(stream))
    }

    /// No deliveries at all: the stream has ended.
    pub fn ended() -> Self {
        Self::new(Ended)
    }

    /// The next delivery; `None` once the hub has let go. Cancel-safe (for `select!`).
    pub async fn recv(&mut self) -> Option<Arc<Delivery>> {
        poll_fn(|cx| self.0.as_mut().poll_next(cx)).await
    }
}

impl fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliveries").finish_non_exhaustive()
    }
}

/// A stream that has ended.
struct Ended;

impl Stream for Ended {
    type Item = Arc<Delivery>;

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(None)
    }
}

/// A subscribed connection: its deliveries, and where each of its rooms stood when it
/// subscribed (deliveries carry only messages after those seqs).
#[derive(Debug)]
pub struct Connection {
    /// The subscription's id (for [`LiveHub::unsubscribe`]).
    pub id: Uuid,
    /// What the hub delivers to it.
    pub deliveries: Deliveries,
    /// For each room of the scope: the newest message `seq` delivered before the
    /// subscription took effect.
    pub start: HashMap<RoomId, Seq>,
    /// Why the hub let go, once it has.
    pub state: Arc<ConnectionState>,
}

impl Connection {
    /// A connection without deliveries (to test the use case without a hub).
    pub fn detached(id: Uuid, start: HashMap<RoomId, Seq>) -> Self {
        Self {
            id,
            deliveries: Deliveries::ended(),
            start,
            state: Arc::default(),
        }
    }
}
