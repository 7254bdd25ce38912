//! The rows of `rooms`, and the domain's rooms made from them.

use chat_app::{RoomPatch, StoreError};
use chat_domain::{AccountId, Description, Room, RoomId, RoomMeta, RoomName, StorageKey};
use diesel::prelude::*;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::corrupt;
use crate::schema::rooms;

/// One row of `rooms`.
///
/// Also read by name, from the text statements of lists (see `list`).
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = rooms, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RoomRow {
    pub(super) id: i64,
    pub(super) uuid: Uuid,
    account_id: i64,
    pub(super) name: String,
    description: Option<String>,
    meta: Value,
    is_active: bool,
    member_count: i32,
    message_count: i64,
    last_message_at: OffsetDateTime,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    pub(super) avatar_key: Option<String>,
}

impl TryFrom<RoomRow> for Room {
    type Error = StoreError;

    fn try_from(row: RoomRow) -> Result<Self, StoreError> {
        let invalid = |e| corrupt("room", row.id, e);
        let meta = match row.meta {
            Value::Object(object) => RoomMeta::parse(object).map_err(invalid)?,
            other => {
                return Err(corrupt(
                    "room",
                    row.id,
                    format_args!("meta is not an object but {other}"),
                ));
            }
        };
        Ok(Room {
            id: RoomId(row.id),
            uuid: row.uuid,
            account_id: AccountId(row.account_id),
            name: RoomName::parse(&row.name).map_err(invalid)?,
            description: row
                .description
                .as_deref()
                .map(Description::parse)
                .transpose()
                .map_err(invalid)?,
            meta,
            is_active: row.is_active,
            avatar: row
                .avatar_key
                .as_deref()
                .map(StorageKey::parse)
                .transpose()
                .map_err(|e| corrupt("room", row.id, e))?,
            member_count: i64::from(row.member_count),
            message_count: row.message_count,
            last_message_at: row.last_message_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A new room. `last_message_at`, `created_at` and `updated_at` come from the same
/// `now()` defaults, so they are equal.
#[derive(Insertable)]
#[diesel(table_name = rooms)]
pub(super) struct NewRoomRow<'a> {
    pub(super) account_id: i64,
    pub(super) name: &'a str,
    pub(super) description: Option<&'a str>,
    pub(super) meta: Value,
    pub(super) member_count: i32,
    pub(super) avatar_key: Option<&'a str>,
}

/// The columns a [`RoomPatch`] may change; `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = rooms)]
pub(super) struct RoomChanges {
    name: Option<String>,
    /// `Some(None)` sets NULL.
    description: Option<Option<String>>,
    meta: Option<Value>,
    /// `Some(None)` sets NULL.
    avatar_key: Option<Option<String>>,
}

impl From<RoomPatch> for RoomChanges {
    fn from(patch: RoomPatch) -> Self {
        Self {
            name: patch.name.map(|name| name.as_str().to_owned()),
            description: patch
                .description
                .map(|description| description.map(|d| d.as_str().to_owned())),
            meta: patch.meta.map(|meta| Value::Object(meta.into_map())),
            avatar_key: patch
                .avatar
                .map(|avatar| avatar.map(|file| file.key.as_str().to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rooms_the_domain_rejects_are_unexpected() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let row = |name: &str, meta: Value| RoomRow {
            id: 7,
            uuid: Uuid::nil(),
            account_id: 1,
            name: name.to_owned(),
            description: None,
            meta,
            avatar_key: None,
            is_active: true,
            member_count: 0,
            message_count: 0,
            last_message_at: at,
            created_at: at,
            updated_at: at,
        };
        assert!(Room::try_from(row("General", serde_json::json!({ "a": 1 }))).is_ok());
        for bad in [
            row("General", serde_json::json!([1, 2])),
            row("General", Value::Null),
            row("General", serde_json::json!({ "max_participants": 0 })),
            row("   ", serde_json::json!({})),
        ] {
            let result = Room::try_from(bad);
            assert!(
                matches!(result, Err(StoreError::Unexpected(_))),
                "{result:?}"
            );
        }
    }
}
