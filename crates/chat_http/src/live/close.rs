//! How a live connection ends: close codes, and the close itself.

use std::time::Duration;

use actix_ws::{CloseCode, CloseReason};

/// Closed: unauthorized.
pub const UNAUTHORIZED: u16 = 4001;
/// Closed: no such room (or it was deleted).
pub const ROOM_NOT_FOUND: u16 = 4002;
/// Closed: the caller may not listen here (any more).
pub const ACCESS_DENIED: u16 = 4003;
/// Closed: too many frames, too often refused.
pub const RATE_LIMITED: u16 = 4004;
/// Standard "try again later": the client did not keep up with its events.
pub const TOO_SLOW: u16 = 1013;
/// Standard "internal error".
pub const SERVER_ERROR: u16 = 1011;

/// A close: its code and reason.
pub type Close = (u16, &'static str);

/// Closes the socket with `code` (waiting at most 2 s for the close to go out).
pub async fn close(ws: actix_ws::Session, code: u16, reason: &'static str) {
    let reason = CloseReason {
        code: CloseCode::Other(code),
        description: Some(reason.to_owned()),
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(Some(reason))).await;
}
