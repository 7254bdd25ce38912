//! The use cases of the chat-rooms server, and the ports (traits) they need from the
//! outside world. Adapters (PostgreSQL, HTTP) live in other crates and point inward.
//!
//! A use case takes the calling [`Actor`] and valid domain values, checks the
//! actor's rights, and talks to ports. It returns [`AppError`], which each HTTP
//! dialect renders in its own shape.
//!
//! Imports point one way, down this list: the use-case modules ([`rooms`],
//! [`messages`], [`members`], ...) use the ports ([`ports`]) and the commands,
//! queries and paging types they take ([`model`]); the ports name only [`model`] and
//! the domain; [`model`] names only the domain and [`AppError`].

#![warn(missing_docs)]

mod access;
pub mod accounts;
pub mod actor;
pub mod auth;
pub mod conversations;
pub mod end_users;
pub mod error;
pub mod events;
pub mod files;
pub mod live;
pub mod members;
pub mod messages;
pub mod model;
pub mod ports;
pub mod rooms;
#[cfg(test)]
mod scoped_tests;
pub mod sockets;
#[cfg(test)]
mod testing;
pub mod users;
pub mod webhooks;

pub use access::RoomAction;
pub use accounts::{Accounts, IssuedAccount};
pub use actor::{AccountAccess, Actor};
pub use auth::{
    Authenticated, Authenticator, CredentialCache, PlatformToken, SigningMaster, SigningSecret,
};
pub use conversations::{Conversations, ReadState, ThreadSummary};
pub use end_users::{EndUsers, IssuedScopedKey, IssuedSigningSecret, LoggedOut, Me, TokensRevoked};
pub use error::{AppError, Conflict, Denied, Resource};
pub use events::{
    CredentialEvent, DiscardEvents, DomainEvent, EventPublisher, MemberEvent, MessageEvent,
    RoomEvent,
};
pub use files::{Files, SweepReport, Upload, UploadLimits, UploadPurpose};
pub use live::{
    Connection, ConnectionState, Context, Deliveries, Delivery, EventRelay, FrameError, FrameRate,
    FrameVerdict, LiveCommand, LiveEvent, LiveHub, LiveSession, LiveSessions, MembershipChange,
    MessageChange, MirroredPresence, NobodyOnline, Notice, Presence, PresenceChange,
    PresenceSession, PresenceStore, Refusal, RelayInbox, RenderCache, Replay, Reply, RoomChange,
    Scope, SessionKind, Typing,
};
pub use members::{Members, Online};
pub use messages::{MessageView, Messages, Receipt, Replied};
pub use model::{
    AccountPatch, Detail, EndUserPatch, Join, Login, Mention, MessageDetail, MessageFilter,
    MessageOrder, NewAccount, NewEndUser, NewMessage, NewRoom, NewUser, Outgoing, Page,
    RawOutgoing, RawSearch, RawWebhook, RoomFilter, RoomPatch, RoomQuery, RoomSort, SearchQuery,
    SendContext, SendRules, Sent, Speaker, Unread, UserIds, UserPatch, UserQuery, Window,
};
pub use model::{Along, ListedRoom, NewWebhook, WebhookPatch};
pub use ports::{
    AccountStore, ConversationStore, CredentialOwner, CredentialStore, DeliveredMark, EndUserStore,
    FileChunks, FileIndex, FileStore, FileWriter, ListedFile, MemberChange, MemberStore,
    MessageStore, PoolState, RoomStore, SigningKeys, SigningSeed, StoreError, StoreHealth,
    StoredFile, TokenSubject, UserDirectory, UserStore,
};
pub use ports::{
    Attempt, Claimed, Finished, Outgoing as WebhookOutgoing, Response as WebhookResponse,
    StoredEvent, WebhookRef, WebhookRenderer, WebhookSender, WebhookStore,
};
pub use rooms::{RoomView, Rooms};
pub use sockets::{RoomSocket, Sockets, UserStream};
pub use users::{IssuedUser, Users};
pub use webhooks::{DeliveryCounts, DeliveryPorts, DeliverySettings, WebhookDelivery, Webhooks};

use std::sync::Arc;
use std::time::Duration;

/// Every use case, wired over one set of ports. Cheap to clone.
#[derive(Clone)]
pub struct ChatApp {
    /// Who is calling: credentials to an [`Actor`].
    pub auth: Authenticator,
    /// Accounts and their API keys.
    pub accounts: Accounts,
    /// Users of an account.
    pub users: Users,
    /// Rooms.
    pub rooms: Rooms,
    /// Membership and presence.
    pub members: Members,
    /// Messages and read positions.
    pub messages: Messages,
    /// Search, threads, reactions, pins and read state.
    pub conversations: Conversations,
    /// Uploaded files.
    pub files: Files,
    /// Admission of live connections.
    pub sockets: Sockets,
    /// Whether storage is reachable.
    pub health: Arc<dyn StoreHealth>,
    /// The credentials this node remembers, shared by [`ChatApp::auth`] and every use
    /// case that changes credentials (which empty it).
    pub credentials: Arc<CredentialCache>,
    /// Where every use case publishes its events.
    pub events: Arc<dyn EventPublisher>,
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
    + ConversationStore
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
        + ConversationStore
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
            conversations: Conversations::new(
                store.clone(),
                store.clone(),
                store.clone(),
                store.clone(),
                events.clone(),
            ),
            rooms: Rooms::new(
                store.clone(),
                store.clone(),
                store.clone(),
                files,
                events.clone(),
            ),
            auth: Authenticator::with_cache(store.clone(), platform_token, credentials.clone()),
            accounts: Accounts::with_cache(store.clone(), credentials.clone())
                .with_events(events.clone()),
            users: Users::with_cache(store.clone(), credentials.clone())
                .with_events(events.clone()),
            health: store,
            credentials,
            events,
        }
    }

    /// The end-user use cases (CONTRACT §7) over `store` and `directory`, sharing this
    /// app's credential cache and event publisher; with `master` (`CHAT_SECRET_KEY`),
    /// [`ChatApp::auth`] also accepts the accounts' signed tokens (JWT), and signing
    /// secrets can be made.
    pub fn with_end_users(
        mut self,
        store: Arc<dyn EndUserStore>,
        directory: Arc<dyn UserDirectory>,
        master: Option<SigningMaster>,
    ) -> (Self, EndUsers) {
        if let Some(master) = &master {
            self.auth =
                self.auth
                    .with_signed_tokens(master.clone(), store.clone(), directory.clone());
        }
        let end_users = EndUsers::new(
            store,
            directory,
            self.credentials.clone(),
            self.events.clone(),
            master,
        );
        (self, end_users)
    }
}
