//! The [`WebhookSender`] port over awc: [`AwcSender`].
//!
//! - [`check_destination`](WebhookSender::check_destination) resolves the URL's host (an IP
//!   literal as is) and refuses it, on field `url`, if any address is not public
//!   ([`address::refusal`]): loopback, private, link-local, multicast, unspecified,
//!   broadcast, CGNAT, documentation, reserved, or an IPv6 form carrying such an IPv4.
//! - [`post`](WebhookSender::post) resolves and checks again, then connects to one of
//!   the checked addresses itself (awc's `ClientRequest::address`), so a name that changes
//!   its answer between check and connect (DNS rebinding) cannot steer the POST elsewhere;
//!   the `Host` header and TLS SNI still name the URL's host. Redirects are never followed
//!   (a 3xx is a failure with its status); connecting takes at most 5 s and the whole
//!   exchange 10 s; at most 64 KiB of the answer is read, then dropped. Every failure is an
//!   error text in the [`Response`], never a panic.
//!
//! `allow_private` (`CHAT_WEBHOOK_ALLOW_PRIVATE=1`) skips the address checks, for tests and
//! private deployments.

pub mod address;
mod client;
mod resolve;

use std::fmt;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use chat_app::ports::{Outgoing, Response, WebhookSender};
use chat_domain::{FieldError, Problem, WebhookUrl};
use tokio::sync::oneshot;
use tokio::time::Instant;

use client::{ClientThread, Job, Limits, Outcome};

pub use resolve::checked_addresses;

/// The `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!("chat-rooms-webhooks/", env!("CARGO_PKG_VERSION"));

/// How many of a host's addresses a POST tries before giving up on connecting.
const MAX_ADDRESSES_TRIED: usize = 3;

/// The sender's limits; [`Default`] is the production contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderOptions {
    /// Skip the address checks (`CHAT_WEBHOOK_ALLOW_PRIVATE=1`).
    pub allow_private: bool,
    /// Longest wait for one TCP (and TLS) connection: 5 s.
    pub connect_timeout: Duration,
    /// Longest whole POST, resolving included: 10 s.
    pub total_timeout: Duration,
    /// Most bytes of an answer read before it is dropped: 64 KiB.
    pub max_response_body: usize,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self {
            allow_private: false,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_response_body: 64 * 1024,
        }
    }
}

/// The [`WebhookSender`] over awc. Cheap to share behind an `Arc`; its client thread starts
/// on the first POST and stops when the sender is dropped.
pub struct AwcSender {
    options: SenderOptions,
    client: OnceLock<Result<ClientThread, String>>,
}

impl fmt::Debug for AwcSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwcSender")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AwcSender {
    /// The production sender; `allow_private` skips the address checks.
    pub fn new(allow_private: bool) -> Self {
        Self::with_options(SenderOptions {
            allow_private,
            ..SenderOptions::default()
        })
    }

    /// A sender with other limits (tests use short timeouts).
    pub fn with_options(options: SenderOptions) -> Self {
        Self {
            options,
            client: OnceLock::new(),
        }
    }

    /// The limits in force.
    pub fn options(&self) -> &SenderOptions {
        &self.options
    }

    fn client(&self) -> Result<&ClientThread, String> {
        self.client
            .get_or_init(|| {
                ClientThread::start(Limits {
                    connect_timeout: self.options.connect_timeout,
                    max_body: self.options.max_response_body,
                    user_agent: USER_AGENT.to_owned(),
                })
                .map_err(|error| format!("the webhook client thread could not start: {error}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The POST, by `deadline`: the status and error text, or only an error text.
    async fn deliver(
        &self,
        outgoing: Outgoing,
        deadline: Instant,
    ) -> (Option<u16>, Option<String>) {
        let url = &outgoing.url;
        let resolved = tokio::time::timeout_at(
            deadline,
            checked_addresses(
                url.host(),
                url.port_or_default(),
                self.options.allow_private,
            ),
        )
        .await;
        let addresses = match resolved {
            Ok(Ok(addresses)) => addresses,
            Ok(Err(reason)) => return (None, Some(reason)),
            Err(_) => return (None, Some(format!("resolving {} timed out", url.host()))),
        };
        self.send_to(outgoing, addresses, deadline).await
    }

    /// The POST to the first of `addresses` that takes a connection, never resolving again.
    async fn send_to(
        &self,
        outgoing: Outgoing,
        addresses: Vec<SocketAddr>,
        deadline: Instant,
    ) -> (Option<u16>, Option<String>) {
        let url = &outgoing.url;
        let client = match self.client() {
            Ok(client) => client,
            Err(error) => return (None, Some(error)),
        };
        let mut last_error = String::new();
        for address in addresses.into_iter().take(MAX_ADDRESSES_TRIED) {
            let (reply, answer) = oneshot::channel();
            let job = Job {
                url: url.as_str().to_owned(),
                address,
                headers: outgoing.headers.clone(),
                body: outgoing.body.clone(),
                deadline,
                reply,
            };
            if let Err(error) = client.submit(job).await {
                return (None, Some(error));
            }
            match answer.await {
                Ok(Outcome::Answered { status, error }) => return (Some(status), error),
                Ok(Outcome::Failed(error)) => return (None, Some(error)),
                Ok(Outcome::ConnectFailed(error)) => last_error = error,
                Err(_) => return (None, Some("the webhook client thread has stopped".into())),
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        (None, Some(last_error))
    }
}

#[async_trait]
impl WebhookSender for AwcSender {
    async fn check_destination(&self, url: &WebhookUrl) -> Result<(), FieldError> {
        let checked = tokio::time::timeout(
            self.options.total_timeout,
            checked_addresses(
                url.host(),
                url.port_or_default(),
                self.options.allow_private,
            ),
        )
        .await;
        match checked {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(reason)) => Err(FieldError::new("url", Problem::Invalid(reason))),
            Err(_) => Err(FieldError::new(
                "url",
                Problem::Invalid(format!("resolving {} timed out", url.host())),
            )),
        }
    }

    async fn post(&self, outgoing: Outgoing) -> Response {
        let started = Instant::now();
        let (status, error) = self
            .deliver(outgoing, started + self.options.total_timeout)
            .await;
        Response {
            status,
            duration: started.elapsed(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Answers one request with a 200 and hands back its head.
    async fn one_shot() -> (u16, tokio::task::JoinHandle<String>) {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => panic!("{error}"),
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let served = tokio::spawn(async move {
            let Ok((mut stream, _)) = listener.accept().await else {
                return String::new();
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte).await {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            String::from_utf8_lossy(&head).into_owned()
        });
        (port, served)
    }

    fn outgoing(url: &str) -> Outgoing {
        Outgoing {
            url: match WebhookUrl::parse(url) {
                Ok(url) => url,
                Err(error) => panic!("{error}"),
            },
            headers: Vec::new(),
            body: b"{}".to_vec(),
        }
    }

    #[tokio::test]
    async fn the_post_goes_to_the_checked_address_with_the_urls_host() {
        // A name that does not resolve at all: only the pinned address can be reached.
        let (port, served) = one_shot().await;
        let sender = AwcSender::new(false);
        let pinned = vec![SocketAddr::from(([127, 0, 0, 1], port))];
        let deadline = Instant::now() + Duration::from_secs(5);
        let outgoing = outgoing(&format!("http://hooks.example.invalid:{port}/in"));
        let (status, error) = sender.send_to(outgoing, pinned, deadline).await;
        assert_eq!((status, error), (Some(200), None));
        let head = served.await.unwrap_or_default();
        assert!(head.starts_with("POST /in HTTP/1.1"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("host: hooks.example.invalid:{port}")),
            "{head}"
        );
    }

    #[tokio::test]
    async fn https_to_a_plain_http_receiver_is_an_error_text() {
        // A plain-HTTP server that answers before reading: the TLS handshake reads garbage.
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => panic!("{error}"),
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        tokio::spawn(async move {
            if let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    .await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let sender = AwcSender::new(true);
        let response = sender
            .post(outgoing(&format!("https://127.0.0.1:{port}/")))
            .await;
        assert_eq!(response.status, None, "{response:?}");
        let error = response.error.unwrap_or_default();
        assert!(error.contains("failed"), "{error}");
        assert!(response.duration < Duration::from_secs(2), "{error}");
    }
}
