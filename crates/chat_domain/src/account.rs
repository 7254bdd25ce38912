//! An account is the tenant: every room, user and message belongs to exactly one.
//! The ChatAPI dialect calls the same row a *client* and names it by its UUID.

use time::OffsetDateTime;
use uuid::Uuid;

pub use crate::ids::AccountId;
use crate::storable;
use crate::text::required_text;
use crate::validation::{FieldError, Problem};

/// An account's display name: 1 to 255 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName(String);

impl AccountName {
    /// The most characters a name may have, once trimmed.
    pub const MAX_CHARS: usize = 255;

    /// Trims `raw` and keeps it if 1 to [`MAX_CHARS`](Self::MAX_CHARS) characters
    /// remain. Errors on field `name`: [`Problem::Blank`] when nothing but whitespace
    /// is left, [`Problem::TooLong`] past the maximum, [`Problem::InvalidCharacter`]
    /// for a NUL.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        required_text("name", raw, Self::MAX_CHARS).map(Self)
    }

    /// The trimmed name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-text description: up to 10,000 characters. Kept as given (not trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// The most characters a description may have.
    pub const MAX_CHARS: usize = 10_000;

    /// Keeps `raw` exactly as given (empty included) if it has at most
    /// [`MAX_CHARS`](Self::MAX_CHARS) characters, else [`Problem::TooLong`] on field
    /// `description`; [`Problem::InvalidCharacter`] if it holds a NUL.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        storable::text("description", raw)?;
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "description",
                Problem::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The description as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Optional product features, switched per account by the platform operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// The account dialect's chat rooms (`/api/v1/accounts/{id}/chat_rooms`).
    pub chat_rooms: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self { chat_rooms: true }
    }
}

/// A tenant, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its integer id, the account dialect's `account_id`.
    pub id: AccountId,
    /// The ChatAPI dialect's `client_id`.
    pub uuid: Uuid,
    /// Its display name.
    pub name: AccountName,
    /// What the operator wrote about it, if anything.
    pub description: Option<Description>,
    /// An inactive account's credentials are refused everywhere.
    pub is_active: bool,
    /// The optional features switched on for it.
    pub features: Features,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last changed (its `created_at` until then).
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_name_is_trimmed() {
        let name = AccountName::parse("  Acme  ").map(|n| n.as_str().to_owned());
        assert_eq!(name, Ok("Acme".to_owned()));
    }

    #[test]
    fn blank_account_name_is_rejected() {
        for raw in ["", "   ", "\n\t"] {
            assert_eq!(
                AccountName::parse(raw),
                Err(FieldError::new("name", Problem::Blank)),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn account_name_counts_characters_not_bytes() {
        assert!(AccountName::parse(&"é".repeat(255)).is_ok());
        assert_eq!(
            AccountName::parse(&"é".repeat(256)),
            Err(FieldError::new("name", Problem::TooLong { max: 255 }))
        );
    }

    #[test]
    fn description_has_an_upper_bound_only() {
        assert!(Description::parse("").is_ok());
        assert!(Description::parse(&"x".repeat(10_000)).is_ok());
        assert_eq!(
            Description::parse(&"x".repeat(10_001)),
            Err(FieldError::new(
                "description",
                Problem::TooLong { max: 10_000 }
            ))
        );
    }
}
