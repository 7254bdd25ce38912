//! What a use case answers when it cannot do what was asked: business cases each
//! dialect renders in its own shape, and one opaque `Unexpected`.

use std::fmt;

use chat_domain::FieldErrors;

/// The kinds of thing a caller can ask for that may not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// An account (tenant).
    Account,
    /// A user of an account.
    User,
    /// A room.
    Room,
    /// A message.
    Message,
    /// A stored file.
    File,
    /// A webhook.
    Webhook,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Account => "account",
            Resource::User => "user",
            Resource::Room => "room",
            Resource::Message => "message",
            Resource::File => "file",
            Resource::Webhook => "webhook",
        })
    }
}

/// A request that clashes with the state of things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The user already belongs to the room.
    AlreadyInRoom,
    /// The user does not belong to the room.
    NotInRoom,
    /// The room is deactivated.
    RoomInactive,
    /// The room has reached its `max_participants`.
    RoomFull,
    /// Another user of the account already has this ChatAPI `user_id`.
    UserExists,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Conflict::AlreadyInRoom => "already in the room",
            Conflict::NotInRoom => "not in the room",
            Conflict::RoomInactive => "the room is inactive",
            Conflict::RoomFull => "the room is full",
            Conflict::UserExists => "a user with this user_id exists",
        })
    }
}

/// Why a known caller may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Creating, changing or deleting rooms (or their members) needs an administrator
    /// or the account's API key.
    NotAdministrator,
    /// An agent acting on a room it does not belong to (or anyone sending to a room
    /// they are not in).
    NotMember,
    /// Editing or deleting someone else's message.
    NotAuthor,
    /// The account has this feature switched off.
    FeatureDisabled(&'static str),
    /// A scoped credential without the permission this action needs.
    PermissionDenied(chat_domain::Permission),
    /// The user is deactivated: nothing can be issued to it.
    UserInactive,
    /// A scoped credential acting on another user (reading or logging them out): no
    /// permission grants it; only the API key may.
    OtherUser,
    /// A route about the caller as a person (`GET /api/v1/me`) asked with the API key,
    /// which is nobody.
    NotAUser,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::NotAdministrator => f.write_str("administrators only"),
            Denied::NotMember => f.write_str("members only"),
            Denied::NotAuthor => f.write_str("the sender only"),
            Denied::FeatureDisabled(feature) => write!(f, "feature {feature} is disabled"),
            Denied::PermissionDenied(permission) => {
                write!(f, "this credential lacks the {permission} permission")
            }
            Denied::UserInactive => f.write_str("the user is deactivated"),
            Denied::OtherUser => f.write_str("a scoped credential acts on its own user only"),
            Denied::NotAUser => f.write_str("the API key is nobody: a user's credential is needed"),
        }
    }
}

/// Every way a use case can fail. The HTTP crate maps each case to a status code and
/// body in each dialect with an exhaustive `match`, so a new case must be given an answer.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credential, an unknown or revoked one, or one of a kind this action does not accept.
    #[error("credential missing, unknown, revoked or not accepted here")]
    Unauthenticated,
    /// A scoped key or signed token past its expiry (ChatAPI `401 TOKEN_EXPIRED`).
    #[error("credential expired")]
    TokenExpired,
    /// Signed tokens cannot be issued or checked: the server has no `CHAT_SECRET_KEY`.
    #[error("signed tokens are not configured on this server")]
    SigningUnavailable,
    /// A valid credential, used on another account's resources.
    #[error("credential belongs to another account")]
    WrongAccount,
    /// The caller is known but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(Denied),
    /// The thing does not exist in the caller's account (or does not exist at all).
    #[error("{0} not found")]
    NotFound(Resource),
    /// The request clashes with the state of things.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// Message content over the maximum length.
    #[error("content too long: {} > {}", .0.current_length, .0.max_length)]
    ContentTooLong(chat_domain::ContentTooLong),
    /// The input broke one or more rules; every bad field is listed.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The database cannot be reached right now; the request may be retried.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or an unforeseen failure. Its text is logged, never shown.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl From<chat_domain::FieldError> for AppError {
    fn from(error: chat_domain::FieldError) -> Self {
        AppError::Invalid(error.into())
    }
}

impl From<chat_domain::ContentError> for AppError {
    fn from(error: chat_domain::ContentError) -> Self {
        match error {
            chat_domain::ContentError::TooLong(too_long) => AppError::ContentTooLong(too_long),
            chat_domain::ContentError::Invalid(field) => field.into(),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::Invalid(errors)
    }
}

impl From<chat_domain::credential::EntropyUnavailable> for AppError {
    fn from(error: chat_domain::credential::EntropyUnavailable) -> Self {
        AppError::Unexpected(error.into())
    }
}
