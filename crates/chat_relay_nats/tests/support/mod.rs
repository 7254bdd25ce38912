//! What the relay tests share: the NATS server to use, an inbox that records what it is
//! handed, and a TCP proxy that can cut a relay's connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_app::{Notice, RelayInbox};
use chat_relay_nats::NatsRelay;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How long a relay test waits for something to arrive.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The NATS server of the tests: `CHAT_TEST_NATS_URL`, else the usual local port.
pub fn nats_url() -> String {
    std::env::var("CHAT_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Subjects of this test alone, so that tests side by side on one server hear only
/// their own relays.
pub fn test_prefix() -> String {
    format!("test.{}.chat.events", Uuid::new_v4().simple())
}

/// A relay over `url` on `prefix`; a NATS that does not answer fails the test, saying so.
pub async fn relay_at(url: &str, prefix: &str) -> NatsRelay {
    NatsRelay::connect_with_prefix(url, Uuid::new_v4(), prefix)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "NATS does not answer at {url} ({error:#}): start nats-server, or set \
                 CHAT_TEST_NATS_URL to one that runs"
            )
        })
}

/// A relay over `url` on `prefix`, listening with a fresh inbox.
pub async fn listening_at(url: &str, prefix: &str) -> (NatsRelay, Arc<TestInbox>) {
    let relay = relay_at(url, prefix).await;
    let inbox = Arc::new(TestInbox::default());
    relay.listen(inbox.clone()).await.expect("listening");
    (relay, inbox)
}

/// An inbox that records what it is handed.
#[derive(Default)]
pub struct TestInbox {
    state: Mutex<Received>,
}

/// What an inbox was handed.
#[derive(Default, Debug)]
pub struct Received {
    pub notices: Vec<Notice>,
    pub resyncs: usize,
}

impl RelayInbox for TestInbox {
    fn received(&self, notice: Notice) {
        self.state.lock().expect("inbox lock").notices.push(notice);
    }

    fn resync(&self) {
        self.state.lock().expect("inbox lock").resyncs += 1;
    }
}

impl TestInbox {
    /// Waits up to [`PATIENCE`] for `done` to hold; answers whether it did.
    pub async fn wait_for(&self, done: impl Fn(&Received) -> bool) -> bool {
        let until = Instant::now() + PATIENCE;
        loop {
            if done(&self.state.lock().expect("inbox lock")) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for `n` notices, and answers all it has.
    pub async fn wait_for_notices(&self, n: usize) -> Vec<Notice> {
        let arrived = self.wait_for(|r| r.notices.len() >= n).await;
        let notices = self.notices();
        assert!(
            arrived,
            "expected {n} notices, got {}: {notices:?}",
            notices.len()
        );
        notices
    }

    pub fn notices(&self) -> Vec<Notice> {
        self.state.lock().expect("inbox lock").notices.clone()
    }

    pub fn resyncs(&self) -> usize {
        self.state.lock().expect("inbox lock").resyncs
    }
}

/// A TCP proxy between a relay and NATS. [`cut`](Proxy::cut) closes every connection
/// through it and turns new ones away (accepted, then closed at once, as a server that
/// is going down does); [`restore`](Proxy::restore) lets them through again.
pub struct Proxy {
    addr: SocketAddr,
    upstream: String,
    url: String,
    up: watch::Sender<bool>,
    open: Arc<AtomicUsize>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free local port to the server of `url` (`nats://[user@]host:port`).
    pub async fn to(url: &str) -> Self {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let upstream = rest
            .rsplit_once('@')
            .map_or(rest, |(_, host)| host)
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bound");
        let addr = listener.local_addr().expect("proxy address");
        let (up, _) = watch::channel(true);
        let open = Arc::new(AtomicUsize::new(0));
        let accepting = tokio::spawn(accept(listener, upstream.clone(), up.clone(), open.clone()));
        Self {
            addr,
            url: url.replacen(&upstream, &addr.to_string(), 1),
            upstream,
            up,
            open,
            accepting,
        }
    }

    /// The URL of the server through the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the connections through the proxy, and turns new ones away.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }

    /// Connections open through the proxy now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Waits up to [`PATIENCE`] for exactly `n` open connections; answers whether they were.
    pub async fn wait_for_open(&self, n: usize) -> bool {
        let until = Instant::now() + PATIENCE;
        while self.open() != n {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({} -> {})", self.addr, self.upstream)
    }
}

impl Drop for Proxy {
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
        if !*up.borrow() {
            drop(client);
            continue;
        }
        tokio::spawn(pipe(client, upstream.clone(), up.subscribe(), open.clone()));
    }
}

/// Copies both ways between `client` and the server until either closes or the proxy
/// is cut.
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
