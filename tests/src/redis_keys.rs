//! What a test leaves in Redis, removed when it ends.

use std::time::Duration;

/// Every Redis key under `prefix`, removed on drop: a test's nodes leave presence
/// sessions behind (a stopped node does not close its sockets' sessions, and they do not
/// expire by themselves), and no later node sweeps a prefix of a test's own.
#[derive(Debug)]
pub struct RedisKeys {
    pub(crate) url: String,
    pub(crate) prefix: String,
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        // Blocking, on a connection of its own: drop cannot wait for a future. Nothing to
        // do when Redis is away (the test has failed already).
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
            return;
        };
        let keys: Vec<String> =
            match redis::Commands::scan_match(&mut conn, format!("{}*", self.prefix)) {
                Ok(keys) => keys.filter_map(Result::ok).collect(),
                Err(_) => return,
            };
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> = redis::Commands::del(&mut conn, keys);
        }
    }
}
