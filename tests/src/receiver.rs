//! A webhook receiver inside the test: a real HTTP server on `127.0.0.1:0` that records
//! every request it gets (path, headers, raw body, when it arrived and when it was
//! answered) and answers a programmable status, after a programmable delay.
//!
//! It also watches deliveries in flight: a delivery id (`X-ChatAPI-Delivery`) that
//! arrives while a request with the same id is still being answered is an overlap, which
//! the delivery workers must never cause.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::web::{self, Bytes, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    pub method: String,
    pub path: String,
    /// Header names in lowercase, in the order they came.
    pub headers: Vec<(String, String)>,
    /// The body exactly as it came (what the signature covers).
    pub body: Vec<u8>,
    pub arrived: Instant,
    /// The status it was answered.
    pub status: u16,
}

impl WebhookRequest {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// How many headers are called `name` (any case).
    pub fn header_count(&self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(n, _)| *n == name).count()
    }

    /// The body as JSON; panics when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "webhook body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// `X-ChatAPI-Event`.
    pub fn event(&self) -> &str {
        self.header("x-chatapi-event").unwrap_or_default()
    }

    /// `X-ChatAPI-Delivery`.
    pub fn delivery_id(&self) -> &str {
        self.header("x-chatapi-delivery").unwrap_or_default()
    }

    /// Whether `X-ChatAPI-Signature` is `sha256=<hex HMAC-SHA256(secret, raw body)>`.
    pub fn signed_with(&self, secret: &str) -> bool {
        self.header("x-chatapi-signature") == Some(signature(secret, &self.body).as_str())
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, as an integrator computes it.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[derive(Debug, Default)]
struct State {
    received: Vec<WebhookRequest>,
    /// Statuses to answer next, in order; then `default_status`.
    queued: VecDeque<u16>,
    /// Per path: statuses to answer next on that path (before `queued`).
    queued_on: HashMap<String, VecDeque<u16>>,
    default_status: u16,
    delay: Duration,
    /// Requests being answered, per delivery id.
    in_flight: HashMap<String, usize>,
    /// Delivery ids that arrived while the same id was being answered.
    overlaps: Vec<String>,
}

/// A running receiver; stops on drop.
pub struct Receiver {
    address: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Starts a receiver on `127.0.0.1:0` answering 200 at once.
    pub async fn start() -> Receiver {
        let state = Arc::new(Mutex::new(State {
            default_status: 200,
            ..State::default()
        }));
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let address = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("a bound address").port()
        );
        let shared = Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(receive))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .expect("the receiver listens")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver {
            address,
            state,
            handle,
        }
    }

    /// The URL of `path` on this receiver, e.g. `url("/hooks/a")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers `status` from now on (after whatever is queued).
    pub fn answer(&self, status: u16) {
        self.lock().default_status = status;
    }

    /// Answers these statuses to the next requests, in order, then the default.
    pub fn answer_next(&self, statuses: &[u16]) {
        self.lock().queued.extend(statuses.iter().copied());
    }

    /// Answers these statuses to the next requests on `path`, in order.
    pub fn answer_next_on(&self, path: &str, statuses: &[u16]) {
        self.lock()
            .queued_on
            .entry(path.to_owned())
            .or_default()
            .extend(statuses.iter().copied());
    }

    /// Waits this long before answering each request.
    pub fn delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<WebhookRequest> {
        self.lock().received.clone()
    }

    /// What was received on `path`.
    pub fn received_on(&self, path: &str) -> Vec<WebhookRequest> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Delivery ids that arrived while the same id was still being answered.
    pub fn overlaps(&self) -> Vec<String> {
        self.lock().overlaps.clone()
    }

    /// Waits (up to `timeout`) until `matching` requests satisfy `filter`; answers them.
    /// Panics naming what arrived when they do not.
    pub async fn wait_for(
        &self,
        matching: usize,
        timeout: Duration,
        filter: impl Fn(&WebhookRequest) -> bool,
    ) -> Vec<WebhookRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<WebhookRequest> = self.received().into_iter().filter(&filter).collect();
            if found.len() >= matching {
                return found;
            }
            if Instant::now() >= deadline {
                let seen: Vec<String> = self
                    .received()
                    .iter()
                    .map(|r| format!("{} {} {}", r.path, r.event(), r.delivery_id()))
                    .collect();
                panic!(
                    "{} of {matching} expected webhook requests arrived in {timeout:?}; received: {seen:#?}",
                    found.len()
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the first request of `event` (on any path); answers it.
    pub async fn wait_for_event(&self, event: &str) -> WebhookRequest {
        self.wait_for(1, Duration::from_secs(15), |r| r.event() == event)
            .await
            .remove(0)
    }

    /// Waits `quiet` and asserts nothing matching `filter` arrived by then.
    pub async fn assert_none_within(
        &self,
        quiet: Duration,
        filter: impl Fn(&WebhookRequest) -> bool,
    ) {
        actix_web::rt::time::sleep(quiet).await;
        let found: Vec<String> = self
            .received()
            .iter()
            .filter(|r| filter(r))
            .map(|r| format!("{} {}", r.path, String::from_utf8_lossy(&r.body)))
            .collect();
        assert!(found.is_empty(), "unexpected webhook requests: {found:#?}");
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(req: HttpRequest, body: Bytes, state: Data<Mutex<State>>) -> HttpResponse {
    let arrived = Instant::now();
    let path = req.path().to_owned();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let delivery = req
        .headers()
        .get("x-chatapi-delivery")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, delay) = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = &delivery {
            let count = state.in_flight.entry(id.clone()).or_default();
            *count += 1;
            if *count > 1 {
                state.overlaps.push(id.clone());
            }
        }
        let status = state
            .queued_on
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
            .or_else(|| state.queued.pop_front())
            .unwrap_or(state.default_status);
        (status, state.delay)
    };
    if !delay.is_zero() {
        actix_web::rt::time::sleep(delay).await;
    }
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(id) = &delivery
        && let Some(count) = state.in_flight.get_mut(id)
    {
        *count = count.saturating_sub(1);
    }
    state.received.push(WebhookRequest {
        method: req.method().to_string(),
        path,
        headers,
        body: body.to_vec(),
        arrived,
        status,
    });
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code).body("ok")
}
