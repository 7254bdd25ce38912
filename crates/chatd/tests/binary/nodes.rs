//! Two `chatd` processes over one database, as a deployment runs them: presence is shared
//! through PostgreSQL, kept alive by each node's heartbeat, and a node that dies (SIGKILL,
//! no goodbye) takes its users offline within the presence TTL. Its helpers serve
//! `nodes_nats` too, where the nodes share NATS and Redis.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chat_test_db::TestDatabase;
use futures_util::StreamExt;
use serde_json::{Value, json};

const PLATFORM_TOKEN: &str = "nodes-test-platform-token-0123456789abcdef";
const URL_SECRET: &str = "nodes-test-url-secret-0123456789abcdef0123456789";
/// Seconds a presence session lives without its node's heartbeat (one heartbeat a
/// second).
pub(crate) const PRESENCE_TTL_SECS: u64 = 2;

/// A `chatd serve` process; killed (and reaped) on drop.
pub(crate) struct Node {
    pub(crate) child: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

/// A port nobody listens on now: bound on port 0, then let go.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds port 0");
    listener.local_addr().expect("a local address").port()
}

/// `GET /health` over a plain socket answers 200.
fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut reply = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.1 200")
}

/// Starts `chatd serve` over `db` and waits until it answers `/health`.
fn start_node(db: &TestDatabase, storage: &Path) -> Node {
    start_node_with(db, storage, &[])
}

/// [`start_node`] with the environment variables `env` besides.
pub(crate) fn start_node_with(db: &TestDatabase, storage: &Path, env: &[(&str, String)]) -> Node {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_chatd"))
        .arg("serve")
        .envs(env.iter().map(|(name, value)| (name, value)))
        .env("DATABASE_URL", db.url())
        .env("CHAT_BIND", format!("127.0.0.1:{port}"))
        .env("CHAT_PLATFORM_TOKEN", PLATFORM_TOKEN)
        .env("CHAT_URL_SECRET", URL_SECRET)
        .env("CHAT_STORAGE_DIR", storage)
        .env("CHAT_PRESENCE_TTL_SECS", PRESENCE_TTL_SECS.to_string())
        .env("CHAT_PRESENCE_HEARTBEAT_SECS", "1")
        .env("CHAT_WORKERS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("chatd starts");
    let mut node = Node { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !health_ok(port) {
        if let Ok(Some(status)) = node.child.try_wait() {
            panic!(
                "chatd on port {port} exited ({status}) before answering /health: see its log above"
            );
        }
        assert!(
            Instant::now() < deadline,
            "chatd on port {port} never answered /health"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    node
}

/// Runs an operator command over `db`; answers the JSON it prints.
fn chatd_json(db: &TestDatabase, args: &[&str]) -> Value {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_chatd"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("chatd runs");
    assert!(
        output.status.success(),
        "chatd {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "chatd {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {value}"))
}

/// Sends a request with credential `token` (and a JSON body); answers the status and
/// the JSON body.
pub(crate) async fn call(
    method: &str,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let method = awc::http::Method::from_bytes(method.as_bytes()).expect("a method");
    let request = client
        .request(method, url)
        .insert_header(("Authorization", format!("Bearer {token}")));
    let mut response = match body {
        Some(body) => request.send_json(body).await,
        None => request.send().await,
    }
    .unwrap_or_else(|e| panic!("{url}: {e}"));
    let bytes = response
        .body()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes))
        })
    };
    (response.status().as_u16(), value)
}

/// The `user_id`s `node` lists as online in room `uuid`.
pub(crate) async fn online(node: &Node, api_key: &str, uuid: &str) -> Vec<String> {
    let url = node.url(&format!("/api/v1/rooms/{uuid}/online"));
    let (status, body) = call("GET", &url, api_key, None).await;
    assert_eq!(status, 200, "{body}");
    let mut ids: Vec<String> = body["data"]["online_users"]
        .as_array()
        .unwrap_or_else(|| panic!("no online_users in {body}"))
        .iter()
        .map(|id| id.as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Opens room `uuid`'s socket on `node` with `token` and reads its first frame, which
/// must be `connection_status`; answers the open connection (to hold, or read on).
pub(crate) async fn connect(
    node: &Node,
    uuid: &str,
    token: &str,
) -> impl futures_util::Stream<Item = Result<awc::ws::Frame, awc::error::WsProtocolError>> + Unpin + use<>
{
    let url = node.ws_url(&format!("/ws/{uuid}?token={token}"));
    let (response, mut framed) = awc::Client::new()
        .ws(url)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("WebSocket: {e}"));
    assert_eq!(response.status().as_u16(), 101);
    let frame = actix_web::rt::time::timeout(Duration::from_secs(5), framed.next())
        .await
        .unwrap_or_else(|_| panic!("no connection_status within 5 s"));
    match frame {
        Some(Ok(awc::ws::Frame::Text(bytes))) => {
            let value: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
            assert_eq!(value["type"], "connection_status", "{value}");
        }
        other => panic!("expected connection_status, got {other:?}"),
    }
    framed
}

/// An account, its administrator Ada and its agent Alan (made with the operator's
/// commands), and a room of both made through `through`, read back through `listed_by`.
pub(crate) struct Acme {
    pub(crate) api_key: String,
    pub(crate) admin_token: String,
    pub(crate) agent_token: String,
    /// Ada's and Alan's `user_id`s, as `online` lists them.
    pub(crate) admin_key: String,
    pub(crate) agent_key: String,
    /// The room's UUID.
    pub(crate) uuid: String,
}

pub(crate) async fn acme_with_a_room(db: &TestDatabase, through: &Node, listed_by: &Node) -> Acme {
    let account = chatd_json(db, &["account", "create", "--name", "Acme"]);
    let api_key = str_of(&account, "api_key").to_owned();
    let account_id = account["id"]
        .as_i64()
        .expect("an integer account id")
        .to_string();
    let admin = chatd_json(
        db,
        &[
            "user",
            "create",
            "--account-id",
            &account_id,
            "--name",
            "Ada",
            "--role",
            "administrator",
        ],
    );
    let agent = chatd_json(
        db,
        &[
            "user",
            "create",
            "--account-id",
            &account_id,
            "--name",
            "Alan",
        ],
    );
    let admin_token = str_of(&admin, "access_token").to_owned();
    let agent_token = str_of(&agent, "access_token").to_owned();
    let admin_key = admin["id"]
        .as_i64()
        .expect("an integer user id")
        .to_string();
    let agent_key = agent["id"]
        .as_i64()
        .expect("an integer user id")
        .to_string();

    // A room with both users, made through `through`.
    let (status, room) = call(
        "POST",
        &through.url(&format!("/api/v1/accounts/{account_id}/chat_rooms")),
        &admin_token,
        Some(&json!({ "chat_room": { "name": "Support" } })),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    let room_id = room["id"].as_i64().expect("an integer room id");
    let (status, body) = call(
        "POST",
        &through.url(&format!(
            "/api/v1/accounts/{account_id}/chat_rooms/{room_id}/members"
        )),
        &admin_token,
        Some(&json!({ "user_ids": [agent["id"]] })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, rooms) = call("GET", &listed_by.url("/api/v1/rooms"), &api_key, None).await;
    assert_eq!(status, 200, "{rooms}");
    let uuid = str_of(&rooms["data"][0], "id").to_owned();
    Acme {
        api_key,
        admin_token,
        agent_token,
        admin_key,
        agent_key,
        uuid,
    }
}

#[actix_web::test]
async fn of_two_nodes_a_killed_one_takes_its_users_offline_within_the_presence_ttl() {
    let db = TestDatabase::new();
    let storage: PathBuf = std::env::temp_dir().join("chat-nodes-test").join(db.name());
    let mut node_a = start_node(&db, &storage);
    let node_b = start_node(&db, &storage);

    let Acme {
        api_key,
        admin_token,
        agent_token,
        admin_key,
        agent_key,
        uuid,
    } = acme_with_a_room(&db, &node_a, &node_b).await;

    // Ada on node A, Alan on node B: both nodes list both.
    let _ada = connect(&node_a, &uuid, &admin_token).await;
    let _alan = connect(&node_b, &uuid, &agent_token).await;
    let both = {
        let mut ids = vec![admin_key.clone(), agent_key.clone()];
        ids.sort();
        ids
    };
    assert_eq!(online(&node_b, &api_key, &uuid).await, both, "online on B");
    assert_eq!(online(&node_a, &api_key, &uuid).await, both, "online on A");

    // Heartbeats keep live nodes' sessions alive past the TTL.
    actix_web::rt::time::sleep(Duration::from_secs(PRESENCE_TTL_SECS + 1)).await;
    assert_eq!(
        online(&node_b, &api_key, &uuid).await,
        both,
        "a live node's sessions expired"
    );

    // Node A dies without a word: within the TTL (and a heartbeat or two), B lists only
    // the user connected to B.
    node_a.child.kill().expect("node A is killed");
    node_a.child.wait().expect("node A is reaped");
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(PRESENCE_TTL_SECS + 2);
    let mut now_online = online(&node_b, &api_key, &uuid).await;
    while now_online != [agent_key.as_str()] && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        now_online = online(&node_b, &api_key, &uuid).await;
    }
    assert_eq!(
        now_online,
        [agent_key.as_str()],
        "online on B {:?} after node A was killed",
        killed.elapsed()
    );
    drop(node_b);
    let _ = std::fs::remove_dir_all(&storage);
}
