//! Who is calling: turning a presented secret into an [`crate::Actor`] — the platform
//! token, a stored credential (API key, user token, scoped key) or a signed token
//! (JWT) — and the cache of credentials found recently.

mod authenticator;
mod cache;
mod jwt;
mod platform;

pub use authenticator::{Authenticated, Authenticator, access_of};
pub use cache::CredentialCache;
pub use jwt::{SigningMaster, SigningSecret};
pub use platform::PlatformToken;

#[cfg(test)]
mod tests;
