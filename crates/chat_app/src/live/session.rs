//! An admitted live connection, as plain data: who it is, what it listens to.

use chat_domain::{AccountId, Room, RoomId, Seq, User, UserId};
use uuid::Uuid;

use crate::MessageDetail;
use crate::actor::Actor;
use crate::error::AppError;
use crate::live::credentials::SocketCredential;
use crate::live::hub::Scope;

/// A live connection that was let in.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSession {
    /// Who the socket acts as: the user, the participant the API key named (acting as
    /// that user), or the API key itself (an observer).
    pub actor: Actor,
    /// The account it is in.
    pub account: AccountId,
    /// The connected person (none for an API-key observer): presence, typing, `read`.
    pub participant: Option<User>,
    /// A room's socket or a user's stream.
    pub kind: SessionKind,
    /// What it was let in with (followed while it runs: see
    /// [`LiveSessions::follow`](crate::LiveSessions::follow)).
    pub credential: SocketCredential,
}

/// What a live connection is.
// One per connection, never moved around: no need to box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SessionKind {
    /// One room's socket (the ChatAPI dialect).
    Room {
        /// The room.
        room: Room,
        /// Replay the room's messages after this one first.
        since: Option<Seq>,
    },
    /// Every room of the participant (the account dialect).
    Stream {
        /// The user's rooms when the stream opened.
        rooms: Vec<RoomId>,
    },
}

impl LiveSession {
    /// The connected person's ChatAPI `user_id`.
    pub fn user_key(&self) -> Option<String> {
        self.participant.as_ref().map(User::chat_user_id)
    }

    /// The socket's own room (a room socket's).
    pub fn room(&self) -> Option<&Room> {
        match &self.kind {
            SessionKind::Room { room, .. } => Some(room),
            SessionKind::Stream { .. } => None,
        }
    }

    /// What the connection subscribes to; `None` for a stream without its user
    /// (admission never makes one).
    pub fn scope(&self) -> Option<Scope> {
        match (&self.kind, &self.participant) {
            (SessionKind::Room { room, .. }, _) => Some(Scope::Room {
                account: self.account,
                room: room.id,
            }),
            (SessionKind::Stream { rooms }, Some(user)) => Some(Scope::User {
                account: self.account,
                user: user.id,
                rooms: rooms.clone(),
            }),
            (SessionKind::Stream { .. }, None) => None,
        }
    }

    /// How much a message sent or replayed on this connection shows.
    pub fn detail(&self) -> MessageDetail {
        match self.kind {
            SessionKind::Room { .. } => MessageDetail::Summary,
            SessionKind::Stream { .. } => MessageDetail::Rich,
        }
    }
}

/// Why a live connection was not let in (the adapter closes it with a code).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No credential, an unknown one, or one that cannot open this connection.
    #[error("unauthorized")]
    Unauthorized,
    /// No such room (or one the caller may not see).
    #[error("room not found")]
    RoomNotFound,
    /// `since_seq` is not a non-negative integer.
    #[error("since_seq must be a non-negative integer")]
    InvalidSince,
    /// The caller is known but may not listen here.
    #[error("access denied")]
    AccessDenied,
    /// The person has as many sockets open on this node as they may.
    #[error("too many open sockets")]
    TooManySockets,
    /// The check itself failed (the store, a bug).
    #[error("admission failed: {0}")]
    Failed(AppError),
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Self {
        use crate::error::Resource;
        match error {
            AppError::Unauthenticated
            | AppError::TokenExpired
            | AppError::SigningUnavailable
            | AppError::WrongAccount => Refusal::Unauthorized,
            AppError::NotFound(Resource::Room) => Refusal::RoomNotFound,
            AppError::NotFound(
                Resource::Account
                | Resource::User
                | Resource::Message
                | Resource::File
                | Resource::Webhook,
            ) => Refusal::Unauthorized,
            AppError::Forbidden(_) => Refusal::AccessDenied,
            error @ (AppError::Conflict(_)
            | AppError::ContentTooLong(_)
            | AppError::Invalid(_)
            | AppError::Unavailable(_)
            | AppError::Unexpected(_)) => Refusal::Failed(error),
        }
    }
}

/// A connection's presence session, to close when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub(crate) id: Uuid,
    pub(crate) account: AccountId,
    /// The room of a room socket, whose people hear of the person going offline.
    pub(crate) room: Option<(RoomId, Uuid)>,
    pub(crate) user_key: String,
    pub(crate) user: Option<UserId>,
}
