//! The hub of live connections on one server node.
//!
//! A connection subscribes to one room, or to every room of a user, and receives
//! [`Delivery`]s through its own bounded queue. One dispatcher task owns every
//! subscription and handles, in order, the events published on this node, the
//! [`Notice`]s relayed from other nodes, and (un)subscriptions — so a subscription takes
//! effect at a precise point in the stream of events, which is what makes recovery
//! (`since_seq`) exact.
//!
//! New messages go through a sequencer: each room's messages are delivered in `seq`
//! order, each once. A message whose predecessors have not been seen here (a notice
//! lost, or two sends published out of order) makes the hub read the missing ones from
//! the database first — the tables are the truth, notices only wake the hub up.
//!
//! A connection that does not drain its queue is dropped (its queue closes, and its
//! task closes the socket) instead of slowing the others: fan-out never waits.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chat_app::{
    DomainEvent, EventPublisher, EventRelay, LiveEvent, MemberEvent, MessageChange, MessageEvent,
    MessageFilter, MessageOrder, MessageStore, Notice, PresenceStore, RelayInbox, Replied,
    RoomChange, RoomEvent, RoomStore, StoreError, UserDirectory, Window,
};
use chat_domain::{
    AccountId, Message, MessageId, MessageRef, Room, RoomId, RoomRef, Seq, User, UserId,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

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
    pub event: LiveEvent,
    pub context: Context,
    /// A rendering every socket of the same kind can share (made by the first).
    pub rendered: RenderCache,
}

impl Delivery {
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

/// What a connection listens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One room (a room socket).
    Room { account: AccountId, room: RoomId },
    /// Every room of a user, now and as they join or leave rooms (a user's stream).
    User {
        account: AccountId,
        user: UserId,
        rooms: Vec<RoomId>,
    },
}

impl Scope {
    fn account(&self) -> AccountId {
        match self {
            Scope::Room { account, .. } | Scope::User { account, .. } => *account,
        }
    }
}

/// Why the hub let go of a connection.
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
}

/// A subscribed connection: its deliveries, and where each of its rooms stood when it
/// subscribed (deliveries carry only messages after those seqs).
#[derive(Debug)]
pub struct Connection {
    pub id: Uuid,
    pub deliveries: mpsc::Receiver<Arc<Delivery>>,
    /// For each room of the scope: the newest message `seq` delivered before the
    /// subscription took effect.
    pub start: HashMap<RoomId, Seq>,
    pub state: Arc<ConnectionState>,
}

// Like `LiveEvent`, whose domain variant dominates; commands are moved once.
#[allow(clippy::large_enum_variant)]
enum Command {
    Local(LiveEvent),
    Remote(Notice),
    Resync,
    Subscribe {
        id: Uuid,
        scope: Scope,
        user_key: Option<String>,
        sender: mpsc::Sender<Arc<Delivery>>,
        state: Arc<ConnectionState>,
        reply: oneshot::Sender<Result<HashMap<RoomId, Seq>, StoreError>>,
    },
    Unsubscribe(Uuid),
}

/// Delivered positions waiting to be written: the newest seq per member of a room.
type DeliveredMarks = HashMap<(AccountId, RoomId, UserId), Seq>;

/// The hub. Cheap to clone; every clone talks to the same dispatcher.
#[derive(Clone)]
pub struct Hub {
    commands: mpsc::UnboundedSender<Command>,
    relay: Arc<dyn EventRelay>,
    delivered: Arc<Mutex<DeliveredMarks>>,
    presence: Arc<dyn PresenceStore>,
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

/// The stores the hub reads (recovery, notices from other nodes, context).
#[derive(Clone)]
pub struct HubStores {
    pub rooms: Arc<dyn RoomStore>,
    pub messages: Arc<dyn MessageStore>,
    pub users: Arc<dyn UserDirectory>,
    pub presence: Arc<dyn PresenceStore>,
}

impl fmt::Debug for HubStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubStores").finish_non_exhaustive()
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
        let dispatcher = Dispatcher {
            stores: stores.clone(),
            connections: HashMap::new(),
            by_room: HashMap::new(),
            by_user: HashMap::new(),
            last_seq: HashMap::new(),
        };
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
            presence: stores.presence,
            node,
            config,
        }
    }

    /// This node's id.
    pub fn node(&self) -> Uuid {
        self.node
    }

    pub fn config(&self) -> HubConfig {
        self.config
    }

    pub fn presence(&self) -> &Arc<dyn PresenceStore> {
        &self.presence
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
            deliveries,
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

struct Subscriber {
    scope: Scope,
    user_key: Option<String>,
    sender: mpsc::Sender<Arc<Delivery>>,
    state: Arc<ConnectionState>,
}

type RoomKey = (AccountId, RoomId);

struct Dispatcher {
    stores: HubStores,
    connections: HashMap<Uuid, Subscriber>,
    by_room: HashMap<RoomKey, HashSet<Uuid>>,
    /// Users' streams, to follow them into rooms they join.
    by_user: HashMap<(AccountId, UserId), HashSet<Uuid>>,
    /// The newest message delivered in each room someone here listens to.
    last_seq: HashMap<RoomKey, Seq>,
}

/// How many messages one read of a gap takes.
const GAP_PAGE: i64 = 100;

impl Dispatcher {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = inbox.recv().await {
            match command {
                Command::Local(event) => self.local(event).await,
                Command::Remote(notice) => {
                    if let Err(error) = self.remote(notice).await {
                        tracing::warn!(%error, "a notice from another node could not be read");
                    }
                }
                Command::Resync => self.resync().await,
                Command::Subscribe {
                    id,
                    scope,
                    user_key,
                    sender,
                    state,
                    reply,
                } => {
                    let started = self.subscribe(id, scope, user_key, sender, state).await;
                    let _ = reply.send(started);
                }
                Command::Unsubscribe(id) => self.remove(id),
            }
        }
    }

    async fn subscribe(
        &mut self,
        id: Uuid,
        scope: Scope,
        user_key: Option<String>,
        sender: mpsc::Sender<Arc<Delivery>>,
        state: Arc<ConnectionState>,
    ) -> Result<HashMap<RoomId, Seq>, StoreError> {
        let account = scope.account();
        let rooms = match &scope {
            Scope::Room { room, .. } => vec![*room],
            Scope::User { rooms, .. } => rooms.clone(),
        };
        // Every room's position is read before any is remembered, so a failed read
        // leaves no room remembered without a listener.
        let mut start = HashMap::new();
        for room in &rooms {
            let seq = match self.last_seq.get(&(account, *room)) {
                Some(seq) => *seq,
                None => self.newest_seq(account, *room).await?,
            };
            start.insert(*room, seq);
        }
        for (room, seq) in &start {
            self.last_seq.entry((account, *room)).or_insert(*seq);
        }
        for room in rooms {
            self.by_room.entry((account, room)).or_default().insert(id);
        }
        if let Scope::User { account, user, .. } = &scope {
            self.by_user
                .entry((*account, *user))
                .or_default()
                .insert(id);
        }
        self.connections.insert(
            id,
            Subscriber {
                scope,
                user_key,
                sender,
                state,
            },
        );
        Ok(start)
    }

    fn remove(&mut self, id: Uuid) {
        let Some(subscriber) = self.connections.remove(&id) else {
            return;
        };
        let account = subscriber.scope.account();
        let rooms: Vec<RoomId> = self
            .by_room
            .iter()
            .filter(|((a, _), ids)| *a == account && ids.contains(&id))
            .map(|((_, room), _)| *room)
            .collect();
        for room in rooms {
            self.leave_room((account, room), id);
        }
        if let Scope::User { account, user, .. } = subscriber.scope
            && let Some(ids) = self.by_user.get_mut(&(account, user))
        {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_user.remove(&(account, user));
            }
        }
    }

    /// Takes connection `id` out of a room; the room is forgotten with its last one.
    fn leave_room(&mut self, key: RoomKey, id: Uuid) {
        if let Some(ids) = self.by_room.get_mut(&key) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_room.remove(&key);
                self.last_seq.remove(&key);
            }
        }
    }

    async fn newest_seq(&self, account: AccountId, room: RoomId) -> Result<Seq, StoreError> {
        let mut filter = MessageFilter::newest(Window {
            offset: 0,
            limit: 1,
        });
        filter.include_deleted = true;
        let (newest, _) = self
            .stores
            .messages
            .list_messages(account, room, filter)
            .await?;
        Ok(newest.first().map_or(Seq(0), |m| m.seq))
    }

    async fn local(&mut self, event: LiveEvent) {
        match event {
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(message))) => {
                let (account, room, seq) = (message.account_id, message.room_id, message.seq);
                self.committed(account, room, seq, Some(message)).await;
            }
            other => self.fan_out(other).await,
        }
    }

    /// The room's messages up to `seq` are committed: deliver those not delivered yet,
    /// in order.
    async fn committed(
        &mut self,
        account: AccountId,
        room: RoomId,
        seq: Seq,
        message: Option<Message>,
    ) {
        let key = (account, room);
        if !self.by_room.contains_key(&key) {
            return;
        }
        let last = self.last_seq.get(&key).copied().unwrap_or(Seq(0));
        if seq <= last {
            return; // delivered already (a late local event, or a duplicate notice)
        }
        let messages = match message {
            Some(message) if seq.0 == last.0 + 1 => vec![message],
            _ => match self.read_range(account, room, last, seq).await {
                Ok(messages) => messages,
                Err(error) => {
                    tracing::warn!(%error, room = room.0, "missing messages could not be read");
                    return;
                }
            },
        };
        self.deliver_created(key, messages).await;
    }

    /// Delivers new messages of one room in order, remembering the last one delivered
    /// — for as long as anyone here still listens to the room (a delivery may drop its
    /// last socket).
    async fn deliver_created(&mut self, key: RoomKey, messages: Vec<Message>) {
        for message in messages {
            let seq = message.seq;
            self.fan_out(LiveEvent::Domain(DomainEvent::Message(
                MessageEvent::Created(message),
            )))
            .await;
            if !self.by_room.contains_key(&key) {
                return;
            }
            self.last_seq.insert(key, seq);
        }
    }

    /// The room's messages after `after` up to `upto`, oldest first.
    async fn read_range(
        &self,
        account: AccountId,
        room: RoomId,
        after: Seq,
        upto: Seq,
    ) -> Result<Vec<Message>, StoreError> {
        read_after(
            self.stores.messages.as_ref(),
            account,
            room,
            after,
            Some(upto),
        )
        .await
    }

    async fn resync(&mut self) {
        let rooms: Vec<(RoomKey, Seq)> = self.last_seq.iter().map(|(k, s)| (*k, *s)).collect();
        for ((account, room), last) in rooms {
            match read_after(self.stores.messages.as_ref(), account, room, last, None).await {
                Ok(messages) => self.deliver_created((account, room), messages).await,
                Err(error) => tracing::warn!(%error, room = room.0, "resync failed"),
            }
        }
    }

    /// Reads what a notice names, and delivers it.
    async fn remote(&mut self, notice: Notice) -> Result<(), StoreError> {
        let listening =
            |account: AccountId, room: RoomId| self.by_room.contains_key(&(account, room));
        let event = match notice {
            Notice::MessageCreated { account, room, seq } => {
                self.committed(account, room, seq, None).await;
                return Ok(());
            }
            Notice::MessageChanged {
                account,
                message,
                change,
            } => {
                let message = self
                    .stores
                    .messages
                    .find_message(account, MessageRef::Id(message))
                    .await?;
                if !listening(account, message.room_id) {
                    return Ok(());
                }
                DomainEvent::Message(match change {
                    MessageChange::Updated => MessageEvent::Updated(message),
                    MessageChange::Deleted => MessageEvent::Deleted(message),
                    MessageChange::Restored => MessageEvent::Restored(message),
                })
            }
            Notice::RoomChanged {
                account,
                room,
                change,
            } => {
                if !listening(account, room) || change == RoomChange::Created {
                    return Ok(());
                }
                let room = self.room(account, room).await?;
                DomainEvent::Room(match change {
                    RoomChange::Created | RoomChange::Updated => RoomEvent::Updated(room),
                    RoomChange::Activated => RoomEvent::Activated(room),
                    RoomChange::Deactivated => RoomEvent::Deactivated(room),
                })
            }
            Notice::RoomDeleted {
                account,
                room,
                uuid,
            } => DomainEvent::Room(RoomEvent::Deleted {
                account,
                id: room,
                uuid,
            }),
            Notice::Membership {
                account,
                room,
                user,
                joined,
            } => {
                if !listening(account, room) && !self.by_user.contains_key(&(account, user)) {
                    return Ok(());
                }
                let room = self.room(account, room).await?;
                let Some(user) = self.user(account, user).await? else {
                    return Ok(());
                };
                DomainEvent::Member(if joined {
                    MemberEvent::Joined { room, user }
                } else {
                    MemberEvent::Left { room, user }
                })
            }
            Notice::Read {
                account,
                room,
                user,
                seq,
            } => {
                if !listening(account, room) {
                    return Ok(());
                }
                let room = self.room(account, room).await?;
                DomainEvent::Message(MessageEvent::Read { room, user, seq })
            }
            Notice::Typing(typing) => {
                self.fan_out(LiveEvent::Typing(typing)).await;
                return Ok(());
            }
            Notice::Presence(change) => {
                self.fan_out(LiveEvent::Presence(change)).await;
                return Ok(());
            }
        };
        self.fan_out(LiveEvent::Domain(event)).await;
        Ok(())
    }

    async fn room(&self, account: AccountId, room: RoomId) -> Result<Room, StoreError> {
        self.stores
            .rooms
            .find_room(account, RoomRef::Id(room))
            .await
    }

    async fn user(&self, account: AccountId, user: UserId) -> Result<Option<User>, StoreError> {
        Ok(self
            .stores
            .users
            .find_users(account, vec![user])
            .await?
            .into_iter()
            .next())
    }

    /// Hands `event` to every connection of its room.
    async fn fan_out(&mut self, event: LiveEvent) {
        let Some(key) = event.room() else {
            return;
        };
        // A user's stream follows them into a room they join, before the event.
        if let LiveEvent::Domain(DomainEvent::Member(MemberEvent::Joined { user, .. })) = &event {
            let streams: Vec<Uuid> = self
                .by_user
                .get(&(key.0, user.id))
                .map(|ids| ids.iter().copied().collect())
                .unwrap_or_default();
            for id in streams {
                if !self.by_room.contains_key(&key) {
                    match self.newest_seq(key.0, key.1).await {
                        Ok(seq) => {
                            self.last_seq.insert(key, seq);
                        }
                        Err(error) => {
                            tracing::warn!(%error, "a joined room could not be followed");
                            continue;
                        }
                    }
                }
                self.by_room.entry(key).or_default().insert(id);
            }
        }
        let targets: Vec<Uuid> = match self.by_room.get(&key) {
            Some(ids) => ids.iter().copied().collect(),
            None => return,
        };
        // Room sockets render what the event carries; only users' streams (the account
        // dialect) show room names and senders, which cost reads.
        let full = targets.iter().any(|id| {
            self.connections
                .get(id)
                .is_some_and(|s| matches!(s.scope, Scope::User { .. }))
        });
        let context = match self.context(&event, full).await {
            Ok(context) => context,
            Err(error) => {
                tracing::warn!(%error, "an event's context could not be read; delivered without it");
                Context::default()
            }
        };
        let typist = match &event {
            LiveEvent::Typing(typing) => Some(typing.user_key.clone()),
            _ => None,
        };
        let delivery = Arc::new(Delivery::new(event, context));
        let mut dropped = Vec::new();
        for id in targets {
            let Some(subscriber) = self.connections.get(&id) else {
                continue;
            };
            if typist.is_some() && subscriber.user_key == typist {
                continue; // typing is not echoed to the typist
            }
            match subscriber.sender.try_send(delivery.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    subscriber.state.too_slow.store(true, Ordering::Release);
                    dropped.push(id);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => dropped.push(id),
            }
        }
        for id in dropped {
            self.remove(id);
        }
        self.after(&delivery.event, key);
    }

    /// Subscriptions that change with the event, once it is delivered.
    fn after(&mut self, event: &LiveEvent, key: RoomKey) {
        match event {
            LiveEvent::Domain(DomainEvent::Member(MemberEvent::Left { user, .. })) => {
                let streams: Vec<Uuid> = self
                    .by_user
                    .get(&(key.0, user.id))
                    .map(|ids| ids.iter().copied().collect())
                    .unwrap_or_default();
                for id in streams {
                    self.leave_room(key, id);
                }
                // The person's own room sockets end with their membership; access was
                // checked when they opened.
                let key_of_user = user.chat_user_id();
                let sockets: Vec<Uuid> = self
                    .by_room
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter(|id| {
                        self.connections.get(id).is_some_and(|s| {
                            matches!(s.scope, Scope::Room { .. })
                                && s.user_key.as_deref() == Some(key_of_user.as_str())
                        })
                    })
                    .copied()
                    .collect();
                for id in sockets {
                    if let Some(subscriber) = self.connections.get(&id) {
                        subscriber.state.removed.store(true, Ordering::Release);
                    }
                    self.remove(id);
                }
            }
            LiveEvent::Domain(DomainEvent::Room(RoomEvent::Deleted { .. })) => {
                let ids: Vec<Uuid> = self
                    .by_room
                    .get(&key)
                    .map(|ids| ids.iter().copied().collect())
                    .unwrap_or_default();
                for id in ids {
                    let room_socket = self
                        .connections
                        .get(&id)
                        .is_some_and(|s| matches!(s.scope, Scope::Room { .. }));
                    if room_socket {
                        // Its queue closes after the room_deleted delivery.
                        self.remove(id);
                    } else {
                        self.leave_room(key, id);
                    }
                }
            }
            _ => {}
        }
    }

    /// What renderings of `event` need, read once.
    async fn context(&self, event: &LiveEvent, full: bool) -> Result<Context, StoreError> {
        let mut context = Context::default();
        match event {
            LiveEvent::Domain(DomainEvent::Message(
                MessageEvent::Created(message)
                | MessageEvent::Updated(message)
                | MessageEvent::Deleted(message)
                | MessageEvent::Restored(message),
            )) => {
                let account = message.account_id;
                if full {
                    context.room_name = Some(
                        self.room(account, message.room_id)
                            .await?
                            .name
                            .as_str()
                            .to_owned(),
                    );
                    if let Some(sender) = message.sender.user_id() {
                        context.sender = self.user(account, sender).await?;
                    }
                }
                if let Some(replied) = message.reply_to {
                    context.replied = self.replied(account, replied, full).await?;
                }
            }
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Read { room, seq, user })) => {
                context.reader = self.user(room.account_id, *user).await?;
                let around = read_after(
                    self.stores.messages.as_ref(),
                    room.account_id,
                    room.id,
                    Seq(seq.0 - 1),
                    Some(*seq),
                )
                .await?;
                context.read_message = around.into_iter().find(|m| m.seq == *seq);
            }
            _ => {}
        }
        Ok(context)
    }

    async fn replied(
        &self,
        account: AccountId,
        id: MessageId,
        with_sender: bool,
    ) -> Result<Option<Replied>, StoreError> {
        let Some(message) = self
            .stores
            .messages
            .find_messages(account, vec![id])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let sender = match message.sender.user_id() {
            Some(user) if with_sender => self.user(account, user).await?,
            _ => None,
        };
        Ok(Some(Replied { message, sender }))
    }
}

/// A room's messages after `after` (up to `upto` when given), oldest first, deleted
/// ones included (a seq is a seq).
pub async fn read_after(
    messages: &dyn MessageStore,
    account: AccountId,
    room: RoomId,
    after: Seq,
    upto: Option<Seq>,
) -> Result<Vec<Message>, StoreError> {
    let mut out = Vec::new();
    let mut from = after;
    loop {
        let mut filter = MessageFilter::newest(Window {
            offset: 0,
            limit: GAP_PAGE,
        });
        filter.order = MessageOrder::OldestFirst;
        filter.include_deleted = true;
        filter.after_seq = Some(from);
        filter.before_seq = upto.map(|upto| Seq(upto.0 + 1));
        let (page, _) = messages.list_messages(account, room, filter).await?;
        let full = page.len() as i64 == GAP_PAGE;
        if let Some(last) = page.last() {
            from = last.seq;
        }
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

async fn flush_delivered(
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

async fn presence_heartbeat(
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
