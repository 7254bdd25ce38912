//! Live delivery: the events sockets receive, what crosses between server nodes, the
//! ports that carry them, and the live-session use case.
//!
//! - what sockets receive: [`LiveEvent`], [`Typing`], [`PresenceChange`];
//! - between nodes: [`Notice`] through an [`EventRelay`], into a [`RelayInbox`];
//! - presence: [`PresenceStore`];
//! - this node's hub: the [`LiveHub`] port and its subscription data ([`Scope`],
//!   [`Connection`], [`Delivery`] with its [`Context`] and shared [`RenderCache`]);
//! - the use case, [`LiveSessions`]: admission ([`LiveSession`] or a [`Refusal`]),
//!   presence, subscription, replay, and what each client frame ([`LiveCommand`]) does
//!   ([`Reply`] or [`FrameError`]), at a rate a [`FrameRate`] allows, and how many
//!   sockets a person may have open on this node ([`OpenSockets`], [`SocketPlace`]);
//! - sockets follow their credential: what a socket was let in with
//!   ([`SocketCredential`]), the hub's [`CredentialWatcher`], and a socket's
//!   [`CredentialWatch`], which ends ([`CredentialEnd`]) when the credential is revoked,
//!   rotated or expires, or its user or account is deactivated.

mod command;
mod credentials;
mod events;
mod follow;
mod frames;
mod hub;
mod lifecycle;
mod presence;
mod rate;
mod relay;
mod session;
mod sessions;
mod sockets_per_user;

pub use command::{FrameError, LiveCommand, MessageDraft, Reply};
pub use credentials::{CredentialEnd, CredentialWatcher, SocketCredential};
pub use events::{LiveEvent, PresenceChange, Typing};
pub use follow::CredentialWatch;
pub use follow::{RECHECK_ATTEMPTS, RECHECK_BACKOFF, RECHECK_CONCURRENCY};
#[cfg(any(test, feature = "mock"))]
pub use hub::MockLiveHub;
pub use hub::{
    Connection, ConnectionState, Context, Deliveries, Delivery, LiveHub, RenderCache, Scope,
};
pub use lifecycle::{PRESENCE_CLOSE_ATTEMPTS, PRESENCE_CLOSE_BACKOFF, Replay};
#[cfg(any(test, feature = "mock"))]
pub use presence::MockPresenceStore;
pub use presence::{MirroredPresence, NobodyOnline, PresenceSession, PresenceStore};
pub use rate::{FrameRate, FrameVerdict, REFUSALS_BEFORE_CLOSE};
pub use relay::{EventRelay, MembershipChange, MessageChange, Notice, RelayInbox, RoomChange};
pub use session::{LiveSession, Presence, Refusal, SessionKind};
pub use sessions::LiveSessions;
pub use sockets_per_user::{OpenSockets, SocketPlace};

#[cfg(test)]
mod tests;
