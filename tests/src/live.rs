//! Live (WebSocket) helpers: opening sockets, waiting for frames, presence.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;

use crate::app::{TestApp, api_key_header};
use crate::assertions::{assert_rfc3339_near_now, keys_of};
use crate::members::room_action_path;

/// How long the live helpers wait for a frame (or a change) before failing.
pub const LIVE_WAIT: Duration = Duration::from_secs(5);

/// Frame types that come and go with other people's sockets and keyboards; the helpers
/// that wait for a given type skip them.
pub const NOISE: [&str; 2] = ["presence", "typing"];

/// awc's WebSocket connection.
pub type WsFramed = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

/// One thing a socket received (pings are answered and pongs skipped on the way).
#[derive(Debug)]
pub enum Received {
    /// A text frame, parsed as JSON (its envelope checked).
    Frame(Value),
    /// A close frame and its code (`None`: a close frame without one).
    Closed(Option<u16>),
    /// The connection ended without a close frame.
    Ended,
}

/// A WebSocket client, with the test's expectations about what it receives.
pub struct LiveSocket {
    framed: WsFramed,
    /// Whether the server's pings are answered (on by default).
    pub answer_pings: bool,
    /// How many pings the server sent so far.
    pub pings: usize,
    /// What the socket is (for failure messages).
    pub label: String,
}

impl std::fmt::Debug for LiveSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSocket")
            .field("label", &self.label)
            .field("pings", &self.pings)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes `text` for a query string.
pub fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The path of room `uuid`'s socket with the query `query` (e.g. `token=…&user_id=…`).
pub fn room_socket_path(uuid: &str, query: &str) -> String {
    format!("/ws/{uuid}?{query}")
}

/// The path of a user's stream of all their rooms in account `account_id`.
pub fn user_stream_path(account_id: impl std::fmt::Display, token: &str) -> String {
    format!(
        "/api/v1/accounts/{account_id}/ws?token={}",
        query_escape(token)
    )
}

/// Asserts the envelope every server frame has: exactly `type`, `data`, `timestamp`
/// (RFC 3339, near now) and `room_id`.
pub fn assert_envelope(frame: &Value) {
    assert_eq!(
        keys_of(frame),
        ["data", "room_id", "timestamp", "type"],
        "frame envelope: {frame}"
    );
    assert!(frame["type"].is_string(), "frame type: {frame}");
    assert_rfc3339_near_now(&frame["timestamp"]);
}

/// A frame's `type`.
pub fn frame_type(frame: &Value) -> &str {
    frame["type"]
        .as_str()
        .unwrap_or_else(|| panic!("a frame without a type: {frame}"))
}

impl TestApp {
    /// The `ws://` URL of `path` on this server.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.address.trim_start_matches("http://"))
    }

    /// Opens a WebSocket to `path` (with its query), expecting the upgrade (`101`).
    pub async fn ws_connect(&self, path: &str) -> LiveSocket {
        let (response, framed) = awc::Client::new()
            .ws(self.ws_url(path))
            .max_frame_size(1024 * 1024)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("WebSocket {path}: {e}"));
        assert_eq!(response.status().as_u16(), 101, "WebSocket {path}");
        LiveSocket {
            framed,
            answer_pings: true,
            pings: 0,
            label: path.split('?').next().unwrap_or(path).to_owned(),
        }
    }

    /// Opens room `uuid`'s socket with `query` and reads its `connection_status`
    /// (which must be the first frame); answers the socket and that frame's `data`.
    pub async fn open_room_socket(&self, uuid: &str, query: &str) -> (LiveSocket, Value) {
        let mut socket = self.ws_connect(&room_socket_path(uuid, query)).await;
        let greeting = socket.first_frame().await;
        (socket, greeting)
    }

    /// Room `uuid`'s socket as the participant `user_id`, with the account's API key.
    pub async fn participant_socket(&self, api_key: &str, uuid: &str, user_id: &str) -> LiveSocket {
        let query = format!(
            "token={}&user_id={}",
            query_escape(api_key),
            query_escape(user_id)
        );
        let (mut socket, greeting) = self.open_room_socket(uuid, &query).await;
        assert_eq!(greeting["user_id"], user_id, "{greeting}");
        socket.label = format!("room socket of {user_id}");
        socket
    }

    /// Room `uuid`'s socket with a user's access token.
    pub async fn user_room_socket(&self, token: &str, uuid: &str) -> LiveSocket {
        let query = format!("token={}", query_escape(token));
        self.open_room_socket(uuid, &query).await.0
    }

    /// The user's stream of all their rooms, after its `connection_status`; answers the
    /// socket and that frame's `data`.
    pub async fn open_user_stream(&self, account_id: i64, token: &str) -> (LiveSocket, Value) {
        let mut socket = self.ws_connect(&user_stream_path(account_id, token)).await;
        let greeting = socket.first_frame().await;
        socket.label = format!("stream of user {}", greeting["user_id"]);
        (socket, greeting)
    }

    /// Asserts that the socket at `path` is upgraded and then closed with `code` before
    /// any frame.
    pub async fn assert_refused(&self, path: &str, code: u16, context: &str) {
        let mut socket = self.ws_connect(path).await;
        match socket.recv(LIVE_WAIT).await {
            Some(Received::Closed(got)) => assert_eq!(got, Some(code), "{context}: {path}"),
            other => panic!("{context}: {path} should close with {code}, got {other:?}"),
        }
    }

    /// `GET /api/v1/rooms/{uuid}/online` as `credential`, expecting 200; answers the
    /// `online_users` (checking `total_online` agrees).
    pub async fn online_ids(&self, credential: &str, uuid: &str) -> Vec<String> {
        let reply = self
            .get(
                &room_action_path(uuid, "online"),
                &[api_key_header(credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "online: {}", reply.text());
        let body = reply.json();
        let ids: Vec<String> = body["data"]["online_users"]
            .as_array()
            .unwrap_or_else(|| panic!("no online_users array in {body}"))
            .iter()
            .map(|id| {
                id.as_str()
                    .unwrap_or_else(|| panic!("an online user_id is not a string: {body}"))
                    .to_owned()
            })
            .collect();
        assert_eq!(
            body["data"]["total_online"].as_u64(),
            Some(ids.len() as u64),
            "{body}"
        );
        ids
    }

    /// Polls `online` of room `uuid` until `check` holds, for up to `wait`; answers the
    /// last list (the caller asserts on it).
    pub async fn online_until(
        &self,
        credential: &str,
        uuid: &str,
        wait: Duration,
        check: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let ids = self.online_ids(credential, uuid).await;
            if check(&ids) || std::time::Instant::now() >= deadline {
                return ids;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl LiveSocket {
    /// The next thing received within `wait` (`None`: nothing came). Pings are counted
    /// (and answered when `answer_pings`), pongs skipped; text frames must be JSON with
    /// the frame envelope.
    pub async fn recv(&mut self, wait: Duration) -> Option<Received> {
        let deadline = actix_web::rt::time::Instant::now() + wait;
        loop {
            let next = actix_web::rt::time::timeout(
                deadline.saturating_duration_since(actix_web::rt::time::Instant::now()),
                self.framed.next(),
            )
            .await;
            let frame = match next {
                Err(_) => return None,
                Ok(None) => return Some(Received::Ended),
                Ok(Some(Err(error))) => panic!("{}: WebSocket error: {error}", self.label),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                awc::ws::Frame::Text(bytes) => {
                    let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        panic!(
                            "{}: a text frame is not JSON ({e}): {:?}",
                            self.label,
                            String::from_utf8_lossy(&bytes)
                        )
                    });
                    assert_envelope(&value);
                    return Some(Received::Frame(value));
                }
                awc::ws::Frame::Close(reason) => {
                    return Some(Received::Closed(reason.map(|r| u16::from(r.code))));
                }
                awc::ws::Frame::Ping(bytes) => {
                    self.pings += 1;
                    if self.answer_pings {
                        // The server may be closing; a failed pong shows up as the end.
                        let _ = self.framed.send(awc::ws::Message::Pong(bytes)).await;
                    }
                }
                awc::ws::Frame::Pong(_) => {}
                other => panic!("{}: unexpected frame {other:?}", self.label),
            }
        }
    }

    /// The next JSON frame (within [`LIVE_WAIT`]); fails on a close or silence.
    pub async fn next_json(&mut self) -> Value {
        match self.recv(LIVE_WAIT).await {
            Some(Received::Frame(frame)) => frame,
            other => panic!("{}: expected a frame, got {other:?}", self.label),
        }
    }

    /// The first frame, which must be `connection_status`; answers its `data`.
    pub async fn first_frame(&mut self) -> Value {
        let frame = self.next_json().await;
        assert_eq!(
            frame_type(&frame),
            "connection_status",
            "{}: the first frame must be connection_status: {frame}",
            self.label
        );
        assert_eq!(frame["data"]["status"], "connected", "{frame}");
        frame["data"].clone()
    }

    /// The next frame of type `kind`, skipping `skip` types; any other frame fails.
    pub async fn expect_skipping(&mut self, kind: &str, skip: &[&str]) -> Value {
        loop {
            let frame = self.next_json().await;
            let got = frame_type(&frame);
            if got == kind {
                return frame;
            }
            assert!(
                skip.contains(&got),
                "{}: expected a {kind:?} frame, got {frame}",
                self.label
            );
        }
    }

    /// The next frame of type `kind` (whole), skipping [`NOISE`] of other types; any
    /// other frame fails.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let skip: Vec<&str> = NOISE.iter().copied().filter(|n| *n != kind).collect();
        self.expect_skipping(kind, &skip).await
    }

    /// The `data` of the next frame of type `kind` (see [`LiveSocket::expect`]).
    pub async fn expect_data(&mut self, kind: &str) -> Value {
        self.expect(kind).await["data"].clone()
    }

    /// The next `error` frame's `data`, asserting its `code` (when given) and a message.
    pub async fn expect_error(&mut self, code: Option<&str>) -> Value {
        let data = self.expect_data("error").await;
        assert_eq!(
            keys_of(&data),
            ["code", "message"],
            "{}: error data {data}",
            self.label
        );
        assert!(
            data["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{data}"
        );
        assert!(
            data["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{data}"
        );
        if let Some(code) = code {
            assert_eq!(data["code"], code, "{}: {data}", self.label);
        }
        data
    }

    /// Asserts the server closes the socket with `code`, skipping [`NOISE`] frames
    /// before the close; any other frame fails.
    pub async fn expect_close(&mut self, code: u16) {
        loop {
            match self.recv(LIVE_WAIT).await {
                Some(Received::Frame(frame)) if NOISE.contains(&frame_type(&frame)) => {}
                Some(Received::Closed(got)) => {
                    assert_eq!(got, Some(code), "{}: close code", self.label);
                    return;
                }
                other => panic!(
                    "{}: expected a close with {code}, got {other:?}",
                    self.label
                ),
            }
        }
    }

    /// Sends `value` as a text frame.
    pub async fn send_json(&mut self, value: &Value) {
        self.send_text(value.to_string()).await;
    }

    /// Sends `text` as a text frame.
    pub async fn send_text(&mut self, text: String) {
        self.framed
            .send(awc::ws::Message::Text(text.into()))
            .await
            .unwrap_or_else(|e| panic!("{}: sending a frame: {e}", self.label));
    }

    /// Sends `bytes` as a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.framed
            .send(awc::ws::Message::Binary(bytes.into()))
            .await
            .unwrap_or_else(|e| panic!("{}: sending a frame: {e}", self.label));
    }

    /// Sends `{"type": "ping"}` and expects a `pong` (skipping [`NOISE`]): the
    /// connection is open and answering.
    pub async fn assert_alive(&mut self) {
        self.send_json(&serde_json::json!({ "type": "ping" })).await;
        let pong = self.expect("pong").await;
        assert!(pong["data"].is_object(), "{pong}");
    }

    /// Closes the socket (code 1000) and waits until the server lets go of it.
    pub async fn close(mut self) {
        let reason = awc::ws::CloseReason {
            code: awc::ws::CloseCode::Normal,
            description: None,
        };
        let _ = self
            .framed
            .send(awc::ws::Message::Close(Some(reason)))
            .await;
        loop {
            match self.recv(LIVE_WAIT).await {
                Some(Received::Frame(_)) => {}
                Some(Received::Closed(_) | Received::Ended) => return,
                None => panic!("{}: the server did not end the connection", self.label),
            }
        }
    }
}
