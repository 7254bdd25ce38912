//! Signed tokens (JWT, HS256) minted by an integration with its account's signing
//! secret. The secret is never stored: it is `HMAC-SHA256(server key, seed)`, and only
//! the seed is kept (see docs/decisions.md).

use std::fmt;

use chat_domain::FieldError;

/// The server's secret key (`CHAT_SECRET_KEY`), from which every signing secret is
/// derived. The same on every node.
#[derive(Clone)]
pub struct SigningMaster(Vec<u8>);

impl fmt::Debug for SigningMaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningMaster(<redacted>)")
    }
}

impl SigningMaster {
    /// At least 32 characters once trimmed (field `secret_key`).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let _ = raw;
        todo!("issue 14: SigningMaster::parse")
    }

    /// The signing secret a seed stands for.
    pub fn derive(&self, seed: &[u8; 32]) -> SigningSecret {
        let _ = (&self.0, seed);
        todo!("issue 14: SigningMaster::derive")
    }
}

/// An account's signing secret in clear: shown once, and the HMAC key of its tokens
/// (the UTF-8 bytes of [`SigningSecret::expose`]). `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}
