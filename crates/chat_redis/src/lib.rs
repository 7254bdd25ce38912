//! Redis adapter of the chat-rooms server, for deployments of many nodes
//! (`CHAT_REDIS_URL`, CONTRACT §12): [`RedisPresence`], the `PresenceStore` every node
//! shares, and [`RedisAllowances`], rate-limit allowances (GCRA) every node takes from,
//! so that one credential has one allowance however many nodes its requests reach.
//!
//! Both talk through a [`ConnectionManager`] (one multiplexed connection that reconnects
//! by itself); [`connect`] makes one with short timeouts, and both types can share it.
//! Every change that touches several keys is one Lua script ([`redis::Script`]), so it is
//! atomic, and every script reads the time with Redis's `TIME`: all nodes judge expiry
//! and allowances by one clock, whatever their own clocks say.
//!
//! # Key layout
//!
//! Every key starts with a prefix ([`DEFAULT_PREFIX`], `chat:`, unless `with_prefix`
//! chose another: tests take one each, so they run in parallel on one server). Times are
//! Redis's own: milliseconds for presence, microseconds for allowances.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{p}presence:session:{id}` | hash | one socket: `node`, `account`, `room` (empty for a user's stream), `key` (the ChatAPI `user_id`), `user` (empty when none) |
//! | `{p}presence:place:{account}:{room or -}:{key}` | sorted set | the sessions of one person in one place (a room, or `-` for their stream), scored by expiry: how many they have |
//! | `{p}presence:room:{account}:{room}` | sorted set | `{id}:{key}` of each socket to the room, scored by expiry: who is in the room |
//! | `{p}presence:streams:{account}` | sorted set | `{id}:{user}:{key}` of each user's stream of all their rooms, scored by expiry |
//! | `{p}presence:user:{account}:{user}` | sorted set | the sessions naming a user, scored by expiry: whether they are online |
//! | `{p}presence:node:{node}` | set | the sessions a node holds, which its heartbeat renews |
//! | `{p}presence:expiry` | sorted set | every session, scored by expiry: what heartbeats sweep |
//! | `{p}gcra:{key}` | string | one allowance's theoretical arrival time (µs), expiring when the allowance is full again |
//!
//! A session is live while its score is in the future. Sessions do not vanish when
//! their score passes: a node whose heartbeat was late renews its sessions as
//! PostgreSQL's store does (their sockets are still open), and any node's heartbeat
//! sweeps what expired. Every presence key also has a time to live, a minute past the
//! latest expiry it holds (only ever lengthened), so that what no live node sweeps any
//! more (a deployment whose nodes are all gone, a test's prefix) goes by itself. Empty
//! sets vanish by themselves. The presence scripts name keys built from what a session
//! holds, so they need one Redis (or a primary with replicas), not Redis Cluster; the
//! allowance script names its one key and runs anywhere.

#![warn(missing_docs)]

mod allowance;
mod presence;

use std::time::Duration;

use anyhow::Context;
use chat_app::StoreError;
use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use crate::allowance::{Allowance, Gcra, RedisAllowances};
pub use crate::presence::RedisPresence;

/// The prefix of every key unless `with_prefix` chose another.
pub const DEFAULT_PREFIX: &str = "chat:";

/// How long one connection attempt may take: a node should learn soon that Redis is away.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one command (a script included) may take before it fails as unavailable.
/// Longer than the client's default (0.5 s): a heartbeat renews a batch of sessions per
/// script.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Reconnection attempts after a lost connection before the pending commands fail (each
/// later command starts another round).
const RECONNECT_ATTEMPTS: usize = 3;

/// A connection to the Redis at `url` (`redis://[:password@]host:port[/db]`), made now,
/// that reconnects by itself. Fails when the URL is not one or Redis does not answer; the
/// error names the address, never the password.
pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).context("not a Redis URL")?;
    let address = client.get_connection_info().addr().to_string();
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(RECONNECT_ATTEMPTS);
    ConnectionManager::new_with_config(client, config)
        .await
        .with_context(|| format!("Redis at {address} does not answer"))
}

/// A Redis failure as the ports report it: `Unavailable` when Redis could not be reached
/// or did not answer in time (the caller may retry, or carry on without presence), else
/// `Unexpected`.
fn store_error(error: RedisError) -> StoreError {
    let away = error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal();
    let error = anyhow::Error::new(error).context("Redis");
    if away {
        StoreError::Unavailable(error)
    } else {
        StoreError::Unexpected(error)
    }
}

/// Milliseconds of `duration`, rounded up (a positive time-to-live never becomes zero),
/// and at most `max`.
fn millis_up(duration: Duration, max: Duration) -> u64 {
    let micros = duration.min(max).as_micros();
    u64::try_from(micros.div_ceil(1000)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_whole_milliseconds_rounded_up_and_capped() {
        let max = Duration::from_secs(10);
        assert_eq!(millis_up(Duration::from_millis(1500), max), 1500);
        assert_eq!(millis_up(Duration::from_micros(1), max), 1);
        assert_eq!(millis_up(Duration::ZERO, max), 0);
        assert_eq!(millis_up(Duration::MAX, max), 10_000);
    }
}
