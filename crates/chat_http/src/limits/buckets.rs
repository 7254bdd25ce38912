//! The buckets: GCRA state from `governor`, keyed by the SHA-256 of the credential (what
//! is stored, never the secret) and by client address for failed authentications.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_domain::TokenHash;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::config::{Rate, RateConfig};
use super::shared::{Bucket, SharedBuckets};
pub use super::verdict::Verdict;
use super::verdict::ceil_secs;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// How often idle keys are dropped (`retain_recent`, by [`sweep_every`]'s task), so
/// memory stays bounded by the keys seen within one period.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Which allowance a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// Any authenticated request.
    Requests,
    /// A send: it takes from the send allowance, and its answer reports that one.
    Sends,
}

/// Every bucket of a server node.
pub struct RateLimits {
    config: RateConfig,
    requests: Keyed<TokenHash>,
    sends: Keyed<TokenHash>,
    failures: Keyed<IpAddr>,
    /// Addresses past their failure allowance, until their next failure would be allowed.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    clock: DefaultClock,
    /// Credentials' buckets every node shares, when there is such a store; this node's
    /// buckets stand in while it cannot answer.
    shared: Option<Arc<dyn SharedBuckets>>,
    /// Whether the shared store's last step failed (logged once per outage).
    shared_failing: AtomicBool,
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn non_zero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn quota(rate: Rate) -> Quota {
    Quota::per_second(non_zero(rate.per_sec)).allow_burst(non_zero(rate.burst))
}

impl RateLimits {
    pub fn new(config: RateConfig) -> Self {
        let clock = DefaultClock::default();
        Self {
            requests: RateLimiter::dashmap_with_clock(quota(config.requests), clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            sends: RateLimiter::dashmap_with_clock(quota(config.sends), clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            failures: RateLimiter::dashmap_with_clock(
                Quota::per_minute(non_zero(config.auth_failures_per_min)),
                clock.clone(),
            )
            .with_middleware::<StateInformationMiddleware>(),
            blocked: Mutex::new(HashMap::new()),
            clock,
            config,
            shared: None,
            shared_failing: AtomicBool::new(false),
        }
    }

    /// The same limits, with the credentials' buckets in `shared` (every node's).
    pub fn with_shared(mut self, shared: Arc<dyn SharedBuckets>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// As [`RateLimits::take`], from the shared buckets when there are any (this node's
    /// own while the shared store cannot answer, with a warning once per outage).
    pub async fn take_shared(&self, allowance: Allowance, key: &TokenHash) -> Verdict {
        let Some(shared) = &self.shared else {
            return self.take(allowance, key);
        };
        // As on one node: every request takes from the general bucket, a send then from
        // its own.
        let requests = (Bucket::Requests, self.config.requests);
        let sends = (Bucket::Sends, self.config.sends);
        let buckets: &[(Bucket, Rate)] = match allowance {
            Allowance::Requests => &[requests],
            Allowance::Sends => &[requests, sends],
        };
        match shared.take(key, buckets).await {
            Ok(verdict) => {
                if self.shared_failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits: the shared allowances answer again");
                }
                verdict
            }
            Err(error) => {
                if !self.shared_failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "rate limits: the shared allowances cannot answer; this node's own buckets stand in"
                    );
                }
                self.take(allowance, key)
            }
        }
    }

    pub fn config(&self) -> &RateConfig {
        &self.config
    }

    /// Takes one request of `allowance` from the credential whose hash is `key`. A send
    /// takes from both allowances and reports the one that is lower.
    pub fn take(&self, allowance: Allowance, key: &TokenHash) -> Verdict {
        let general = self.take_from(&self.requests, key);
        match allowance {
            Allowance::Requests => general,
            Allowance::Sends if general.retry_after.is_some() => general,
            Allowance::Sends => self.take_from(&self.sends, key),
        }
    }

    fn take_from(&self, limiter: &Keyed<TokenHash>, key: &TokenHash) -> Verdict {
        match limiter.check_key(key) {
            Ok(snapshot) => {
                let quota = snapshot.quota();
                let limit = quota.burst_size().get();
                let remaining = snapshot.remaining_burst_capacity();
                let refill = quota.replenish_interval() * (limit - remaining.min(limit));
                Verdict::new(limit, remaining, refill, None)
            }
            Err(not_until) => {
                let quota = not_until.quota();
                let limit = quota.burst_size().get();
                let wait = not_until.wait_time_from(self.clock.now());
                Verdict::new(limit, 0, quota.burst_size_replenished_in(), Some(wait))
            }
        }
    }

    /// Seconds the address must wait before it may try a credential again; `None` if it
    /// has not failed too often.
    pub fn refused_address(&self, address: IpAddr) -> Option<u64> {
        let mut blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&address)?;
        let now = Instant::now();
        if until > now {
            Some(ceil_secs(until - now).max(1))
        } else {
            blocked.remove(&address);
            None
        }
    }

    /// Counts a failed authentication of `address`; past the allowance the address is
    /// refused until its allowance has room again.
    pub fn record_failure(&self, address: IpAddr) {
        if let Err(not_until) = self.failures.check_key(&address) {
            let wait = not_until.wait_time_from(self.clock.now());
            if let Ok(mut blocked) = self.blocked.lock() {
                blocked.insert(address, Instant::now() + wait);
            }
        }
    }

    /// Drops the keys whose buckets are full again (they behave as new), and the
    /// addresses whose refusal is over.
    pub fn sweep(&self) {
        self.requests.retain_recent();
        self.sends.retain_recent();
        self.failures.retain_recent();
        let now = Instant::now();
        if let Ok(mut blocked) = self.blocked.lock() {
            blocked.retain(|_, until| *until > now);
        }
    }

    /// Keys held by the credential buckets.
    pub fn tracked_keys(&self) -> usize {
        self.requests.len() + self.sends.len()
    }
}

/// Sweeps `limits` every [`SWEEP_EVERY`] on a task of its own, for as long as they
/// exist: a sweep walks every key, so it stays off the requests' path.
pub fn sweep_every(limits: std::sync::Weak<RateLimits>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(limits) = limits.upgrade() else {
                break;
            };
            limits.sweep();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(requests: Rate, sends: Rate) -> RateLimits {
        RateLimits::new(RateConfig {
            requests,
            sends,
            auth_failures_per_min: 2,
            ..RateConfig::default()
        })
    }

    #[test]
    fn remaining_decreases_then_the_credential_is_refused() {
        let limits = limits(
            Rate {
                per_sec: 1,
                burst: 3,
            },
            Rate {
                per_sec: 1,
                burst: 1,
            },
        );
        let key = TokenHash::of("secret");
        let seen: Vec<u32> = (0..3)
            .map(|_| limits.take(Allowance::Requests, &key).remaining)
            .collect();
        assert_eq!(seen, [2, 1, 0]);
        let refused = limits.take(Allowance::Requests, &key);
        assert_eq!(refused.retry_after, Some(1));
        assert_eq!(refused.limit, 3);
        let other = limits.take(Allowance::Requests, &TokenHash::of("other"));
        assert_eq!(other.retry_after, None);
    }

    #[test]
    fn sends_have_their_own_smaller_allowance() {
        let generous = Rate {
            per_sec: 100,
            burst: 100,
        };
        let limits = limits(
            generous,
            Rate {
                per_sec: 1,
                burst: 1,
            },
        );
        let key = TokenHash::of("secret");
        assert_eq!(limits.take(Allowance::Sends, &key).limit, 1);
        assert!(limits.take(Allowance::Sends, &key).retry_after.is_some());
        assert!(limits.take(Allowance::Requests, &key).retry_after.is_none());
    }

    #[test]
    fn an_address_is_refused_past_its_failures() {
        let limits = limits(DEFAULT_FOR_TESTS, DEFAULT_FOR_TESTS);
        let address = IpAddr::from([203, 0, 113, 9]);
        limits.record_failure(address);
        limits.record_failure(address);
        assert_eq!(limits.refused_address(address), None);
        limits.record_failure(address);
        assert!(limits.refused_address(address).is_some());
        assert_eq!(
            limits.refused_address(IpAddr::from([203, 0, 113, 10])),
            None
        );
    }

    const DEFAULT_FOR_TESTS: Rate = Rate {
        per_sec: 1000,
        burst: 1000,
    };

    #[test]
    fn a_million_keys_do_not_stay_once_their_buckets_refill() {
        let limits = limits(
            Rate {
                per_sec: 1_000_000_000,
                burst: 1,
            },
            DEFAULT_FOR_TESTS,
        );
        for n in 0..1_000_000u32 {
            limits.take(Allowance::Requests, &TokenHash::of(&n.to_string()));
        }
        assert!(limits.tracked_keys() > 0);
        std::thread::sleep(Duration::from_millis(10));
        limits.sweep();
        assert_eq!(limits.tracked_keys(), 0);
    }
}
