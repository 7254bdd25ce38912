//! End users and their own credentials (CONTRACT §7, ChatAPI `/api/v1/users/*`):
//! the integration (its API key) makes and changes users, logs them in with scoped
//! keys (`keys`), revokes their credentials, and replaces the account's JWT signing
//! secret (`signing`).
//!
//! | action | API key | the user's own scoped key or signed token | anyone else |
//! |---|---|---|---|
//! | create, list, change users | yes | 401 | 401 |
//! | read one user | yes | itself (another user: 403 `PermissionDenied`) | 401 |
//! | log in, revoke tokens, replace the signing secret | yes | 401 | 401 |
//! | log out | yes | itself (another user: 403 `PermissionDenied`) | 401 |
//!
//! Every change that can make a credential stop working empties this node's
//! credential cache and publishes a [`crate::CredentialEvent`] after it commits, so every node
//! forgets it and re-checks the sockets it opened.

mod keys;
mod people;
mod signing;

pub use keys::{IssuedScopedKey, LoggedOut, TokensRevoked};
pub use people::{EndUsers, Me};
pub use signing::IssuedSigningSecret;

#[cfg(test)]
mod tests;
