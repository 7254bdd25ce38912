//! The use cases of the chat-rooms server, and the ports (traits) they need from the
//! outside world. Adapters (PostgreSQL, HTTP) live in other crates and point inward.
//!
//! A use case takes the calling [`Actor`] and valid domain values, checks the
//! actor's rights, and talks to ports. It returns [`AppError`], which each HTTP
//! dialect renders in its own shape.

pub mod accounts;
pub mod actor;
pub mod auth;
pub mod error;
pub mod events;
pub mod files;
pub mod live;
pub mod members;
pub mod messages;
pub mod ports;
pub mod rooms;
pub mod sockets;
pub mod users;

pub use accounts::{AccountPatch, Accounts, IssuedAccount, NewAccount};
pub use actor::{AccountAccess, Actor};
pub use auth::{Authenticator, CredentialCache, PlatformToken};
pub use error::{AppError, Conflict, Denied, Resource};
pub use events::{
    DiscardEvents, DomainEvent, EventPublisher, MemberEvent, MessageEvent, RoomEvent,
};
pub use files::{Files, SweepReport, Upload, UploadLimits, UploadPurpose};
pub use live::{
    EventRelay, LiveEvent, MessageChange, NobodyOnline, Notice, PresenceChange, PresenceSession,
    PresenceStore, RelayInbox, RoomChange, Typing,
};
pub use members::{Join, Members, Online, UserIds};
pub use messages::{
    MessageDetail, MessageFilter, MessageOrder, MessageView, Messages, NewMessage, Outgoing,
    RawOutgoing, Replied,
};
pub use ports::{
    AccountStore, CredentialOwner, CredentialStore, FileChunks, FileIndex, FileStore, FileWriter,
    ListedFile, MemberChange, MemberStore, MessageStore, PoolState, RoomStore, StoreError,
    StoreHealth, StoredFile, UserDirectory, UserStore,
};
pub use rooms::{
    Detail, NewRoom, Page, RoomFilter, RoomPatch, RoomQuery, RoomSort, RoomView, Rooms, Window,
};
pub use sockets::{RoomSocket, Sockets, UserStream};
pub use users::{IssuedUser, NewUser, Users};

use std::sync::Arc;
use std::time::Duration;

/// Every use case, wired over one set of ports. Cheap to clone.
#[derive(Clone)]
pub struct ChatApp {
    pub auth: Authenticator,
    pub accounts: Accounts,
    pub users: Users,
    pub rooms: Rooms,
    pub members: Members,
    pub messages: Messages,
    pub files: Files,
    pub sockets: Sockets,
    pub health: Arc<dyn StoreHealth>,
}

impl std::fmt::Debug for ChatApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatApp").finish_non_exhaustive()
    }
}

/// The ports one storage adapter provides.
pub trait Store:
    AccountStore
    + UserStore
    + UserDirectory
    + CredentialStore
    + RoomStore
    + MemberStore
    + MessageStore
    + FileIndex
    + StoreHealth
{
}
impl<T> Store for T where
    T: AccountStore
        + UserStore
        + UserDirectory
        + CredentialStore
        + RoomStore
        + MemberStore
        + MessageStore
        + FileIndex
        + StoreHealth
{
}

impl ChatApp {
    /// Wires every use case over `store`, publishing events to `events`.
    pub fn new<S: Store + 'static>(
        store: Arc<S>,
        files: Arc<dyn FileStore>,
        limits: UploadLimits,
        presence: Arc<dyn PresenceStore>,
        events: Arc<dyn EventPublisher>,
        platform_token: Option<PlatformToken>,
    ) -> Self {
        Self::with_credential_cache(
            store,
            files,
            limits,
            presence,
            events,
            platform_token,
            Duration::ZERO,
        )
    }

    /// As [`ChatApp::new`], remembering credentials for `credential_ttl` (zero: never).
    pub fn with_credential_cache<S: Store + 'static>(
        store: Arc<S>,
        files: Arc<dyn FileStore>,
        limits: UploadLimits,
        presence: Arc<dyn PresenceStore>,
        events: Arc<dyn EventPublisher>,
        platform_token: Option<PlatformToken>,
        credential_ttl: Duration,
    ) -> Self {
        let credentials = Arc::new(CredentialCache::new(credential_ttl));
        Self {
            files: Files::new(files.clone(), limits),
            sockets: Sockets::new(store.clone(), store.clone()),
            members: Members::new(
                store.clone(),
                store.clone(),
                store.clone(),
                presence,
                events.clone(),
            ),
            messages: Messages::new(
                store.clone(),
                store.clone(),
                store.clone(),
                files.clone(),
                events.clone(),
            ),
            rooms: Rooms::new(store.clone(), store.clone(), files, events),
            auth: Authenticator::with_cache(store.clone(), platform_token, credentials.clone()),
            accounts: Accounts::with_cache(store.clone(), credentials),
            users: Users::new(store.clone()),
            health: store,
        }
    }
}
