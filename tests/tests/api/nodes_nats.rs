//! Three nodes over one database that relay live events through NATS and keep presence
//! and rate-limit allowances in Redis (CONTRACT §5, §12; docs/scaling.md): every event
//! reaches every socket on every node, once and in `seq` order; presence and `online`
//! span the nodes; a node whose NATS connection is cut catches up from the tables once
//! it is back; one credential has one allowance on every node; and a revoked key's
//! sockets are closed on every node within a second.
//!
//! The tests need the tests' NATS and Redis (`CHAT_TEST_NATS_URL`, `CHAT_TEST_REDIS_URL`)
//! and fail, saying so, without them. Each test's nodes take NATS subjects and Redis keys
//! of their own ([`use_brokers`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chat_tests::*;
use chatd::{Secret, Settings};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The nodes' names, in the order [`three_nodes`] answers them.
const NAMES: [&str; 3] = ["A", "B", "C"];

/// Three nodes over one database, on one NATS and one Redis, each with settings
/// `customise` changed (B and C declared after A: they stop first).
async fn three_nodes(customise: fn(&mut Settings)) -> (TestApp, TestApp, TestApp) {
    let a = TestApp::spawn_with_brokers(customise).await;
    let b = a.spawn_sharing_with_brokers(customise).await;
    let c = a.spawn_sharing_with_brokers(customise).await;
    (a, b, c)
}

fn ok(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text());
}

/// One line per frame, for failure messages: its type, and the content and `seq` of a
/// message, the person and status of a presence.
fn summary(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|frame| {
            let data = &frame["data"];
            match frame_type(frame) {
                "message" => format!("message {} (seq {})", data["content"], data["seq"]),
                "presence" => format!("presence {} {}", data["user_id"], data["status"]),
                other => other.to_owned(),
            }
        })
        .collect()
}

/// The frames `socket` receives until `done` holds of them all, each within `wait` of
/// the one before; a close, the end of the connection or silence fails the test.
async fn frames_until(
    socket: &mut LiveSocket,
    wait: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut frames = Vec::new();
    while !done(&frames) {
        match socket.recv(wait).await {
            Some(Received::Frame(frame)) => frames.push(frame),
            other => panic!(
                "{}: expected more frames, got {other:?} after {:?}",
                socket.label,
                summary(&frames)
            ),
        }
    }
    frames
}

/// The frames `socket` receives until it has been silent for `quiet` (a close or the end
/// of the connection fails the test).
async fn frames_until_quiet(socket: &mut LiveSocket, quiet: Duration) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        match socket.recv(quiet).await {
            Some(Received::Frame(frame)) => frames.push(frame),
            None => return frames,
            other => panic!(
                "{}: got {other:?} after {:?}",
                socket.label,
                summary(&frames)
            ),
        }
    }
}

/// The `message` frames among `frames`.
fn messages(frames: &[Value]) -> Vec<&Value> {
    frames
        .iter()
        .filter(|frame| frame_type(frame) == "message")
        .collect()
}

/// The contents of the `message` frames among `frames`, in the order received.
fn contents(frames: &[Value]) -> Vec<String> {
    messages(frames)
        .iter()
        .map(|frame| str_of(&frame["data"], "content").to_owned())
        .collect()
}

/// The `seq`s of the `message` frames among `frames` (ChatAPI frames carry one).
fn seqs(frames: &[Value]) -> Vec<i64> {
    messages(frames)
        .iter()
        .map(|frame| {
            frame["data"]["seq"]
                .as_i64()
                .unwrap_or_else(|| panic!("no integer seq in {frame}"))
        })
        .collect()
}

/// Asserts every frame of `frames` is of one of the types `allowed`.
fn assert_only(label: &str, frames: &[Value], allowed: &[&str]) {
    for frame in frames {
        assert!(
            allowed.contains(&frame_type(frame)),
            "{label}: a {:?} frame was not expected: {frame}",
            frame_type(frame)
        );
    }
}

/// The frames `socket` receives until it has `expected.len()` messages (each within
/// `wait` of the one before), asserted to be exactly `expected`'s contents, once each and
/// in order, among no frames but `message`, `presence` and `user_joined` (a join made
/// before the sockets opened may reach a node's sockets late; presence comes and goes).
async fn said(
    socket: &mut LiveSocket,
    wait: Duration,
    expected: &[String],
    what: &str,
) -> Vec<Value> {
    let frames = frames_until(socket, wait, |f| messages(f).len() >= expected.len()).await;
    assert_only(
        &socket.label,
        &frames,
        &["message", "presence", "user_joined"],
    );
    assert_eq!(contents(&frames), expected, "{}: {what}", socket.label);
    frames
}

#[actix_web::test]
async fn every_event_reaches_every_socket_of_three_nodes_once_and_in_seq_order() {
    /// Rounds of one message through each node.
    const ROUNDS: usize = 6;
    let (a, b, c) = three_nodes(|_| {}).await;
    let nodes = [&a, &b, &c];
    let tenant = a.tenant("Acme").await;
    let (id, uuid) = a.chat_room_with_agent(&tenant, "Support").await;

    // The administrator's room socket on A (it types below); on every node, the API key's
    // room socket (an observer) and the agent's stream of their rooms.
    let mut typist = a.user_room_socket(&tenant.admin_token, &uuid).await;
    typist.label = "the administrator's room socket on A".to_owned();
    let mut sockets = Vec::new();
    for (name, node) in NAMES.into_iter().zip(nodes) {
        let query = format!("token={}", query_escape(&tenant.api_key));
        let (mut room, _) = node.open_room_socket(&uuid, &query).await;
        room.label = format!("the API key's room socket on {name}");
        sockets.push(room);
        let (mut stream, _) = node.open_user_stream(tenant.id, &tenant.agent_token).await;
        stream.label = format!("the agent's stream on {name}");
        sockets.push(stream);
    }

    // REST sends through A, B, C, A, …: the administrator through A and C, the agent
    // through B.
    let mut sent = Vec::new();
    for _ in 0..ROUNDS {
        for (name, node) in NAMES.into_iter().zip(nodes) {
            let token = if name == "B" {
                &tenant.agent_token
            } else {
                &tenant.admin_token
            };
            let content = format!("message {} through {name}", sent.len() + 1);
            node.send_chat_message_ok(tenant.id, id, token, &content)
                .await;
            sent.push(content);
        }
    }

    // Every socket has every message, once, in the order sent (which is `seq` order).
    let mut last_seq = None;
    for socket in sockets.iter_mut().chain([&mut typist]) {
        let frames = said(socket, LIVE_WAIT, &sent, "every message once, in seq order").await;
        if !socket.label.contains("stream") {
            let seqs = seqs(&frames);
            let first = seqs[0];
            let expected: Vec<i64> = (first..first + seqs.len() as i64).collect();
            assert_eq!(seqs, expected, "{}: seqs without a gap", socket.label);
            last_seq = seqs.last().copied();
        }
    }
    let last_seq = last_seq.unwrap_or_else(|| panic!("no room socket was read"));

    // Typing on A's socket reaches every other socket, on every node.
    typist
        .send_json(&json!({ "type": "typing", "data": { "is_typing": true } }))
        .await;
    for socket in &mut sockets {
        let frame = socket
            .expect_skipping("typing", &["presence", "user_joined"])
            .await;
        assert_eq!(frame["data"]["user_name"], "Ada Admin", "{frame}");
        assert_eq!(frame["data"]["is_typing"], true, "{frame}");
    }

    // The agent's read position, moved through C, reaches every socket, the typist's too.
    ok(
        &c.mark_as_read(tenant.id, id, &tenant.agent_token).await,
        "mark_as_read through C",
    );
    for socket in sockets.iter_mut().chain([&mut typist]) {
        let frame = socket.expect("read").await;
        assert_eq!(
            frame["data"]["last_read_seq"], last_seq,
            "{}: {frame}",
            socket.label
        );
    }

    // And nothing came twice (a late join is no event of this test's).
    for socket in sockets.iter_mut().chain([&mut typist]) {
        let late = frames_until_quiet(socket, Duration::from_millis(500)).await;
        assert_only(&socket.label, &late, &["presence", "user_joined"]);
    }
}

/// The status of the next `presence` frame about `user_id` on `socket`, skipping typing,
/// joins and other people's presence.
async fn presence_of(socket: &mut LiveSocket, user_id: &str) -> String {
    loop {
        let frame = socket
            .expect_skipping("presence", &["typing", "user_joined"])
            .await;
        if frame["data"]["user_id"] == user_id {
            return str_of(&frame["data"], "status").to_owned();
        }
    }
}

/// `online` of room `uuid` asked of `node`, sorted.
async fn online_sorted(node: &TestApp, api_key: &str, uuid: &str) -> Vec<String> {
    let mut ids = node.online_ids(api_key, uuid).await;
    ids.sort();
    ids
}

#[actix_web::test]
async fn presence_and_online_span_the_three_nodes() {
    let (a, b, c) = three_nodes(|_| {}).await;
    let nodes = [&a, &b, &c];
    let tenant = a.tenant("Acme").await;
    let uuid = a
        .room_with(
            &tenant.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")],
        )
        .await;
    let mut bob = b.participant_socket(&tenant.api_key, &uuid, "bob").await;
    bob.label = "bob's socket on B".to_owned();
    let mut carol = c.participant_socket(&tenant.api_key, &uuid, "carol").await;
    carol.label = "carol's socket on C".to_owned();
    assert_eq!(presence_of(&mut bob, "carol").await, "online", "on B");

    // Alice connects to A: her greeting counts the people connected to B and C, and her
    // presence reaches their sockets.
    let query = format!("token={}&user_id=alice", query_escape(&tenant.api_key));
    let (alice, greeting) = a.open_room_socket(&uuid, &query).await;
    let mut greeted: Vec<String> = greeting["online_users"]
        .as_array()
        .unwrap_or_else(|| panic!("no online_users in {greeting}"))
        .iter()
        .map(|id| {
            id.as_str()
                .unwrap_or_else(|| panic!("not a user_id: {greeting}"))
                .to_owned()
        })
        .collect();
    greeted.sort();
    assert_eq!(greeted, strings(&["alice", "bob", "carol"]), "{greeting}");
    assert_eq!(presence_of(&mut bob, "alice").await, "online", "on B");
    assert_eq!(presence_of(&mut carol, "alice").await, "online", "on C");
    for (name, node) in NAMES.into_iter().zip(nodes) {
        assert_eq!(
            online_sorted(node, &tenant.api_key, &uuid).await,
            strings(&["alice", "bob", "carol"]),
            "online asked of {name}"
        );
    }
    carol
        .send_json(&json!({ "type": "get_online_users" }))
        .await;
    let data = carol.expect_data("online_users").await;
    assert_eq!(data["total_online"], 3, "get_online_users on C: {data}");

    // Her socket closes: offline on every node's sockets and in every node's `online`.
    alice.close().await;
    assert_eq!(presence_of(&mut bob, "alice").await, "offline", "on B");
    assert_eq!(presence_of(&mut carol, "alice").await, "offline", "on C");
    for (name, node) in NAMES.into_iter().zip(nodes) {
        assert_eq!(
            online_sorted(node, &tenant.api_key, &uuid).await,
            strings(&["bob", "carol"]),
            "online asked of {name} after alice left A"
        );
    }
}

/// A TCP proxy in front of NATS, for one node to connect through. [`cut`](Self::cut)
/// closes every connection through it and turns new ones away (accepted, then closed at
/// once, as a server going down does); [`restore`](Self::restore) lets them through
/// again.
struct NatsProxy {
    url: String,
    up: watch::Sender<bool>,
    open: Arc<AtomicUsize>,
    accepting: JoinHandle<()>,
}

impl NatsProxy {
    /// A proxy on a free local port to the NATS of `url`.
    async fn to(url: &str) -> Self {
        assert_reachable("NATS", url, "CHAT_TEST_NATS_URL");
        let upstream = host_and_port(url).to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("the proxy cannot bind: {e}"));
        let address: SocketAddr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the proxy has no address: {e}"));
        let (up, _) = watch::channel(true);
        let open = Arc::new(AtomicUsize::new(0));
        let accepting =
            actix_web::rt::spawn(accept(listener, upstream.clone(), up.clone(), open.clone()));
        Self {
            url: url.replacen(&upstream, &address.to_string(), 1),
            up,
            open,
            accepting,
        }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }

    /// Waits up to 10 s for exactly `n` connections through the proxy.
    async fn wait_for_open(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.open.load(Ordering::Acquire) != n {
            assert!(
                Instant::now() < deadline,
                "{} connections through the proxy, not {n}",
                self.open.load(Ordering::Acquire)
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for NatsProxy {
    fn drop(&mut self) {
        self.cut();
        self.accepting.abort();
    }
}

async fn accept(
    listener: TcpListener,
    upstream: String,
    up: watch::Sender<bool>,
    open: Arc<AtomicUsize>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if *up.borrow() {
            actix_web::rt::spawn(pipe(client, upstream.clone(), up.subscribe(), open.clone()));
        }
    }
}

/// Copies both ways between `client` and NATS until either end closes or the proxy is
/// cut.
async fn pipe(
    mut client: TcpStream,
    upstream: String,
    mut up: watch::Receiver<bool>,
    open: Arc<AtomicUsize>,
) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    open.fetch_add(1, Ordering::AcqRel);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = up.wait_for(|up| !*up) => {}
    }
    drop(client);
    drop(server);
    open.fetch_sub(1, Ordering::AcqRel);
}

/// How long a node may take to be back on NATS after the proxy lets it through again:
/// the client reconnects by itself, after a back-off of up to 4 s.
const RECONNECTED_WITHIN: Duration = Duration::from_secs(20);

/// `alice` says a numbered message in room `uuid` through `node` (named `through`); its
/// content is added to `sent`.
async fn say(node: &TestApp, tenant: &Tenant, uuid: &str, sent: &mut Vec<String>, through: &str) {
    let content = format!("message {} through {through}", sent.len() + 1);
    node.say(&tenant.api_key, uuid, "alice", &content).await;
    sent.push(content);
}

#[actix_web::test]
async fn a_node_whose_nats_connection_is_cut_and_restored_catches_up_with_no_gap() {
    let proxy = NatsProxy::to(&test_nats_url()).await;
    let a = TestApp::spawn_with_brokers(|_| {}).await;
    let proxied = proxy.url.clone();
    let b = a
        .spawn_sharing_with_brokers(|settings| settings.nats_url = Some(Secret::new(proxied)))
        .await;
    let c = a.spawn_sharing_with_brokers(|_| {}).await;
    // B's one connection to NATS goes through the proxy.
    proxy.wait_for_open(1).await;
    let tenant = a.tenant("Acme").await;
    let uuid = a
        .room_with(
            &tenant.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob")],
        )
        .await;
    // On every node the API key's room socket; on B, bob's room socket too.
    let query = format!("token={}", query_escape(&tenant.api_key));
    let mut sockets = Vec::new();
    for (name, node) in NAMES.into_iter().zip([&a, &b, &c]) {
        let (mut socket, _) = node.open_room_socket(&uuid, &query).await;
        socket.label = format!("the API key's room socket on {name}");
        sockets.push(socket);
    }
    let mut bob = b.participant_socket(&tenant.api_key, &uuid, "bob").await;
    bob.label = "bob's room socket on B".to_owned();

    // Before the cut: B hears it all.
    let mut sent = Vec::new();
    say(&a, &tenant, &uuid, &mut sent, "A").await;
    say(&c, &tenant, &uuid, &mut sent, "C").await;
    for socket in [&mut sockets[1], &mut bob] {
        let frames = frames_until(socket, LIVE_WAIT, |f| messages(f).len() >= 2).await;
        assert_eq!(contents(&frames), sent, "{} before the cut", socket.label);
    }

    // Cut: B's connection to NATS is closed, and new ones are turned away. What is said
    // through A and C meanwhile does not reach B.
    proxy.cut();
    proxy.wait_for_open(0).await;
    let cut_at = sent.len();
    for _ in 0..3 {
        say(&a, &tenant, &uuid, &mut sent, "A").await;
        say(&c, &tenant, &uuid, &mut sent, "C").await;
    }
    let heard = frames_until_quiet(&mut sockets[1], Duration::from_millis(700)).await;
    assert!(
        messages(&heard).is_empty(),
        "B heard messages while cut from NATS: {:?}",
        summary(&heard)
    );

    // Restored: B reconnects by itself, resyncs, and its sockets get what they missed,
    // in order, once.
    let restored = Instant::now();
    proxy.restore();
    let missed = sent[cut_at..].to_vec();
    for socket in [&mut sockets[1], &mut bob] {
        let frames = said(
            socket,
            RECONNECTED_WITHIN,
            &missed,
            "what was said while B was cut, after the restore",
        )
        .await;
        let seqs = seqs(&frames);
        let first = seqs[0];
        assert_eq!(first, cut_at as i64 + 1, "{}: {seqs:?}", socket.label);
        assert!(
            seqs.windows(2).all(|pair| pair[1] == pair[0] + 1),
            "{}: {seqs:?}",
            socket.label
        );
    }
    eprintln!("B caught up {:?} after the restore", restored.elapsed());
    proxy.wait_for_open(1).await;

    // And the relay works again: messages through every node reach every socket.
    say(&b, &tenant, &uuid, &mut sent, "B").await;
    say(&a, &tenant, &uuid, &mut sent, "A").await;
    say(&c, &tenant, &uuid, &mut sent, "C").await;
    let after = sent[sent.len() - 3..].to_vec();
    for socket in sockets.iter_mut().chain([&mut bob]) {
        // A's and C's sockets were not read yet: they have it all.
        let expected = if socket.label.contains(" on B") {
            after.clone()
        } else {
            sent.clone()
        };
        let frames = said(
            socket,
            LIVE_WAIT,
            &expected,
            "after the restore, through every node",
        )
        .await;
        let seqs = seqs(&frames);
        assert!(
            seqs.windows(2).all(|pair| pair[1] == pair[0] + 1),
            "{}: {seqs:?}",
            socket.label
        );
    }
    for socket in sockets.iter_mut().chain([&mut bob]) {
        let late = frames_until_quiet(socket, Duration::from_millis(500)).await;
        assert_only(&socket.label, &late, &["presence"]);
    }
}

/// Requests of one credential: 6 at once, then one a second.
const BURST: u32 = 6;

fn small_allowance(settings: &mut Settings) {
    settings.rate.rate_per_sec = 1;
    settings.rate.rate_burst = BURST;
}

#[actix_web::test]
async fn one_credentials_allowance_is_shared_by_every_node() {
    let (a, b, c) = three_nodes(small_allowance).await;
    let nodes = [&a, &b, &c];
    let tenant = a.tenant("Acme").await;
    a.room_with(&tenant.api_key, "General", &[("alice", "Alice")])
        .await;
    let key = a.scoped_key(&tenant.api_key, "alice", None).await;

    // Three allowances' worth of requests, spread over the nodes: with an allowance per
    // node they would all pass; shared, the first BURST pass (and one more a second).
    let started = Instant::now();
    let mut replies = Vec::new();
    for n in 0..3 * BURST as usize {
        let node = nodes[n % 3];
        replies.push(node.get(ROOMS, &[api_key_header(&key)]).await);
    }
    let elapsed = started.elapsed();
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert!(
        statuses.iter().all(|status| [200, 429].contains(status)),
        "{statuses:?}"
    );
    assert!(
        statuses[..BURST as usize]
            .iter()
            .all(|status| *status == 200),
        "the first {BURST} pass: {statuses:?}"
    );
    let passed = statuses.iter().filter(|status| **status == 200).count() as u64;
    let refills = elapsed.as_secs() + 1;
    assert!(
        passed <= u64::from(BURST) + refills,
        "{passed} of {} passed in {elapsed:?} ({statuses:?}): the allowance is not shared",
        statuses.len()
    );
    for (index, node) in NAMES.into_iter().enumerate() {
        let refused = replies
            .iter()
            .skip(index)
            .step_by(3)
            .find(|reply| reply.status == 429)
            .unwrap_or_else(|| panic!("node {node} never refused: {statuses:?}"));
        assert_chatapi_error(refused, 429, "RATE_LIMITED", node);
        assert_eq!(
            refused.header("x-ratelimit-limit"),
            Some(BURST.to_string().as_str())
        );
    }
    // The allowance counts down across the nodes: what B and C report follows from A.
    let remaining: Vec<u64> = replies[..3]
        .iter()
        .map(|reply| {
            reply
                .header("x-ratelimit-remaining")
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("no x-ratelimit-remaining in {:?}", reply.headers))
        })
        .collect();
    assert!(
        remaining[2] < remaining[0],
        "remaining on A, B, C: {remaining:?}"
    );
}

/// How soon after a logout its key's sockets must be closed, on every node.
const CLOSED_WITHIN: Duration = Duration::from_secs(1);

#[actix_web::test]
async fn a_revoked_keys_sockets_are_closed_on_every_node_within_a_second() {
    let (a, b, c) = three_nodes(|_| {}).await;
    let nodes = [&a, &b, &c];
    let tenant = a.tenant("Acme").await;
    let uuid = a
        .room_with(
            &tenant.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob")],
        )
        .await;
    let alice_key = a.scoped_key(&tenant.api_key, "alice", None).await;
    let bob_key = a.scoped_key(&tenant.api_key, "bob", None).await;
    let mut alice = Vec::new();
    for (name, node) in NAMES.into_iter().zip(nodes) {
        let mut socket = node.user_room_socket(&alice_key, &uuid).await;
        socket.label = format!("alice's room socket on {name}");
        alice.push(socket);
        let (mut stream, _) = node.open_user_stream(tenant.id, &alice_key).await;
        stream.label = format!("alice's stream on {name}");
        alice.push(stream);
    }
    let mut bob = c.user_room_socket(&bob_key, &uuid).await;
    bob.label = "bob's room socket on C".to_owned();

    let since = Instant::now();
    let closing = alice.iter_mut().map(|socket| async move {
        loop {
            match socket.recv(LIVE_WAIT).await {
                Some(Received::Frame(frame)) if NOISE.contains(&frame_type(&frame)) => {}
                Some(Received::Closed(code)) => {
                    return (socket.label.clone(), code, since.elapsed());
                }
                other => panic!("{}: expected a close, got {other:?}", socket.label),
            }
        }
    });
    let logout = async {
        ok(
            &b.logout(&tenant.api_key, "alice").await,
            "logout through B",
        );
    };
    let (closed, ()) =
        futures_util::future::join(futures_util::future::join_all(closing), logout).await;
    for (label, code, took) in &closed {
        assert_eq!(*code, Some(4001), "{label}: close code");
        assert!(
            took <= &CLOSED_WITHIN,
            "{label}: closed {took:?} after the logout"
        );
    }
    eprintln!(
        "closed after {:?}",
        closed.iter().map(|(_, _, took)| *took).collect::<Vec<_>>()
    );

    // Bob's key still works, and his socket stays open.
    let sent = c.say(&tenant.api_key, &uuid, "bob", "still there?").await;
    assert_eq!(bob.expect_data("message").await["id"], sent["id"]);
}
