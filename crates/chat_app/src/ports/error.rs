//! How a storage adapter reports failure, and what that means to a use case.

use chat_domain::{FieldError, Problem};

use crate::error::{AppError, Conflict, Resource};

/// How a storage adapter reports failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record addressed does not exist (in that account).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; names the input field that collided.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A capacity rule (a room's `max_participants`) would be broken; nothing changed.
    #[error("limit reached")]
    LimitReached,
    /// The database could not be reached or did not answer in time.
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else; the use case reports it as unexpected.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl StoreError {
    /// The use-case error for this failure, where `NotFound` means `resource` is missing.
    pub fn into_app(self, resource: Resource) -> AppError {
        match self {
            StoreError::NotFound => AppError::NotFound(resource),
            StoreError::Duplicate(field) => FieldError::new(field, Problem::Taken).into(),
            StoreError::LimitReached => AppError::Conflict(Conflict::RoomFull),
            StoreError::Unavailable(e) => AppError::Unavailable(e),
            StoreError::Unexpected(e) => AppError::Unexpected(e),
        }
    }
}
