//! The allowances, as the operator set them.

use super::address::TrustedProxies;

/// So many requests a second, with a burst of `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_sec: u32,
    pub burst: u32,
}

/// Every allowance of the HTTP API.
#[derive(Debug, Clone)]
pub struct RateConfig {
    /// Every authenticated request of one credential (sends included).
    pub requests: Rate,
    /// Sends (`POST` of a message, in both dialects) of one credential.
    pub sends: Rate,
    /// Failed authentications (answers 401) of one client address, a minute.
    pub auth_failures_per_min: u32,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

/// Default of [`RateConfig::requests`]: 100 a second, 500 at once.
pub const DEFAULT_REQUESTS: Rate = Rate {
    per_sec: 100,
    burst: 500,
};

/// Default of [`RateConfig::sends`]: 20 a second, 100 at once.
pub const DEFAULT_SENDS: Rate = Rate {
    per_sec: 20,
    burst: 100,
};

/// Default of [`RateConfig::auth_failures_per_min`].
pub const DEFAULT_AUTH_FAILURES_PER_MIN: u32 = 100;

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            requests: DEFAULT_REQUESTS,
            sends: DEFAULT_SENDS,
            auth_failures_per_min: DEFAULT_AUTH_FAILURES_PER_MIN,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}
