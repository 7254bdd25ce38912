//! Three `chatd` processes over one database that relay live events through NATS and
//! keep presence in Redis (`CHAT_NATS_URL`, `CHAT_REDIS_URL`; CONTRACT §12): Redis
//! presence is kept alive by each node's heartbeat, and a node that dies (SIGKILL, no
//! goodbye) takes its users offline within the presence TTL, as `online` asked of
//! another node shows.
//!
//! Needs the tests' NATS and Redis (`CHAT_TEST_NATS_URL`, `CHAT_TEST_REDIS_URL`, else the
//! usual local ports), and fails, saying so, without them. The nodes take NATS subjects
//! and Redis keys named after their database, which no other test shares.
#![allow(clippy::expect_used)]

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chat_test_db::TestDatabase;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::nodes::{
    Acme, Node, PRESENCE_TTL_SECS, acme_with_a_room, call, connect, online, start_node_with,
};

/// `variable`, else `default`.
fn env_or(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

/// Fails the test, saying what is missing and how to get it, when nothing answers at
/// `url`.
fn assert_reachable(what: &str, url: &str, variable: &str) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let first = rest.split(',').next().unwrap_or(rest);
    let host = first.rsplit_once('@').map_or(first, |(_, host)| host);
    let address = host.split(['/', '?']).next().unwrap_or(host);
    let answers = address.to_socket_addrs().is_ok_and(|mut addrs| {
        addrs.any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
    });
    assert!(
        answers,
        "{what} does not answer at {address}: this test needs it. Start it (`make test` \
         does, through scripts/service-url.sh), or set {variable} to one that runs"
    );
}

/// The environment of a node on the tests' NATS and Redis, on subjects and keys of
/// `db` alone.
fn brokers(db: &TestDatabase) -> Vec<(&'static str, String)> {
    let nats = env_or("CHAT_TEST_NATS_URL", "nats://127.0.0.1:4222");
    let redis = env_or("CHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379");
    assert_reachable("NATS", &nats, "CHAT_TEST_NATS_URL");
    assert_reachable("Redis", &redis, "CHAT_TEST_REDIS_URL");
    vec![
        ("CHAT_NATS_URL", nats),
        (
            "CHAT_NATS_SUBJECT_PREFIX",
            format!("test.{}.chat.events", db.name()),
        ),
        ("CHAT_REDIS_URL", redis),
        ("CHAT_REDIS_PREFIX", format!("chat-test:{}:", db.name())),
    ]
}

/// The `data` of the next `message` frame on `socket` (other frames skipped), within 5 s.
async fn next_message(
    socket: &mut (impl Stream<Item = Result<awc::ws::Frame, awc::error::WsProtocolError>> + Unpin),
    label: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = actix_web::rt::time::timeout(left, socket.next())
            .await
            .unwrap_or_else(|_| panic!("{label}: no message within 5 s"));
        match frame {
            Some(Ok(awc::ws::Frame::Text(bytes))) => {
                let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "{label}: not JSON ({e}): {}",
                        String::from_utf8_lossy(&bytes)
                    )
                });
                if value["type"] == "message" {
                    return value["data"].clone();
                }
            }
            Some(Ok(awc::ws::Frame::Ping(_) | awc::ws::Frame::Pong(_))) => {}
            other => panic!("{label}: expected a message, got {other:?}"),
        }
    }
}

/// Polls `online` of room `uuid` asked of `node` until it is `expected`, for up to
/// `wait`; answers the last list and how long it took.
async fn online_until(
    node: &Node,
    api_key: &str,
    uuid: &str,
    expected: &[String],
    wait: Duration,
) -> (Vec<String>, Duration) {
    let started = Instant::now();
    loop {
        let now_online = online(node, api_key, uuid).await;
        if now_online == expected || started.elapsed() >= wait {
            return (now_online, started.elapsed());
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn of_three_nodes_on_nats_and_redis_a_killed_one_takes_its_users_offline_within_the_ttl() {
    let db = TestDatabase::new();
    let env = brokers(&db);
    let storage: PathBuf = std::env::temp_dir()
        .join("chat-nodes-nats-test")
        .join(db.name());
    let mut node_a = start_node_with(&db, &storage, &env);
    let node_b = start_node_with(&db, &storage, &env);
    let node_c = start_node_with(&db, &storage, &env);
    let Acme {
        api_key,
        admin_token,
        agent_token,
        admin_key,
        agent_key,
        uuid,
    } = acme_with_a_room(&db, &node_a, &node_c).await;

    // Ada on node A, Alan on node B: node C lists both, and what is said through C
    // reaches both.
    let mut ada = connect(&node_a, &uuid, &admin_token).await;
    let mut alan = connect(&node_b, &uuid, &agent_token).await;
    let both = {
        let mut ids = vec![admin_key.clone(), agent_key.clone()];
        ids.sort();
        ids
    };
    assert_eq!(online(&node_c, &api_key, &uuid).await, both, "online on C");
    let (status, sent) = call(
        "POST",
        &node_c.url(&format!("/api/v1/rooms/{uuid}/messages")),
        &api_key,
        Some(&json!({ "sender_id": admin_key, "content": "said through C" })),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    for (label, socket) in [
        ("Ada's socket on A", &mut ada),
        ("Alan's socket on B", &mut alan),
    ] {
        let message = next_message(socket, label).await;
        assert_eq!(message["id"], sent["data"]["id"], "{label}: {message}");
    }

    // Heartbeats keep live nodes' sessions alive past the TTL.
    actix_web::rt::time::sleep(Duration::from_secs(PRESENCE_TTL_SECS + 1)).await;
    assert_eq!(
        online(&node_c, &api_key, &uuid).await,
        both,
        "a live node's sessions expired"
    );

    // Node A dies without a word (SIGKILL): within the TTL, and a heartbeat's slack, C
    // lists only the user connected to B.
    node_a.child.kill().expect("node A is killed");
    node_a.child.wait().expect("node A is reaped");
    let within = Duration::from_secs(PRESENCE_TTL_SECS + 1);
    let (now_online, took) = online_until(
        &node_c,
        &api_key,
        &uuid,
        std::slice::from_ref(&agent_key),
        within + Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        now_online,
        [agent_key.as_str()],
        "online on C {took:?} after node A was killed"
    );
    assert!(
        took <= within,
        "Ada was listed online for {took:?} after node A was killed (TTL {PRESENCE_TTL_SECS} s)"
    );
    eprintln!("offline {took:?} after the kill");
    drop(ada);
    drop(alan);
    drop(node_b);
    drop(node_c);
    let _ = std::fs::remove_dir_all(&storage);
}
