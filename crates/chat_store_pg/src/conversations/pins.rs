//! Pins: `pinned_at` and who pinned (`pinned_by_user_id`, `pinned_by_label`) on the
//! message, and a room's pins by `messages_room_pinned_idx`.

use chat_app::{StoreError, Window};
use chat_domain::{AccountId, Message, MessageId, MessageRef, RoomId, UserId};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::Timestamptz;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::messages::load::{Wanted, first_message, load, to_messages};
use crate::messages::rows::{MessageRow, SYSTEM_LABEL};
use crate::schema::{messages, rooms};
use crate::translate;
use crate::users::chat_label;

/// [`chat_app::ConversationStore::set_pin`]: the change (only from one state to the
/// other) and the message as it is after, in one transaction.
pub(super) fn set_pin(
    conn: &mut PgConnection,
    account: AccountId,
    message: MessageId,
    pinned: bool,
    by: Option<UserId>,
) -> Result<(Message, bool), StoreError> {
    let (rows, changed) = conn
        .transaction(|conn| {
            let target = messages::table
                .filter(messages::account_id.eq(account.0))
                .filter(messages::id.eq(message.0))
                .filter(messages::deleted_at.is_null());
            let changed = if pinned {
                let (by_user, by_label) = match by {
                    Some(user) => (Some(user.0), chat_label(conn, account, user)?),
                    None => (None, SYSTEM_LABEL.to_owned()),
                };
                diesel::update(target.filter(messages::pinned_at.is_null()))
                    .set((
                        messages::pinned_at.eq(now.into_sql::<Timestamptz>().nullable()),
                        messages::pinned_by_user_id.eq(by_user),
                        messages::pinned_by_label.eq(Some(by_label)),
                    ))
                    .execute(conn)?
            } else {
                diesel::update(target.filter(messages::pinned_at.is_not_null()))
                    .set((
                        messages::pinned_at.eq(None::<OffsetDateTime>),
                        messages::pinned_by_user_id.eq(None::<i64>),
                        messages::pinned_by_label.eq(None::<String>),
                    ))
                    .execute(conn)?
            } > 0;
            let rows = load(conn, account, Wanted::One(MessageRef::Id(message)))?;
            Ok::<_, DieselError>((rows, changed))
        })
        .map_err(translate)?;
    let message = first_message(conn, account, rows)?;
    // A deleted message was left alone: it is not there to pin.
    if message.deleted_at.is_some() {
        return Err(StoreError::NotFound);
    }
    Ok((message, changed))
}

/// [`chat_app::ConversationStore::pins`]: one page of the room's pinned messages that are
/// not deleted, most recently pinned first, and their number, read in one snapshot.
pub(super) fn pins(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    window: Window,
) -> Result<(Vec<Message>, i64), StoreError> {
    let pinned = || {
        messages::table
            .filter(messages::account_id.eq(account.0))
            .filter(messages::room_id.eq(room.0))
            .filter(messages::pinned_at.is_not_null())
            .filter(messages::deleted_at.is_null())
    };
    let (room_uuid, rows, total) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            // NotFound when the account has no such room.
            let room_uuid: Uuid = rooms::table
                .filter(rooms::account_id.eq(account.0))
                .filter(rooms::id.eq(room.0))
                .select(rooms::uuid)
                .first(conn)?;
            let rows: Vec<MessageRow> = pinned()
                .order_by((messages::pinned_at.desc(), messages::id.desc()))
                .offset(window.offset)
                .limit(window.limit)
                .select(MessageRow::as_select())
                .load(conn)?;
            let total: i64 = pinned().count().get_result(conn)?;
            Ok::<_, DieselError>((room_uuid, rows, total))
        })
        .map_err(translate)?;
    let rows = rows.into_iter().map(|row| (row, room_uuid)).collect();
    Ok((to_messages(conn, account, rows)?, total))
}
