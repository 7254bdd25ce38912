//! Nodes that share NATS and Redis (CONTRACT §12): the servers the tests use
//! (`CHAT_TEST_NATS_URL`, `CHAT_TEST_REDIS_URL`; `make test` sets them through
//! `scripts/service-url.sh`), and test servers that relay live events through NATS and
//! keep presence and allowances in Redis.
//!
//! Tests run side by side against one NATS and one Redis: each test's nodes take subject
//! and key prefixes of their own, made from the name of the database they serve (which
//! every node of a test shares, and no other test has), so no test hears another's.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use chatd::{Secret, Settings};

use crate::app::TestApp;

/// The NATS of the tests: `CHAT_TEST_NATS_URL`, else the usual local port.
pub fn test_nats_url() -> String {
    std::env::var("CHAT_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// The Redis of the tests: `CHAT_TEST_REDIS_URL`, else the usual local port.
pub fn test_redis_url() -> String {
    std::env::var("CHAT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The `host:port` of a `scheme://[user[:password]@]host:port[/…]` URL (the first of a
/// comma-separated list).
pub fn host_and_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let first = rest.split(',').next().unwrap_or(rest);
    let host = first.rsplit_once('@').map_or(first, |(_, host)| host);
    host.split(['/', '?']).next().unwrap_or(host)
}

/// Fails the test, saying what is missing and how to get it, when nothing answers at
/// `url` (`what`: "NATS", "Redis"; `variable`: the environment variable that names it).
pub fn assert_reachable(what: &str, url: &str, variable: &str) {
    let address = host_and_port(url);
    let addresses: Vec<SocketAddr> = address
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("{variable}: {what} address {address:?} not understood: {e}"))
        .collect();
    let connected = addresses
        .iter()
        .any(|addr| TcpStream::connect_timeout(addr, Duration::from_secs(2)).is_ok());
    assert!(
        connected,
        "{what} does not answer at {address}: the many-node tests need it. Start it \
         (`make test` does, through scripts/service-url.sh), or set {variable} to one that runs"
    );
}

/// The name of the test database `database_url` names (`chat_test_…`).
fn database_name(database_url: &str) -> &str {
    let start = database_url
        .find("chat_test_")
        .unwrap_or_else(|| panic!("no test database named in {database_url:?}"));
    let rest = &database_url[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Turns NATS and Redis on in `settings` (failing the test, clearly, when either does not
/// answer), with subject and key prefixes of the database the settings name: every node
/// over one database hears the others, and only them.
pub fn use_brokers(settings: &mut Settings) {
    let nats = test_nats_url();
    let redis = test_redis_url();
    assert_reachable("NATS", &nats, "CHAT_TEST_NATS_URL");
    assert_reachable("Redis", &redis, "CHAT_TEST_REDIS_URL");
    let database_url = settings
        .database_url
        .as_ref()
        .map(|url| url.expose().to_owned())
        .unwrap_or_default();
    let name = database_name(&database_url);
    settings.nats_url = Some(Secret::new(nats));
    settings.nats_subject_prefix = format!("test.{name}.chat.events");
    settings.redis_url = Some(Secret::new(redis));
    settings.redis_prefix = format!("chat-test:{name}:");
}

impl TestApp {
    /// A server that relays live events through the tests' NATS and keeps presence and
    /// allowances in their Redis ([`use_brokers`]), with settings `customise` may change
    /// after that. What its nodes leave in Redis expires by itself (every presence key
    /// does, a minute after the sessions it holds).
    pub async fn spawn_with_brokers(customise: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_with(|settings| {
            use_brokers(settings);
            customise(settings);
        })
        .await
    }

    /// Another node over this server's database, on the same NATS subjects and Redis keys
    /// ([`use_brokers`]), with settings `customise` may change after that. Declare it after
    /// `self`, so that it stops first.
    pub async fn spawn_sharing_with_brokers(
        &self,
        customise: impl FnOnce(&mut Settings),
    ) -> TestApp {
        self.spawn_sharing_with(|settings| {
            use_brokers(settings);
            customise(settings);
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_of_a_url_is_its_host_and_port() {
        assert_eq!(host_and_port("nats://127.0.0.1:4222"), "127.0.0.1:4222");
        assert_eq!(host_and_port("nats://u:p@h:1,h2:2"), "h:1");
        assert_eq!(host_and_port("redis://:secret@h:6379/2"), "h:6379");
        assert_eq!(host_and_port("h:5"), "h:5");
    }

    #[test]
    fn the_database_name_is_found_in_either_form_of_url() {
        let name = "chat_test_0123abcd";
        assert_eq!(
            database_name(&format!("postgres://u@h:5432/{name}?sslmode=disable")),
            name
        );
        assert_eq!(
            database_name(&format!("host=h dbname={name} sslmode=disable")),
            name
        );
    }
}
