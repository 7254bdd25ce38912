//! What the tests share: the Redis they run against (`CHAT_TEST_REDIS_URL`, else
//! `redis://127.0.0.1:6379`), a key prefix of their own per test (removed with every key
//! under it when the test ends), and memberships that tests change at will.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_app::RoomStore;
use chat_app::ports::MockRoomStore;
use chat_domain::{AccountId, RoomId, UserId};
use chat_redis::{RedisAllowances, RedisPresence};
use redis::Commands;
use redis::aio::ConnectionManager;
use uuid::Uuid;

/// The Redis of the tests.
pub fn redis_url() -> String {
    std::env::var("CHAT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A connection of its own (as a node has), or a failed test that says what is missing.
pub async fn connection() -> ConnectionManager {
    let url = redis_url();
    match chat_redis::connect(&url).await {
        Ok(conn) => conn,
        Err(error) => panic!(
            "no Redis for the tests at {url} ({error:#}): start one (`make test` does, \
             through scripts/service-url.sh redis) or set CHAT_TEST_REDIS_URL"
        ),
    }
}

/// One test's keys: a prefix nobody else uses, and every key under it removed on drop
/// (a failed test included).
#[derive(Debug)]
pub struct Space {
    pub prefix: String,
}

impl Space {
    pub fn new() -> Self {
        Self {
            prefix: format!("chat-test:{}:", Uuid::new_v4()),
        }
    }

    /// A node's presence in this space: a connection of its own.
    pub async fn presence(&self, members: &Memberships) -> RedisPresence {
        RedisPresence::new(connection().await, members.store()).with_prefix(&self.prefix)
    }

    /// A node's allowances in this space: a connection of its own.
    pub async fn allowances(&self) -> RedisAllowances {
        RedisAllowances::new(connection().await).with_prefix(&self.prefix)
    }

    /// The keys under the prefix, without it, sorted.
    pub async fn keys(&self) -> Vec<String> {
        let mut conn = connection().await;
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query_async(&mut conn)
            .await
            .expect("keys listed");
        keys.sort();
        keys.into_iter()
            .map(|key| key[self.prefix.len()..].to_owned())
            .collect()
    }

    /// How many sessions presence keeps, live or expired (the sessions' hashes).
    pub async fn sessions(&self) -> usize {
        self.keys()
            .await
            .iter()
            .filter(|key| key.starts_with("presence:session:"))
            .count()
    }

    /// The time-to-live left of the key `suffix` under the prefix (`PTTL`: -2 when there
    /// is no such key, -1 when it does not expire).
    pub async fn pttl(&self, suffix: &str) -> i64 {
        let mut conn = connection().await;
        redis::cmd("PTTL")
            .arg(format!("{}{suffix}", self.prefix))
            .query_async(&mut conn)
            .await
            .expect("PTTL read")
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        // Blocking, on a connection of its own: drop cannot wait for a future.
        let Ok(client) = redis::Client::open(redis_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
            return;
        };
        let keys: Vec<String> = match conn.scan_match(format!("{}*", self.prefix)) {
            Ok(keys) => keys.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> = conn.del(keys);
        }
    }
}

/// Who belongs to which room, as the [`RoomStore`] that presence asks tells it.
#[derive(Debug, Clone, Default)]
pub struct Memberships(Arc<Mutex<HashSet<(AccountId, RoomId, UserId)>>>);

impl Memberships {
    pub fn add(&self, account: AccountId, room: RoomId, users: &[UserId]) {
        let mut all = self.0.lock().expect("memberships");
        all.extend(users.iter().map(|user| (account, room, *user)));
    }

    pub fn remove(&self, account: AccountId, room: RoomId, user: UserId) {
        self.0
            .lock()
            .expect("memberships")
            .remove(&(account, room, user));
    }

    /// A room store that answers `members_among` from these memberships, and nothing
    /// else (anything else presence asked would fail the test).
    pub fn store(&self) -> Arc<dyn RoomStore> {
        let all = self.0.clone();
        let mut store = MockRoomStore::new();
        store
            .expect_members_among()
            .returning(move |account, room, users| {
                let all = all.lock().expect("memberships");
                Ok(users
                    .into_iter()
                    .filter(|user| all.contains(&(account, room, *user)))
                    .collect())
            });
        Arc::new(store)
    }
}
