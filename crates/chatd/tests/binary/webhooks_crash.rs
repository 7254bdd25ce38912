//! The transactional outbox seen from outside: `chatd` is killed with SIGKILL right after a
//! send's `201`, started again on the same database, and the webhook still hears of the
//! message. The receiver is a plain HTTP/1.1 listener on 127.0.0.1 inside the test; while
//! the first process lives it answers `503`, so nothing can count as delivered before the
//! kill and the delivery that arrives must come from the restarted process.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chat_test_db::TestDatabase;
use serde_json::{Value, json};

const PLATFORM_TOKEN: &str = "webhook-crash-platform-token-0123456789abcdef";
const URL_SECRET: &str = "webhook-crash-url-secret-0123456789abcdef0123456";
const WEBHOOK_SECRET: &str = "whsec_crash_test_secret_0123456789";

/// A `chatd serve` process; killed (and reaped) on drop.
struct Node {
    child: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds port 0");
    listener.local_addr().expect("a local address").port()
}

fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut reply = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.1 200")
}

/// Starts `chatd serve` over `db` (webhooks to 127.0.0.1 allowed, retries after 1 s) and
/// waits until it answers `/health`.
fn start_node(db: &TestDatabase, storage: &Path) -> Node {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_chatd"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("CHAT_BIND", format!("127.0.0.1:{port}"))
        .env("CHAT_PLATFORM_TOKEN", PLATFORM_TOKEN)
        .env("CHAT_URL_SECRET", URL_SECRET)
        .env("CHAT_STORAGE_DIR", storage)
        .env("CHAT_WORKERS", "1")
        .env("CHAT_WEBHOOK_ALLOW_PRIVATE", "1")
        .env("CHAT_WEBHOOK_RETRY_SCHEDULE", "1,1,1,1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("chatd starts");
    let node = Node { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !health_ok(port) {
        assert!(
            Instant::now() < deadline,
            "chatd on port {port} never answered /health"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    node
}

/// Runs `chatd account create`; answers the JSON it prints.
fn create_account(db: &TestDatabase) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_chatd"))
        .args(["account", "create", "--name", "Acme"])
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("chatd runs");
    assert!(
        output.status.success(),
        "chatd account create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("chatd account create prints JSON")
}

/// One POST the receiver got.
#[derive(Debug)]
struct Delivery {
    headers: Vec<(String, String)>,
    body: Value,
    /// Whether the receiver answered 2xx.
    accepted: bool,
}

impl Delivery {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on 127.0.0.1: one thread, one request per connection. Answers 200
/// when `accept` is set, else 503; every request it read goes to the channel.
struct Receiver {
    port: u16,
    accept: Arc<AtomicBool>,
    got: mpsc::Receiver<Delivery>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the receiver binds");
        let port = listener.local_addr().expect("a local address").port();
        let accept = Arc::new(AtomicBool::new(false));
        let (tx, got) = mpsc::channel();
        let flag = Arc::clone(&accept);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let accepted = flag.load(Ordering::SeqCst);
                if let Some((headers, body)) = read_request(&stream) {
                    let status = if accepted {
                        "200 OK"
                    } else {
                        "503 Service Unavailable"
                    };
                    let mut stream = stream;
                    let _ = stream.write_all(
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    if tx
                        .send(Delivery {
                            headers,
                            body,
                            accepted,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            }
        });
        Self { port, accept, got }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/chat", self.port)
    }
}

/// A request's headers (name, value) and raw body.
type Request = (Vec<(String, String)>, Vec<u8>);

/// Reads one HTTP/1.1 request: its headers and its body (by Content-Length).
fn read_request(stream: &TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !line.starts_with("POST ") {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((headers, body))
}

/// Sends a request with credential `token` and a JSON body; answers the status and JSON.
async fn call(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
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

#[actix_web::test]
async fn a_send_committed_before_sigkill_is_delivered_after_the_restart() {
    let db = TestDatabase::new();
    let storage: PathBuf = std::env::temp_dir()
        .join("chat-webhook-crash-test")
        .join(db.name());
    let receiver = Receiver::start();
    let mut first = start_node(&db, &storage);

    let account = create_account(&db);
    let api_key = account["api_key"].as_str().expect("an api_key").to_owned();

    let (status, room) = call(
        "POST",
        &first.url("/api/v1/rooms"),
        &api_key,
        Some(&json!({ "name": "Support" })),
    )
    .await;
    assert_eq!(status, 201, "{room}");
    let room_uuid = room["data"]["id"].as_str().expect("a room id").to_owned();
    let (status, body) = call(
        "POST",
        &first.url(&format!("/api/v1/rooms/{room_uuid}/join")),
        &api_key,
        Some(&json!({ "user_id": "ada", "user_name": "Ada" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let (status, webhook) = call(
        "POST",
        &first.url("/api/v1/webhooks/"),
        &api_key,
        Some(&json!({
            "url": receiver.url(),
            "events": ["message.created"],
            "secret": WEBHOOK_SECRET,
        })),
    )
    .await;
    assert_eq!(status, 201, "{webhook}");
    let webhook_id = webhook["data"]["id"]
        .as_str()
        .expect("a webhook id")
        .to_owned();

    let (status, message) = call(
        "POST",
        &first.url(&format!("/api/v1/rooms/{room_uuid}/messages")),
        &api_key,
        Some(&json!({ "sender_id": "ada", "content": "committed, then killed" })),
    )
    .await;
    assert_eq!(status, 201, "{message}");
    // Committed: kill at once, without a word (SIGKILL), and reap it.
    first.child.kill().expect("chatd is killed");
    first.child.wait().expect("chatd is reaped");
    let message_id = message["data"]["id"]
        .as_str()
        .expect("a message id")
        .to_owned();

    // Whatever the dead process managed to post was answered 503: not delivered.
    let mut refused = 0;
    while let Ok(delivery) = receiver.got.try_recv() {
        assert!(!delivery.accepted, "accepted before the kill: {delivery:?}");
        refused += 1;
    }
    receiver.accept.store(true, Ordering::SeqCst);

    let second = start_node(&db, &storage);
    // A delivery in flight at the kill is leased for 30 s; after that (or at once, if the
    // dead process had not claimed it) the new process delivers it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let delivery = receiver.got.recv_timeout(left).unwrap_or_else(|_| {
            panic!("no delivery within 60 s of the restart ({refused} refused before the kill)")
        });
        if delivery.accepted {
            break delivery;
        }
    };

    assert_eq!(delivered.header("X-ChatAPI-Event"), Some("message.created"));
    assert!(delivered.header("X-ChatAPI-Delivery").is_some());
    assert!(
        delivered
            .header("X-ChatAPI-Signature")
            .is_some_and(|s| s.starts_with("sha256=")),
        "{delivered:?}"
    );
    let body = &delivered.body;
    assert_eq!(body["event"], "message.created", "{body}");
    assert!(
        body["id"].as_str().is_some_and(|id| id.starts_with("evt_")),
        "{body}"
    );
    assert_eq!(body["data"]["id"], message_id.as_str(), "{body}");
    assert_eq!(body["data"]["content"], "committed, then killed", "{body}");
    assert_eq!(body["data"]["room_id"], room_uuid.as_str(), "{body}");
    assert_eq!(body["data"]["seq"], 1, "{body}");
    assert_eq!(body["meta"]["webhook_id"], webhook_id.as_str(), "{body}");
    // Every refused post was an attempt (and a claim cut short by the kill may be one more).
    assert!(
        body["meta"]["attempt"]
            .as_i64()
            .is_some_and(|attempt| attempt > refused),
        "attempt after {refused} refused posts: {body}"
    );

    // Exactly one event: the message sent (no other arrives in the next second).
    std::thread::sleep(Duration::from_secs(1));
    while let Ok(extra) = receiver.got.try_recv() {
        assert_eq!(
            extra.header("X-ChatAPI-Delivery"),
            delivered.header("X-ChatAPI-Delivery"),
            "another event than the message sent: {extra:?}"
        );
    }
    drop(second);
    let _ = std::fs::remove_dir_all(&storage);
}
