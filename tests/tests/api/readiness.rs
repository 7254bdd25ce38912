//! `/ready` answers a readiness probe within a second, database or not, and turns ready
//! again soon after the database comes back.
//!
//! The server reaches its database through [`Proxy`], a TCP forwarder the test switches
//! off (every connection cut, new ones accepted and never answered: a database that is
//! unreachable rather than refusing) and on again.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chat_tests::*;

/// A readiness probe's usual timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A TCP forwarder to the PostgreSQL server that can be switched off and on.
struct Proxy {
    address: String,
    up: Arc<AtomicBool>,
    /// Every socket the proxy holds (both ends of each forwarded connection, and the
    /// connections held unanswered while it is off), to cut when it switches.
    sockets: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("the proxy binds: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the proxy has an address: {e}"))
            .to_string();
        let up = Arc::new(AtomicBool::new(true));
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let (flag, held) = (up.clone(), sockets.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let keep = client
                    .try_clone()
                    .unwrap_or_else(|e| panic!("a socket clones: {e}"));
                held.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(keep);
                if !flag.load(Ordering::SeqCst) {
                    // Off: accepted and never answered, until the proxy switches on.
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let keep = server
                    .try_clone()
                    .unwrap_or_else(|e| panic!("a socket clones: {e}"));
                held.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(keep);
                pipe(&client, &server);
                pipe(&server, &client);
            }
        });
        Proxy {
            address,
            up,
            sockets,
        }
    }

    /// Cuts every connection; new ones wait unanswered.
    fn switch_off(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut_all();
    }

    /// Cuts the connections left waiting; new ones reach the database again.
    fn switch_on(&self) {
        self.up.store(true, Ordering::SeqCst);
        self.cut_all();
    }

    fn cut_all(&self) {
        for socket in self
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            drop(socket.shutdown(Shutdown::Both));
        }
    }
}

/// Copies what `from` reads to `to`, on a thread, until either side closes.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let (mut from, mut to) = (
        from.try_clone()
            .unwrap_or_else(|e| panic!("a socket clones: {e}")),
        to.try_clone()
            .unwrap_or_else(|e| panic!("a socket clones: {e}")),
    );
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0 || to.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        drop(from.shutdown(Shutdown::Both));
        drop(to.shutdown(Shutdown::Both));
    });
}

/// `url` with its `host:port` replaced by `address`.
fn through(url: &str, address: &str) -> String {
    let start = url
        .find('@')
        .map_or_else(|| url.find("://").map_or(0, |i| i + 3), |i| i + 1);
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    format!("{}{address}{}", &url[..start], &url[end..])
}

/// `url`'s `host:port`.
fn authority(url: &str) -> String {
    let start = url
        .find('@')
        .map_or_else(|| url.find("://").map_or(0, |i| i + 3), |i| i + 1);
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    url[start..end].to_owned()
}

/// `/ready`, timed.
async fn probe(app: &TestApp) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = app.get("/ready", &[]).await;
    (reply, started.elapsed())
}

#[actix_web::test]
async fn ready_answers_503_within_a_second_while_the_database_is_unreachable_and_200_once_it_returns()
 {
    let mut proxy = None;
    // The default pool checkout timeout of the test settings (3 s) stays: readiness must
    // not wait it out.
    let app = TestApp::spawn_with(|settings| {
        let url = settings
            .database_url
            .as_ref()
            .unwrap_or_else(|| panic!("a database URL"))
            .expose()
            .to_owned();
        let started = Proxy::start(authority(&url));
        settings.database_url = Some(chatd::Secret::new(through(&url, &started.address)));
        proxy = Some(started);
    })
    .await;
    let proxy = proxy.unwrap_or_else(|| panic!("the proxy started"));

    let (ready, _) = probe(&app).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json(), serde_json::json!({ "status": "ready" }));

    proxy.switch_off();
    for attempt in 1..=3 {
        let (reply, took) = probe(&app).await;
        assert_eq!(reply.status, 503, "probe {attempt}: {}", reply.text());
        assert_eq!(
            reply.json(),
            serde_json::json!({ "status": "unavailable" }),
            "probe {attempt}"
        );
        assert!(
            took < PROBE_TIMEOUT,
            "probe {attempt} took {took:?}: a probe with a {PROBE_TIMEOUT:?} timeout sees a timeout"
        );
    }

    proxy.switch_on();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (reply, took) = probe(&app).await;
        assert!(took < PROBE_TIMEOUT, "a probe took {took:?}");
        if reply.status == 200 {
            assert_eq!(reply.json(), serde_json::json!({ "status": "ready" }));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {} five seconds after the database returned: {}",
            reply.status,
            reply.text()
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    // And the requests that need the database are served again.
    let account = app.create_account("Back").await;
    assert!(account["id"].is_i64(), "{account}");
}
