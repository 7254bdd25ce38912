//! Rate limits (CONTRACT §8): a GCRA bucket per credential, a smaller one for sends, and
//! an allowance of failed authentications per client address, applied by one middleware
//! before any handler runs (so nothing of a refused request is read or stored).

mod address;
mod buckets;
mod config;
mod middleware;
mod openapi;
mod shared;
#[cfg(test)]
mod shared_tests;
mod verdict;

pub use address::TrustedProxies;
pub use buckets::{Allowance, RateLimits, SWEEP_EVERY, Verdict, sweep_every};
pub use config::{
    DEFAULT_AUTH_FAILURES_PER_MIN, DEFAULT_REQUESTS, DEFAULT_SENDS, Rate, RateConfig,
};
pub use middleware::limit;
pub use openapi::document_rate_limits;
pub use shared::{Bucket, SharedBuckets, key_text};
