//! Membership: who belongs to a room. The ChatAPI dialect calls members *participants*.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::storable;
use crate::user::User;
use crate::validation::{FieldError, Problem};

/// Application data attached to a membership: a JSON object of at most 16 KiB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberMeta(Map<String, Value>);

impl MemberMeta {
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

/// A user's place in a room.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    /// The member.
    pub user: User,
    /// When they joined the room.
    pub joined_at: OffsetDateTime,
    /// The application's data about this member in this room.
    pub meta: MemberMeta,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_meta_is_bounded_to_16_kib() {
        let object = |value: Value| match value {
            Value::Object(map) => map,
            other => panic!("{other}"),
        };
        assert!(MemberMeta::parse(object(json!({ "role": "member" }))).is_ok());
        assert_eq!(
            MemberMeta::parse(object(json!({ "blob": "x".repeat(16 * 1024) }))),
            Err(FieldError::new(
                "meta",
                Problem::TooLarge {
                    max_bytes: 16 * 1024
                }
            ))
        );
    }
}
