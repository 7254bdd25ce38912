//! Allowances shared by every node: with a shared store (Redis, `CHAT_REDIS_URL`), one
//! credential has one allowance however many nodes its requests reach; without one, each
//! node keeps its own buckets (`RateLimits`), and the allowance is per node.

use std::fmt;

use chat_domain::TokenHash;
use futures_util::future::BoxFuture;

use super::config::Rate;
use super::verdict::Verdict;

/// Which of a credential's buckets a shared step takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Every authenticated request.
    Requests,
    /// Sends.
    Sends,
}

impl Bucket {
    /// Its name in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Requests => "requests",
            Bucket::Sends => "sends",
        }
    }
}

/// GCRA steps in a store every node shares. Implemented beside the store's client
/// (`chatd` wires Redis's); this crate only asks.
pub trait SharedBuckets: Send + Sync + fmt::Debug {
    /// Takes one from each of `buckets` (with its allowance) of the credential whose hash
    /// is `key`, in turn and in one round trip, stopping at the first that refuses; answers
    /// the verdict of the last bucket asked. `Err` when the store cannot answer: the caller
    /// falls back to its own node's buckets rather than refusing or letting everything
    /// through.
    fn take<'a>(
        &'a self,
        key: &'a TokenHash,
        buckets: &'a [(Bucket, Rate)],
    ) -> BoxFuture<'a, anyhow::Result<Verdict>>;
}

/// The hexadecimal form of a credential hash, for keys in a shared store (the hash, never
/// the secret).
pub fn key_text(key: &TokenHash) -> String {
    key.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}
