//! Rooms: where conversations happen. One room is seen by both dialects — by its UUID
//! in the ChatAPI dialect and by its integer id in the account dialect.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::{AccountId, Description};
use crate::file::StorageKey;
pub use crate::ids::RoomId;
use crate::storable;
use crate::text::required_text;
use crate::validation::{FieldError, Problem};

/// How a caller names a room: each dialect by its own kind of id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomRef {
    /// By integer id: the account dialect.
    Id(RoomId),
    /// By UUID: the ChatAPI dialect.
    Uuid(Uuid),
}

/// A room's name: 1 to 255 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
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

/// Application data attached to a room: a JSON object of at most 16 KiB.
/// `max_participants`, when present, must be a positive integer: it caps the members.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomMeta(Map<String, Value>);

impl RoomMeta {
    /// The most bytes the object may take, serialised as compact JSON.
    pub const MAX_BYTES: usize = 16 * 1024;

    /// Keeps `object` if its compact JSON takes at most [`MAX_BYTES`](Self::MAX_BYTES)
    /// (else [`Problem::TooLarge`] on field `meta`) and its `max_participants`, unless
    /// absent or `null`, is an integer from 1 to 1,000,000 (else
    /// [`Problem::OutOfRange`] on field `meta.max_participants`), and the database can
    /// keep it ([`storable::json`], else that error on field `meta`).
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
        match object.get("max_participants") {
            None | Some(Value::Null) => {}
            Some(value) => {
                if !value.as_u64().is_some_and(|n| (1..=1_000_000).contains(&n)) {
                    return Err(FieldError::new(
                        "meta.max_participants",
                        Problem::OutOfRange {
                            min: 1,
                            max: 1_000_000,
                        },
                    ));
                }
            }
        }
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

    /// The cap on members, if the meta sets one.
    pub fn max_participants(&self) -> Option<u64> {
        self.0.get("max_participants").and_then(Value::as_u64)
    }
}

/// A room, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    /// Its integer id (the account dialect's `id`).
    pub id: RoomId,
    /// Its public id (the ChatAPI dialect's `id`).
    pub uuid: Uuid,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Its name.
    pub name: RoomName,
    /// What it is for, if anyone said.
    pub description: Option<Description>,
    /// The application's data about it; may cap its members.
    pub meta: RoomMeta,
    /// An inactive room refuses new messages and keeps everything it has.
    pub is_active: bool,
    /// Where its avatar image is stored, if it has one.
    pub avatar: Option<StorageKey>,
    /// How many users belong to it now.
    pub member_count: i64,
    /// How many messages it holds, deleted ones included.
    pub message_count: i64,
    /// The room's `created_at` until its first message.
    pub last_message_at: OffsetDateTime,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last changed (its `created_at` until then).
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn room_names_are_trimmed_and_bounded() {
        assert_eq!(
            RoomName::parse(" General ").map(|n| n.as_str().to_owned()),
            Ok("General".into())
        );
        assert_eq!(
            RoomName::parse(" "),
            Err(FieldError::new("name", Problem::Blank))
        );
        assert!(RoomName::parse(&"n".repeat(255)).is_ok());
        assert_eq!(
            RoomName::parse(&"n".repeat(256)),
            Err(FieldError::new("name", Problem::TooLong { max: 255 }))
        );
    }

    #[test]
    fn meta_is_bounded_to_16_kib() {
        let fits = object(json!({ "blob": "x".repeat(16 * 1024 - 20) }));
        assert!(RoomMeta::parse(fits).is_ok());
        let too_big = object(json!({ "blob": "x".repeat(16 * 1024) }));
        assert_eq!(
            RoomMeta::parse(too_big),
            Err(FieldError::new(
                "meta",
                Problem::TooLarge {
                    max_bytes: 16 * 1024
                }
            ))
        );
    }

    #[test]
    fn max_participants_must_be_a_positive_integer() {
        let meta = RoomMeta::parse(object(json!({ "max_participants": 50 })));
        assert_eq!(meta.map(|m| m.max_participants()), Ok(Some(50)));
        for bad in [
            json!(0),
            json!(-1),
            json!(2.5),
            json!("10"),
            json!(2_000_000),
        ] {
            let result = RoomMeta::parse(object(json!({ "max_participants": bad })));
            assert!(
                matches!(&result, Err(e) if e.field == "meta.max_participants"),
                "{bad}: {result:?}"
            );
        }
        assert_eq!(
            RoomMeta::parse(object(json!({ "category": "general" }))).map(|m| m.max_participants()),
            Ok(None)
        );
    }
}
