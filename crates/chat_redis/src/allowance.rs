//! [`RedisAllowances`]: rate-limit allowances every node takes from, so one credential
//! has one allowance however many nodes its requests reach.
//!
//! The generic cell rate algorithm (GCRA), as `governor` runs it on one node, with its
//! state in Redis: per key, one number, the theoretical arrival time (TAT) of the next
//! request if requests came exactly at the allowed rate. A request is allowed when the
//! TAT after it is at most `burst` intervals ahead of now. One script reads and writes
//! it atomically and takes now from Redis's `TIME` (microseconds), so every node shares
//! one clock; the key expires when the allowance is full again, so idle keys cost
//! nothing and need no sweeping.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use redis::Script;
use redis::aio::ConnectionManager;

use crate::{DEFAULT_PREFIX, connect};

/// KEYS: the allowances' keys, taken from in turn. ARGV: for each key, its emission
/// interval (µs between two requests at the allowed rate, at least 1) and its burst (at
/// least 1). Stops at the first allowance that refuses (the ones before it have counted
/// the request, as on one node). Answers, for the last allowance asked: {allowed (1 or
/// 0), remaining, µs until it is full again, µs to wait before a retry (0 when
/// allowed), its position (1-based)}.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local answer
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local next_tat = tat + interval
  local allowed_from = next_tat - interval * burst
  if now < allowed_from then
    return {0, 0, tat - now, allowed_from - now, i}
  end
  local full_in = next_tat - now
  redis.call('SET', KEYS[i], string.format('%d', next_tat), 'PX', math.ceil(full_in / 1000))
  answer = {1, math.floor((now - allowed_from) / interval), full_in, 0, i}
end
return answer
"#;

/// One allowance of a [`RedisAllowances::take_in_turn`]: its key (never a secret: keys
/// are readable by whoever reads Redis), and the rate it lets through: `per_sec` a second
/// after a `burst` at once (0 counts as 1 for both, as on one node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance<'a> {
    /// The key, under the prefix.
    pub key: &'a str,
    /// Requests a second.
    pub per_sec: u32,
    /// Requests at once.
    pub burst: u32,
}

/// What one request was told by an allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Whether the request may go on (it was counted); a refused one is not counted.
    pub allowed: bool,
    /// Requests the allowance would still let through now (0 when refused).
    pub remaining: u32,
    /// How long until the allowance is full again (`X-RateLimit-Reset` is now plus this).
    pub reset_after: Duration,
    /// When refused, how long until one request would be allowed (`Retry-After`).
    pub retry_after: Option<Duration>,
}

/// Allowances in Redis (GCRA, see the module docs), shared by every node that uses the
/// same Redis and prefix. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct RedisAllowances {
    conn: ConnectionManager,
    prefix: String,
    script: Arc<Script>,
}

impl fmt::Debug for RedisAllowances {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAllowances")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisAllowances {
    /// Allowances in the Redis at `url`, connected now (see [`connect`]).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(Self::new(connect(url).await?))
    }

    /// Allowances over an existing connection (one can serve [`crate::RedisPresence`]
    /// too), with keys under [`DEFAULT_PREFIX`].
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: DEFAULT_PREFIX.to_owned(),
            script: Arc::new(Script::new(GCRA)),
        }
    }

    /// The same allowances with every key under `prefix` instead. Every node of a
    /// deployment must use the same, or their allowances part.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Takes one request from the allowance `key` (e.g. `requests:{credential hash}`;
    /// never a secret: keys are readable by whoever reads Redis), which lets `per_sec`
    /// requests a second through after a `burst` at once (0 counts as 1 for both, as on
    /// one node). Err when Redis cannot answer: the caller chooses between its own
    /// node's buckets, refusing, and letting through.
    pub async fn take(&self, key: &str, per_sec: u32, burst: u32) -> anyhow::Result<Gcra> {
        let (_, gcra) = self
            .take_in_turn(&[Allowance {
                key,
                per_sec,
                burst,
            }])
            .await?;
        Ok(gcra)
    }

    /// Takes one request from each of `allowances` in turn, in one round trip, stopping at
    /// the first that refuses (a send takes from a credential's general allowance, then
    /// from its send allowance). Answers the position of the last allowance asked, and
    /// what it told. Err when Redis cannot answer, or `allowances` is empty.
    pub async fn take_in_turn(
        &self,
        allowances: &[Allowance<'_>],
    ) -> anyhow::Result<(usize, Gcra)> {
        anyhow::ensure!(!allowances.is_empty(), "no allowance to take from");
        let mut invocation = self.script.prepare_invoke();
        for allowance in allowances {
            invocation
                .key(format!("{}gcra:{}", self.prefix, allowance.key))
                .arg(interval_micros(allowance.per_sec))
                .arg(allowance.burst.max(1));
        }
        let mut conn = self.conn.clone();
        let (allowed, remaining, reset_after, retry_after, position): (i64, i64, i64, i64, i64) =
            invocation
                .invoke_async(&mut conn)
                .await
                .context("Redis: taking from a shared allowance")?;
        let position = usize::try_from(position - 1).unwrap_or(0);
        Ok((
            position.min(allowances.len() - 1),
            Gcra {
                allowed: allowed == 1,
                remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
                reset_after: micros(reset_after),
                retry_after: (allowed != 1).then(|| micros(retry_after)),
            },
        ))
    }
}

/// Microseconds between two requests at `per_sec` a second (0 counts as 1), at least 1.
fn interval_micros(per_sec: u32) -> u64 {
    (1_000_000 / u64::from(per_sec.max(1))).max(1)
}

/// A non-negative duration from the script's microseconds.
fn micros(n: i64) -> Duration {
    Duration::from_micros(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emission_interval_is_whole_microseconds_and_never_zero() {
        assert_eq!(interval_micros(0), 1_000_000);
        assert_eq!(interval_micros(1), 1_000_000);
        assert_eq!(interval_micros(3), 333_333);
        assert_eq!(interval_micros(u32::MAX), 1);
    }

    #[test]
    fn negative_script_times_read_as_zero() {
        assert_eq!(micros(-5), Duration::ZERO);
        assert_eq!(micros(1500), Duration::from_micros(1500));
    }
}
