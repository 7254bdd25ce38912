//! A user is a person of one account: an administrator or an agent.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::account::AccountId;
pub use crate::ids::UserId;
use crate::storable;
use crate::text::required_text;
use crate::validation::{FieldError, Problem};

/// A person's display name: 1 to 255 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
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

/// An e-mail address, checked for shape only (one `@`, a dotted domain, no spaces).
/// Uniqueness inside an account is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The most characters an address may have, once trimmed (RFC 5321's limit).
    pub const MAX_CHARS: usize = 254;

    /// Trims `raw` and keeps it, case as given, if it is 1 to
    /// [`MAX_CHARS`](Self::MAX_CHARS) characters without whitespace or control
    /// characters, with one `@` after a non-empty local part and a domain of at least
    /// two non-empty dot-separated labels. Errors on field `email`:
    /// [`Problem::Blank`], [`Problem::TooLong`], [`Problem::InvalidCharacter`], or
    /// [`Problem::Invalid`] saying which rule failed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = required_text("email", raw, Self::MAX_CHARS)?;
        let invalid = |reason: &str| FieldError::new("email", Problem::Invalid(reason.to_owned()));
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(invalid("must contain @"));
        };
        if local.is_empty() || domain.contains('@') {
            return Err(invalid("must have exactly one @ after a local part"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|label| label.is_empty()) {
            return Err(invalid("must end in a dotted domain"));
        }
        Ok(Self(value))
    }

    /// The trimmed address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The integrator's own identifier for a user (the ChatAPI dialect's `user_id`):
/// 1 to 255 characters, no control characters, kept exactly as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// The most characters an external id may have.
    pub const MAX_CHARS: usize = 255;
    /// The ChatAPI `sender_id` of system messages: no user may have it.
    pub const SYSTEM: &'static str = "system";

    /// Keeps `raw` exactly as given if it is not blank, has at most
    /// [`MAX_CHARS`](Self::MAX_CHARS) characters, no control character, and is not
    /// [`SYSTEM`](Self::SYSTEM). Errors on field `external_id`: [`Problem::Blank`],
    /// [`Problem::TooLong`], or [`Problem::Invalid`] for the last two rules
    /// ([`Problem::InvalidCharacter`] for a NUL, which the database cannot store).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field("external_id", raw)
    }

    /// As [`ExternalId::parse`], reporting problems under `field` (the ChatAPI dialect
    /// calls it `user_id`).
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        storable::text(field, raw)?;
        if raw.trim().is_empty() {
            return Err(FieldError::new(field, Problem::Blank));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                Problem::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                Problem::Invalid("must not contain control characters".to_owned()),
            ));
        }
        if raw == Self::SYSTEM {
            return Err(FieldError::new(
                field,
                Problem::Invalid("`system` names the sender of system messages".to_owned()),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as the integrator gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a user may do in their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sees and manages every room of the account.
    Administrator,
    /// Sees the rooms it belongs to.
    Agent,
}

impl Role {
    /// Every wire name, in the order error messages list them.
    pub const ALL: &'static [&'static str] = &["administrator", "agent"];

    /// `administrator` or `agent`, exactly (case matters), else
    /// [`Problem::NotIncluded`] on field `role`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "administrator" => Ok(Role::Administrator),
            "agent" => Ok(Role::Agent),
            _ => Err(FieldError::new(
                "role",
                Problem::NotIncluded { allowed: Self::ALL },
            )),
        }
    }

    /// The wire name, which [`parse`](Self::parse) reads back.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Agent => "agent",
        }
    }
}

/// Whether a user is reachable, as shown to other users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    /// Reachable.
    Online,
    /// Not reachable.
    Offline,
    /// Reachable, but asking not to be disturbed.
    Busy,
}

impl Availability {
    /// Every wire name, in the order error messages list them.
    pub const ALL: &'static [&'static str] = &["online", "offline", "busy"];

    /// `online`, `offline` or `busy`, exactly (case matters), else
    /// [`Problem::NotIncluded`] on field `availability_status`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "online" => Ok(Availability::Online),
            "offline" => Ok(Availability::Offline),
            "busy" => Ok(Availability::Busy),
            _ => Err(FieldError::new(
                "availability_status",
                Problem::NotIncluded { allowed: Self::ALL },
            )),
        }
    }

    /// The wire name, which [`parse`](Self::parse) reads back.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Offline => "offline",
            Availability::Busy => "busy",
        }
    }
}

/// A person of one account, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its integer id.
    pub id: UserId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The integrator's own id for it, unique in the account, if one was given.
    pub external_id: Option<ExternalId>,
    /// Its display name.
    pub name: PersonName,
    /// Its e-mail address, unique in the account (ignoring case), if one was given.
    pub email: Option<Email>,
    /// What it may do.
    pub role: Role,
    /// What others see of its reachability.
    pub availability: Availability,
    /// Whether its e-mail address is confirmed. Always `true` today: there is no
    /// confirmation flow.
    pub confirmed: bool,
    /// An inactive user's credentials are refused and its open sockets closed; it
    /// keeps its rooms and messages and can be made active again.
    pub is_active: bool,
    /// The application's data about it (ChatAPI `meta`).
    pub meta: UserMeta,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last changed (its `created_at` until then).
    pub updated_at: OffsetDateTime,
}

/// Application data attached to a user: a JSON object of at most 16 KiB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserMeta(Map<String, Value>);

impl UserMeta {
    /// The most bytes the object may take, serialised as compact JSON.
    pub const MAX_BYTES: usize = 16 * 1024;

    /// Keeps `object` if its compact JSON takes at most [`MAX_BYTES`](Self::MAX_BYTES),
    /// else [`Problem::TooLarge`] on field `meta`, and the database can keep it
    /// ([`storable::json`]), else that error on field `meta`.
    pub fn parse(object: Map<String, Value>) -> Result<Self, FieldError> {
        let size = Value::Object(object.clone()).to_string().len();
        if size > Self::MAX_BYTES {
            return Err(FieldError::new(
                "meta",
                Problem::TooLarge {
                    max_bytes: Self::MAX_BYTES,
                },
            ));
        }
        storable::json("meta", &object)?;
        Ok(Self(object))
    }

    /// The object, to read or render.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The object itself, to store or render.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl User {
    /// The ChatAPI dialect's `user_id`: the external id, or the integer id as a string.
    pub fn chat_user_id(&self) -> String {
        match &self.external_id {
            Some(external) => external.as_str().to_owned(),
            None => self.id.0.to_string(),
        }
    }

    /// Whether its role is [`Role::Administrator`].
    pub fn is_administrator(&self) -> bool {
        self.role == Role::Administrator
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn user(external_id: Option<&str>) -> User {
        User {
            id: UserId(42),
            account_id: AccountId(1),
            external_id: external_id.and_then(|raw| ExternalId::parse(raw).ok()),
            name: PersonName::parse("Ada").unwrap_or_else(|e| panic!("{e}")),
            email: None,
            role: Role::Agent,
            availability: Availability::Offline,
            confirmed: true,
            is_active: true,
            meta: UserMeta::default(),
            created_at: datetime!(2024-01-01 0:00 UTC),
            updated_at: datetime!(2024-01-01 0:00 UTC),
        }
    }

    #[test]
    fn chat_user_id_prefers_the_external_id() {
        assert_eq!(user(Some("user_123")).chat_user_id(), "user_123");
        assert_eq!(user(None).chat_user_id(), "42");
    }

    #[test]
    fn valid_emails_are_accepted() {
        for raw in ["a@b.co", "john.doe+chat@example.com", " jane@example.org "] {
            assert!(Email::parse(raw).is_ok(), "{raw}");
        }
        assert_eq!(
            Email::parse(" jane@example.org ").map(|e| e.as_str().to_owned()),
            Ok("jane@example.org".to_owned())
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for raw in [
            "plain",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@.com",
        ] {
            let err = Email::parse(raw).err();
            assert!(
                matches!(
                    err,
                    Some(FieldError {
                        field: "email",
                        problem: Problem::Invalid(_)
                    })
                ),
                "{raw}: {err:?}"
            );
        }
        assert_eq!(
            Email::parse(" "),
            Err(FieldError::new("email", Problem::Blank))
        );
    }

    #[test]
    fn roles_parse_exactly() {
        assert_eq!(Role::parse("administrator"), Ok(Role::Administrator));
        assert_eq!(Role::parse("agent"), Ok(Role::Agent));
        for raw in ["Agent", "admin", ""] {
            assert!(Role::parse(raw).is_err(), "{raw}");
        }
        assert_eq!(Role::parse(Role::Agent.as_str()), Ok(Role::Agent));
    }

    #[test]
    fn availability_round_trips() {
        for raw in Availability::ALL {
            assert_eq!(Availability::parse(raw).map(Availability::as_str), Ok(*raw));
        }
        assert!(Availability::parse("away").is_err());
    }

    #[test]
    fn external_ids_are_kept_verbatim_but_bounded() {
        assert_eq!(
            ExternalId::parse("john.doe@example.com").map(|e| e.as_str().to_owned()),
            Ok("john.doe@example.com".to_owned())
        );
        assert_eq!(
            ExternalId::parse("  "),
            Err(FieldError::new("external_id", Problem::Blank))
        );
        assert!(ExternalId::parse(&"x".repeat(256)).is_err());
        assert!(ExternalId::parse("a\u{0}b").is_err());
        assert!(ExternalId::parse("system").is_err());
        assert!(ExternalId::parse("System").is_ok());
    }
}
