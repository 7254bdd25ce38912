//! What the use cases need from the outside world.
//!
//! Every port is `Send + Sync` and async. Each method's documentation says which
//! [`StoreError`] an adapter must return for which case; anything else is
//! [`StoreError::Unavailable`] (the database cannot be reached) or
//! [`StoreError::Unexpected`].

mod accounts;
mod conversations;
mod end_users;
mod error;
mod files;
mod health;
mod messages;
mod rooms;
mod users;
mod webhooks;

pub use accounts::{AccountStore, CredentialOwner, CredentialStore};
pub use conversations::ConversationStore;
pub use end_users::{EndUserStore, SigningKeys, SigningSeed, TokenSubject};
pub use error::StoreError;
pub use files::{FileChunks, FileIndex, FileStore, FileWriter, ListedFile, StoredFile};
pub use health::{PoolState, StoreHealth};
pub use messages::{DeliveredMark, MessageStore};
pub use rooms::{MemberChange, MemberStore, RoomStore};
pub use users::{UserDirectory, UserStore};
pub use webhooks::{
    Attempt, Claimed, Finished, Outgoing, Response, StoredEvent, WebhookRef, WebhookRenderer,
    WebhookSender, WebhookStore,
};

#[cfg(any(test, feature = "mock"))]
pub use accounts::{MockAccountStore, MockCredentialStore};
#[cfg(any(test, feature = "mock"))]
pub use conversations::MockConversationStore;
#[cfg(any(test, feature = "mock"))]
pub use end_users::MockEndUserStore;
#[cfg(any(test, feature = "mock"))]
pub use files::{MockFileIndex, MockFileStore};
#[cfg(any(test, feature = "mock"))]
pub use health::MockStoreHealth;
#[cfg(any(test, feature = "mock"))]
pub use messages::MockMessageStore;
#[cfg(any(test, feature = "mock"))]
pub use rooms::{MockMemberStore, MockRoomStore};
#[cfg(any(test, feature = "mock"))]
pub use users::{MockUserDirectory, MockUserStore};
#[cfg(any(test, feature = "mock"))]
pub use webhooks::{MockWebhookRenderer, MockWebhookSender, MockWebhookStore};
