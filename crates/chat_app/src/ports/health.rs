//! Whether storage is reachable, for readiness probes and metrics.

use async_trait::async_trait;

use super::error::StoreError;

/// Connections in the storage pool, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolState {
    /// Connections open, idle or in use.
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max_size: u32,
}

/// Whether storage is reachable, for readiness probes and metrics.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// `Ok` when a round trip to the database succeeds; `Unavailable` otherwise. For
    /// readiness probes, which time out after about a second: an adapter waits for a
    /// connection only briefly (well under a second), not as long as requests do.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The pool's current state, without waiting.
    fn pool_state(&self) -> PoolState;
}
