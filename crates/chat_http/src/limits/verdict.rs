//! What a request is told of its allowance.

/// What a credential's request was told: its allowance, what is left, when it is full
/// again (unix seconds), and, when refused, the seconds to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
    pub retry_after: Option<u64>,
}
