//! Secrets that authenticate callers.
//!
//! A secret is 256 random bits, shown once when it is made and stored only as its
//! SHA-256 hash. Because secrets are high-entropy, a fast unsalted hash is both safe
//! (nothing to brute-force) and what makes an indexed look-up by hash possible.

use std::fmt;

use sha2::{Digest, Sha256};

/// The kinds of secret the server issues. (The platform token is set by the operator.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// An account's integration key: administrator rights, no user identity.
    ApiKey,
    /// A user's access token: that user, with that user's role.
    UserToken,
    /// An end user's scoped key (`POST /api/v1/users/login`): that user, as an agent,
    /// narrowed to its permissions, until it expires.
    ScopedKey,
}

impl CredentialKind {
    /// A readable prefix, so that a leaked secret can be recognised by scanners and people.
    pub fn prefix(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => "ck_",
            CredentialKind::UserToken => "ut_",
            CredentialKind::ScopedKey => "sk_",
        }
    }
}

/// The operating system could not provide random bytes, so no secret can be made. It
/// carries the system's own message.
#[derive(Debug)]
pub struct EntropyUnavailable(pub String);

impl fmt::Display for EntropyUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no randomness available: {}", self.0)
    }
}

impl std::error::Error for EntropyUnavailable {}

/// A secret in clear. It is only ever handed back to its owner once; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// Number of random bytes in a generated secret.
    pub const RANDOM_BYTES: usize = 32;

    /// A new secret of `kind`: its prefix and 64 lowercase hex digits from the
    /// operating system's random source. Fails with [`EntropyUnavailable`] only when
    /// that source cannot be read.
    pub fn generate(kind: CredentialKind) -> Result<Self, EntropyUnavailable> {
        let mut bytes = [0u8; Self::RANDOM_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| EntropyUnavailable(e.to_string()))?;
        Ok(Self::from_random_bytes(kind, &bytes))
    }

    fn from_random_bytes(kind: CredentialKind, bytes: &[u8]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(kind.prefix().len() + bytes.len() * 2);
        text.push_str(kind.prefix());
        for byte in bytes {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Self(text)
    }

    /// The secret itself, to show to its owner exactly once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored for it: its SHA-256, the same as [`TokenHash::of`] its text.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// The SHA-256 of a presented or issued secret: what is stored and looked up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The SHA-256 of a secret as presented by a caller (no trimming or other change),
    /// to compare with or look up among stored hashes.
    pub fn of(presented: &str) -> Self {
        Self(Sha256::digest(presented.as_bytes()).into())
    }

    /// A hash read back from storage, as [`as_bytes`](Self::as_bytes) gave it.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes of the digest, to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares in time independent of where the hashes differ.
    pub fn constant_time_eq(&self, other: &TokenHash) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not a secret, but there is no reason to print it either.
        f.write_str("TokenHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_carry_their_kind_and_256_bits() {
        let token = SecretToken::generate(CredentialKind::ApiKey).unwrap_or_else(|e| panic!("{e}"));
        let text = token.expose();
        assert!(text.starts_with("ck_"), "{text}");
        let hex = &text[3..];
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        let user =
            SecretToken::generate(CredentialKind::UserToken).unwrap_or_else(|e| panic!("{e}"));
        assert!(user.expose().starts_with("ut_"));
    }

    #[test]
    fn generated_tokens_differ() {
        let a = SecretToken::generate(CredentialKind::UserToken).unwrap_or_else(|e| panic!("{e}"));
        let b = SecretToken::generate(CredentialKind::UserToken).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn hex_encoding_is_exact() {
        let token =
            SecretToken::from_random_bytes(CredentialKind::ApiKey, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(token.expose(), "ck_000fa5ff");
    }

    #[test]
    fn hash_is_sha256_of_the_presented_text() {
        // SHA-256("abc"), from FIPS 180-2.
        let expected: [u8; 32] = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad,
        ];
        assert_eq!(TokenHash::of("abc").as_bytes(), &expected);
        assert!(TokenHash::of("abc").constant_time_eq(&TokenHash::from_bytes(expected)));
        assert!(!TokenHash::of("abd").constant_time_eq(&TokenHash::from_bytes(expected)));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let token = SecretToken::generate(CredentialKind::ApiKey).unwrap_or_else(|e| panic!("{e}"));
        let printed = format!("{token:?} {:?}", token.hash());
        assert!(!printed.contains(&token.expose()[3..]), "{printed}");
    }
}
