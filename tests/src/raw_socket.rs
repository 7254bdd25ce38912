//! A WebSocket spoken by hand over TCP, to play a slow client.

use std::time::Duration;

use serde_json::Value;

use crate::app::TestApp;
use crate::live::LIVE_WAIT;

/// A WebSocket spoken by hand over TCP: upgraded, then left unread (a slow client)
/// until the test drains it.
#[derive(Debug)]
pub struct RawSocket {
    stream: actix_web::rt::net::TcpStream,
    buffer: Vec<u8>,
}

/// What a [`RawSocket`] had received when drained.
#[derive(Debug, Default)]
pub struct Drained {
    /// The text frames, parsed as JSON.
    pub frames: Vec<Value>,
    /// The close frame's code, when one came.
    pub close: Option<u16>,
    /// Whether the server ended the connection.
    pub ended: bool,
}

impl TestApp {
    /// Opens a WebSocket to `path` by hand, with a receive buffer of `receive_buffer`
    /// bytes, and reads only the `101` response head.
    pub async fn raw_socket(&self, path: &str, receive_buffer: u32) -> RawSocket {
        let address: std::net::SocketAddr = self
            .address
            .trim_start_matches("http://")
            .parse()
            .expect("the server address is an IP and a port");
        let socket = actix_web::rt::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .set_recv_buffer_size(receive_buffer)
            .expect("the receive buffer size is set");
        let stream = socket.connect(address).await.expect("connects");
        let mut raw = RawSocket {
            stream,
            buffer: Vec::new(),
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        raw.write_all(request.as_bytes()).await;
        let deadline = actix_web::rt::time::Instant::now() + LIVE_WAIT;
        let head_end = loop {
            if let Some(at) = raw.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(
                raw.read_some(deadline).await,
                "no response head: {:?}",
                String::from_utf8_lossy(&raw.buffer)
            );
        };
        let head = String::from_utf8_lossy(&raw.buffer[..head_end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
        raw.buffer.drain(..head_end);
        raw
    }
}

impl RawSocket {
    async fn write_all(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            self.stream.writable().await.expect("writable");
            match self.stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("writing to the raw socket: {e}"),
            }
        }
    }

    /// Reads what is there (waiting until `deadline`); answers false at the end of the
    /// stream or the deadline.
    async fn read_some(&mut self, deadline: actix_web::rt::time::Instant) -> bool {
        let mut chunk = vec![0_u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(actix_web::rt::time::Instant::now());
            match actix_web::rt::time::timeout(left, self.stream.readable()).await {
                Err(_) => return false,
                Ok(result) => result.expect("readable"),
            }
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return false,
                Err(e) => panic!("reading the raw socket: {e}"),
            }
        }
    }

    /// Without reading anything, sends an empty (masked) ping every 500 ms until a write
    /// fails because the server's end of the TCP connection is gone (its kernel answers
    /// the ping with a reset), and answers how long that took; `None` if the connection
    /// still stood after `bound`. A server that merely stopped writing, or that still
    /// holds the connection with unsent bytes, keeps acknowledging the pings. (Not more
    /// often: every segment that comes in re-arms the server kernel's window-probe timer,
    /// and pings every 100 ms were seen to keep its first probe, and so its
    /// `TCP_USER_TIMEOUT`, from ever running.)
    pub async fn dropped_by_server_within(&mut self, bound: Duration) -> Option<Duration> {
        const PING: [u8; 6] = [0x89, 0x80, 0x0a, 0x0b, 0x0c, 0x0d];
        let started = actix_web::rt::time::Instant::now();
        while started.elapsed() < bound {
            if let Ok(Some(_)) | Err(_) = self.stream.take_error() {
                return Some(started.elapsed());
            }
            match self.stream.try_write(&PING) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return Some(started.elapsed()),
            }
            actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        }
        None
    }

    /// Reads every frame until the server ends the connection, or nothing comes for
    /// `quiet`.
    pub async fn drain(&mut self, quiet: Duration) -> Drained {
        let mut drained = Drained::default();
        loop {
            while let Some((opcode, payload)) = self.take_frame() {
                match opcode {
                    0x1 => drained.frames.push(
                        serde_json::from_slice(&payload)
                            .unwrap_or_else(|e| panic!("a raw text frame is not JSON ({e})")),
                    ),
                    0x8 => {
                        drained.close = payload
                            .get(..2)
                            .map(|code| u16::from_be_bytes([code[0], code[1]]));
                    }
                    0x9 | 0xA => {}
                    other => panic!("unexpected raw frame opcode {other}"),
                }
            }
            let deadline = actix_web::rt::time::Instant::now() + quiet;
            if !self.read_some(deadline).await {
                drained.ended = actix_web::rt::time::Instant::now() < deadline;
                return drained;
            }
        }
    }

    /// One whole (unmasked, unfragmented) server frame off the buffer.
    fn take_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let buffer = &self.buffer;
        if buffer.len() < 2 {
            return None;
        }
        assert_eq!(buffer[0] & 0x80, 0x80, "a fragmented server frame");
        assert_eq!(buffer[1] & 0x80, 0, "a masked server frame");
        let opcode = buffer[0] & 0x0f;
        let (length, start) = match buffer[1] & 0x7f {
            126 if buffer.len() >= 4 => {
                (usize::from(u16::from_be_bytes([buffer[2], buffer[3]])), 4)
            }
            127 if buffer.len() >= 10 => {
                let mut be = [0_u8; 8];
                be.copy_from_slice(&buffer[2..10]);
                (
                    usize::try_from(u64::from_be_bytes(be)).expect("a frame length fits"),
                    10,
                )
            }
            126 | 127 => return None,
            short => (usize::from(short), 2),
        };
        if buffer.len() < start + length {
            return None;
        }
        let payload = buffer[start..start + length].to_vec();
        self.buffer.drain(..start + length);
        Some((opcode, payload))
    }
}
