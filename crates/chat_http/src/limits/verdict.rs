//! What a request is told of its allowance.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a credential's request was told: its allowance, what is left, when it is full
/// again (unix seconds), and, when refused, the seconds to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
    pub retry_after: Option<u64>,
}

impl Verdict {
    /// The verdict of an allowance of `limit` with `remaining` left, full again in
    /// `full_in`, and, when refused, to be tried again in `retry_in`: the times as the
    /// headers show them (unix seconds for the reset, whole seconds rounded up, at least
    /// one, for the wait).
    pub fn new(limit: u32, remaining: u32, full_in: Duration, retry_in: Option<Duration>) -> Self {
        Self {
            limit,
            remaining,
            reset: unix_now() + ceil_secs(full_in),
            retry_after: retry_in.map(|wait| ceil_secs(wait).max(1)),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Whole seconds, rounded up.
pub(crate) fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}
