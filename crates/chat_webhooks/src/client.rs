//! The awc client, on a thread of its own.
//!
//! awc's `Client` is `!Send` (it shares its connection pool through `Rc`), while the
//! `WebhookSender` port is `Send + Sync` and its futures run on any executor. So one
//! thread runs actix's single-threaded runtime, owns the client, and serves [`Job`]s sent
//! over a channel, each on a local task of its own, answering through a oneshot. The thread
//! starts on the first POST and ends when the sender is dropped (its channel closes).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use awc::error::{ConnectError, SendRequestError};
use awc::http::header::{HeaderName, HeaderValue, LOCATION, USER_AGENT};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// How many POSTs may wait for the client thread before a caller waits for room.
const QUEUE: usize = 256;

/// The client's limits.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub connect_timeout: Duration,
    pub max_body: usize,
    pub user_agent: String,
}

/// One POST to make, to one address.
pub(crate) struct Job {
    pub url: String,
    pub address: SocketAddr,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub deadline: Instant,
    pub reply: oneshot::Sender<Outcome>,
}

/// What came of one [`Job`].
#[derive(Debug)]
pub(crate) enum Outcome {
    /// An answer came with this status (`error` set for anything but a 2xx).
    Answered { status: u16, error: Option<String> },
    /// No TCP connection to this address (the caller may try the next one).
    ConnectFailed(String),
    /// Anything else: TLS, timeout, a broken exchange, a header awc refused.
    Failed(String),
}

/// The handle the sender keeps: jobs go in, the thread runs them.
#[derive(Debug)]
pub(crate) struct ClientThread {
    jobs: mpsc::Sender<Job>,
}

impl ClientThread {
    /// Starts the thread.
    pub fn start(limits: Limits) -> std::io::Result<Self> {
        let (jobs, mut inbox) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("webhook-client".into())
            .spawn(move || {
                let runtime = match actix_rt::Runtime::new() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::error!(%error, "webhook client: no runtime; every POST will fail");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let client = build_client(&limits);
                    while let Some(job) = inbox.recv().await {
                        let client = client.clone();
                        let max_body = limits.max_body;
                        let user_agent = limits.user_agent.clone();
                        actix_rt::spawn(async move {
                            let Job {
                                url,
                                address,
                                headers,
                                body,
                                deadline,
                                reply,
                            } = job;
                            let outcome = run(
                                &client, url, address, headers, body, deadline, max_body,
                                user_agent,
                            )
                            .await;
                            // The caller may have given up; nothing to do then.
                            let _ = reply.send(outcome);
                        });
                    }
                });
            })?;
        Ok(Self { jobs })
    }

    /// Hands `job` to the thread; `Err` when the thread is gone.
    pub async fn submit(&self, job: Job) -> Result<(), String> {
        self.jobs
            .send(job)
            .await
            .map_err(|_| "the webhook client thread has stopped".to_owned())
    }
}

fn build_client(limits: &Limits) -> awc::Client {
    let mut connector = awc::Connector::new()
        .timeout(limits.connect_timeout)
        .conn_keep_alive(Duration::from_secs(15));
    match tls_config() {
        Ok(config) => connector = connector.rustls_0_23(Arc::new(config)),
        Err(error) => tracing::error!(%error, "webhook client: no TLS; https receivers will fail"),
    }
    awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .no_default_headers()
        // The whole exchange is bounded by the job's deadline instead.
        .disable_timeout()
        .finish()
}

/// rustls over ring with Mozilla's roots, HTTP/1.1 only.
///
/// rustls 0.23.48 deprecates its ring provider for lacking post-quantum key exchange; the
/// other provider (aws-lc-rs) needs cmake and a long C build, and a webhook's body is not a
/// secret worth that today. Revisit when rustls ships a pure-Rust post-quantum provider.
#[allow(deprecated)]
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// POSTs `body` to `url` over a connection to `address` (Host and SNI from the URL), then
/// reads at most `max_body` bytes of the answer and drops it; all by `deadline`.
///
/// Once the status has come, it decides: a body that is slow, broken or too large is only
/// cut short, since the receiver has already answered.
#[allow(clippy::too_many_arguments)]
async fn run(
    client: &awc::Client,
    url: String,
    address: SocketAddr,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    deadline: Instant,
    max_body: usize,
    user_agent: String,
) -> Outcome {
    let mut request = client.post(url).address(address);
    for (name, value) in headers {
        let name = match HeaderName::try_from(name.as_str()) {
            Ok(name) => name,
            Err(_) => return Outcome::Failed(format!("invalid header name {name:?}")),
        };
        let value = match HeaderValue::try_from(value) {
            Ok(value) => value,
            Err(_) => return Outcome::Failed(format!("invalid value for header {name}")),
        };
        request = request.insert_header((name, value));
    }
    request = request.insert_header((USER_AGENT, user_agent));
    let sent = match tokio::time::timeout_at(deadline, request.send_body(body)).await {
        Ok(sent) => sent,
        Err(_) => return Outcome::Failed("timed out waiting for the receiver".into()),
    };
    let mut response = match sent {
        Ok(response) => response,
        Err(SendRequestError::Connect(ConnectError::Io(error))) => {
            // TLS failures arrive here too (tokio-rustls reports them as I/O errors).
            return Outcome::ConnectFailed(format!("connecting to {address} failed: {error}"));
        }
        Err(SendRequestError::Connect(ConnectError::Timeout)) => {
            return Outcome::ConnectFailed(format!("connecting to {address} timed out"));
        }
        Err(error) => return Outcome::Failed(describe(&error, address)),
    };
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // Read a bounded part of the answer so a well-behaved receiver sees it taken; a larger
    // one overflows the limit and is dropped with its connection. Either way it is ignored.
    let _ = tokio::time::timeout_at(deadline, response.body().limit(max_body)).await;
    let error = if status.is_success() {
        None
    } else if status.is_redirection() {
        Some(match location {
            Some(location) => format!("redirect ({}) to {location} not followed", status.as_u16()),
            None => format!("redirect ({}) not followed", status.as_u16()),
        })
    } else {
        Some(format!("the receiver answered {status}"))
    };
    Outcome::Answered {
        status: status.as_u16(),
        error,
    }
}

fn describe(error: &SendRequestError, address: SocketAddr) -> String {
    match error {
        SendRequestError::Connect(ConnectError::SslIsNotSupported) => "TLS is unavailable".into(),
        SendRequestError::Connect(error) => format!("could not connect to {address}: {error}"),
        SendRequestError::Timeout => "timed out waiting for the receiver".into(),
        other => format!("the exchange with {address} failed: {other}"),
    }
}
