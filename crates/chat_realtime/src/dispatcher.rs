//! The dispatcher: one task owning every subscription of the node, handling in order
//! the events published here, the notices from other nodes, and (un)subscriptions.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chat_app::live::CredentialWatcher;
use chat_app::{ConnectionState, CredentialEvent, Delivery, LiveEvent, Notice, Scope, StoreError};
use chat_domain::{AccountId, RoomId, Seq, UserId};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::config::HubStores;

// Like `LiveEvent`, whose domain variant dominates; commands are moved once.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
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
    WatchCredentials(Arc<dyn CredentialWatcher>),
}

pub(crate) struct Subscriber {
    pub(crate) scope: Scope,
    pub(crate) user_key: Option<String>,
    pub(crate) sender: mpsc::Sender<Arc<Delivery>>,
    pub(crate) state: Arc<ConnectionState>,
}

pub(crate) type RoomKey = (AccountId, RoomId);

pub(crate) struct Dispatcher {
    pub(crate) stores: HubStores,
    pub(crate) connections: HashMap<Uuid, Subscriber>,
    pub(crate) by_room: HashMap<RoomKey, HashSet<Uuid>>,
    /// Users' streams, to follow them into rooms they join.
    pub(crate) by_user: HashMap<(AccountId, UserId), HashSet<Uuid>>,
    /// The newest message delivered in each room someone here listens to.
    pub(crate) last_seq: HashMap<RoomKey, Seq>,
    /// Told of every credential change (the live sessions, which re-check sockets).
    pub(crate) credential_watchers: Vec<Arc<dyn CredentialWatcher>>,
}

impl Dispatcher {
    /// A dispatcher without subscriptions, reading `stores`.
    pub(crate) fn new(stores: HubStores) -> Self {
        Self {
            stores,
            connections: HashMap::new(),
            by_room: HashMap::new(),
            by_user: HashMap::new(),
            last_seq: HashMap::new(),
            credential_watchers: Vec::new(),
        }
    }

    pub(crate) async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = inbox.recv().await {
            match command {
                Command::Local(event) => self.local(event).await,
                Command::Remote(notice) => {
                    if let Err(error) = self.remote(notice).await {
                        tracing::warn!(%error, "a notice from another node could not be read");
                    }
                }
                Command::Resync => {
                    // Credential changes may have been missed too: re-check every socket.
                    for watcher in &self.credential_watchers {
                        watcher.missed();
                    }
                    self.resync().await;
                }
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
                Command::WatchCredentials(watcher) => self.credential_watchers.push(watcher),
            }
        }
    }

    /// Credentials changed (here or on another node): the watchers re-check the
    /// sockets, off this task. No socket is delivered anything.
    pub(crate) fn credentials_changed(&self, event: CredentialEvent) {
        for watcher in &self.credential_watchers {
            watcher.changed(event);
        }
    }

    pub(crate) async fn subscribe(
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

    pub(crate) fn remove(&mut self, id: Uuid) {
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
    pub(crate) fn leave_room(&mut self, key: RoomKey, id: Uuid) {
        if let Some(ids) = self.by_room.get_mut(&key) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_room.remove(&key);
                self.last_seq.remove(&key);
            }
        }
    }
}
