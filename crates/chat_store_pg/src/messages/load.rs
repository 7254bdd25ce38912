//! Reading given messages back (by id, UUID or echo id), with their rooms' UUIDs and
//! their attachments: what every other part of the module answers with.

use chat_app::StoreError;
use chat_domain::{AccountId, Message, MessageRef, RoomId};
use diesel::prelude::*;
use uuid::Uuid;

use super::rows::{MessageRow, StoredMessage};
use crate::attachments;
use crate::schema::{messages, rooms};

/// Which of the account's messages to read.
pub(crate) enum Wanted<'a> {
    One(MessageRef),
    Ids(&'a [i64]),
    /// The message a sender sent with this echo id in the room.
    Echo {
        room: RoomId,
        sender_label: &'a str,
        echo_id: &'a str,
    },
}

/// The account's messages that `wanted` names, each with its room's UUID, in no
/// particular order.
pub(crate) fn load(
    conn: &mut PgConnection,
    account: AccountId,
    wanted: Wanted<'_>,
) -> QueryResult<Vec<(MessageRow, Uuid)>> {
    let query = messages::table
        .inner_join(
            rooms::table.on(rooms::id
                .eq(messages::room_id)
                .and(rooms::account_id.eq(messages::account_id))),
        )
        .filter(messages::account_id.eq(account.0))
        .select((MessageRow::as_select(), rooms::uuid))
        .into_boxed();
    let query = match wanted {
        // The primary key, the UUID's unique index, `id = ANY($ids)` on the primary key.
        Wanted::One(MessageRef::Id(id)) => query.filter(messages::id.eq(id.0)),
        Wanted::One(MessageRef::Uuid(uuid)) => query.filter(messages::uuid.eq(uuid)),
        Wanted::Ids(ids) => query.filter(messages::id.eq_any(ids)),
        // messages_echo_key.
        Wanted::Echo {
            room,
            sender_label,
            echo_id,
        } => query
            .filter(messages::room_id.eq(room.0))
            .filter(messages::sender_label.eq(sender_label))
            .filter(messages::echo_id.eq(echo_id)),
    };
    query.load(conn)
}

/// The messages of `rows`, each with its room's UUID and its attachments (read in one
/// more query, only when one of them has some).
pub(crate) fn to_messages(
    conn: &mut PgConnection,
    account: AccountId,
    rows: Vec<(MessageRow, Uuid)>,
) -> Result<Vec<Message>, StoreError> {
    let with_files: Vec<i64> = rows
        .iter()
        .filter(|(row, _)| row.attachment_count > 0)
        .map(|(row, _)| row.id)
        .collect();
    let mut files = attachments::of_messages(conn, account, &with_files)?;
    rows.into_iter()
        .map(|(row, room_uuid)| {
            Message::try_from(StoredMessage {
                attachments: files.remove(&row.id).unwrap_or_default(),
                row,
                room_uuid,
            })
        })
        .collect()
}

/// The one message of `rows`; `NotFound` when there is none.
pub(crate) fn first_message(
    conn: &mut PgConnection,
    account: AccountId,
    rows: Vec<(MessageRow, Uuid)>,
) -> Result<Message, StoreError> {
    to_messages(conn, account, rows)?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}
