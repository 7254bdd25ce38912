//! How a live connection ends: close codes, why a running connection ended, and the
//! close itself.

use std::time::Duration;

use actix_ws::{CloseCode, CloseReason};
use chat_app::live::CredentialEnd;

/// Closed: unauthorized (at open), or the credential stopped working (revoked,
/// rotated, expired, its user or account deactivated).
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

/// How long a close frame may take to be handed over before the connection is left to
/// end without it.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A close: its code and reason.
pub type Close = (u16, &'static str);

/// Why a running connection ended: the close it gets, if any, and the `reason` label
/// it is counted under in `chat_live_sockets_closed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client sent a close frame.
    ClientClosed,
    /// The connection ended without a close frame (the client vanished, or the kernel
    /// gave up on a peer that took no byte): nothing more can be said.
    Lost,
    /// Nothing was heard for the idle timeout.
    Idle,
    /// The hub dropped the connection: its queue of deliveries overflowed.
    QueueOverflow,
    /// One frame could not be handed over within the send timeout.
    SendTimeout,
    /// The connection ended while a frame waited for room in its queue: the client had
    /// stopped taking frames and the kernel dropped its connection.
    Stalled,
    /// Too many frames, too often refused.
    RateLimited,
    /// A frame over the size limit.
    FrameTooLarge,
    /// A frame that breaks the WebSocket protocol.
    ProtocolError,
    /// The caller is no longer a member.
    Removed,
    /// The room was deleted.
    RoomDeleted,
    /// The session has no scope to listen to.
    Unauthorized,
    /// Something on the server failed.
    ServerError,
    /// The replay of `since_seq` could not be read.
    ReplayFailed,
    /// The credential the socket was let in with stopped working (or the participant
    /// an API-key socket spoke for was deactivated).
    Credential(CredentialEnd),
}

impl Ending {
    /// The close frame this ending sends, if any.
    pub fn close(self) -> Option<Close> {
        match self {
            Self::ClientClosed | Self::Lost | Self::Stalled => None,
            Self::Idle => Some((1001, "idle")),
            Self::QueueOverflow => Some((TOO_SLOW, "too slow: reconnect with since_seq")),
            Self::SendTimeout => Some((TOO_SLOW, "too slow")),
            Self::RateLimited => Some((RATE_LIMITED, "rate limited")),
            Self::FrameTooLarge => Some((1009, "frame too large")),
            Self::ProtocolError => Some((1002, "protocol error")),
            Self::Removed => Some((ACCESS_DENIED, "no longer a member")),
            Self::RoomDeleted => Some((ROOM_NOT_FOUND, "room deleted")),
            Self::Unauthorized => Some((UNAUTHORIZED, "unauthorized")),
            Self::ServerError => Some((SERVER_ERROR, "server error")),
            Self::ReplayFailed => Some((SERVER_ERROR, "replay failed")),
            Self::Credential(end) => Some((UNAUTHORIZED, end.reason())),
        }
    }

    /// The `reason` label of `chat_live_sockets_closed_total`.
    pub fn label(self) -> &'static str {
        match self {
            Self::ClientClosed => "client_closed",
            Self::Lost => "lost",
            Self::Idle => "idle",
            Self::QueueOverflow | Self::SendTimeout | Self::Stalled => "too_slow",
            Self::RateLimited => "rate_limited",
            Self::FrameTooLarge => "frame_too_large",
            Self::ProtocolError => "protocol_error",
            Self::Removed => "removed",
            Self::RoomDeleted => "room_deleted",
            Self::Unauthorized => "unauthorized",
            Self::ServerError | Self::ReplayFailed => "server_error",
            Self::Credential(end) => end.label(),
        }
    }
}

/// Closes the socket with `code` (waiting at most [`CLOSE_WAIT`] for the close to be
/// handed over: a client that reads nothing never gets it, and its connection is left
/// to the kernel's timeout, see `crate::live::tcp`).
pub async fn close(ws: actix_ws::Session, code: u16, reason: &'static str) {
    let reason = CloseReason {
        code: CloseCode::Other(code),
        description: Some(reason.to_owned()),
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, ws.close(Some(reason))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_that_stops_working_closes_with_4001_and_says_why() {
        let ends = [
            (
                CredentialEnd::Revoked,
                "credential revoked",
                "credential_revoked",
            ),
            (
                CredentialEnd::Expired,
                "credential expired",
                "credential_expired",
            ),
            (
                CredentialEnd::Changed,
                "credential changed",
                "credential_changed",
            ),
            (
                CredentialEnd::UserInactive,
                "user deactivated",
                "user_inactive",
            ),
        ];
        for (end, reason, label) in ends {
            let ending = Ending::Credential(end);
            assert_eq!(ending.close(), Some((UNAUTHORIZED, reason)));
            assert_eq!(ending.label(), label);
        }
    }
}
