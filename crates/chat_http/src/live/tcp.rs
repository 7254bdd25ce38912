//! The TCP side of a slow client: the kernel drops a connection whose peer takes no
//! byte for too long.
//!
//! A connection loop that gives up on a client (1013) can only stop handing frames
//! over: the bytes already written stay in actix-http's write buffer and the kernel's
//! send buffer, and actix-http keeps flushing them, without a deadline, to a peer that
//! advertises a zero window and acknowledges every window probe. So every accepted
//! connection gets `TCP_USER_TIMEOUT`: on Linux (since 5.11 for window probes) the
//! kernel aborts a connection whose sent data stays unacknowledged, or whose peer's
//! window stays closed, for that long. The abort frees the kernel's buffers at once and
//! fails actix-http's next write (`ETIMEDOUT`), and it drops the connection and its
//! buffer.
//!
//! The timeout is the send timeout plus [`CLOSE_WAIT`]: the connection loop decides
//! first (1013, counted and logged), and the kernel follows once the close frame could
//! not go out either. For the loop to decide first, its queue must fill soon after the
//! kernel's buffer does: `TCP_NOTSENT_LOWAT` ([`UNSENT_LIMIT`]) keeps the kernel's
//! share small (without it, a loopback connection buffers megabytes). Both cost nothing
//! per connection (no extra file descriptor, no timer of ours) and apply to plain HTTP
//! connections too: a client that takes no byte of a response for that long is dropped
//! as well.

use std::any::Any;
use std::time::Duration;

use actix_web::rt::net::TcpStream;

use super::close::CLOSE_WAIT;
use super::settings::LiveSettings;

/// How long an accepted connection may take no byte before the kernel drops it.
pub fn stall_timeout(settings: &LiveSettings) -> Duration {
    settings.send_timeout + CLOSE_WAIT
}

/// Unsent bytes the kernel keeps for one connection (`TCP_NOTSENT_LOWAT`): bytes in
/// flight are not counted, so a reading client's throughput is not limited, but a client
/// that stops reading holds at most this much of the kernel's memory beyond its own
/// receive window, and the connection loop's queue fills (and its send timeout runs)
/// right after.
pub const UNSENT_LIMIT: u32 = 128 * 1024;

/// `HttpServer::on_connect`: on an accepted TCP connection, sets `TCP_USER_TIMEOUT` to
/// `timeout` and `TCP_NOTSENT_LOWAT` to [`UNSENT_LIMIT`] (other transports are left
/// alone).
pub fn drop_when_stalled(io: &dyn Any, timeout: Duration) {
    let Some(stream) = io.downcast_ref::<TcpStream>() else {
        return;
    };
    limit(stream, timeout);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn limit(stream: &TcpStream, timeout: Duration) {
    let socket = socket2::SockRef::from(stream);
    if let Err(error) = socket.set_tcp_user_timeout(Some(timeout)) {
        tracing::warn!(%error, "TCP_USER_TIMEOUT could not be set on a connection");
    }
    if let Err(error) = socket.set_tcp_notsent_lowat(UNSENT_LIMIT) {
        tracing::warn!(%error, "TCP_NOTSENT_LOWAT could not be set on a connection");
    }
}

/// Elsewhere these options do not exist: a client that stops reading holds its
/// connection until it goes away.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn limit(_stream: &TcpStream, _timeout: Duration) {}
