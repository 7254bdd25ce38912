//! Changing a stored message: editing it, deleting and restoring it (and removing the
//! rows of its files).

use chat_app::StoreError;
use chat_domain::{
    AccountId, Content, Message, MessageId, MessageMeta, MessageRef, RoomId, StorageKey, UserId,
    WebhookEvent,
};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Timestamptz};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::load::{Wanted, first_message, load};
use super::rows::{MessageRow, SYSTEM_LABEL};
use crate::schema::{messages, rooms};
use crate::users::chat_label;
use crate::webhooks::record::{EventMessage, Recorded, record_event};
use crate::{attachments, corrupt, translate};

/// The columns an edit may change; `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = messages)]
struct MessageChanges {
    content: Option<String>,
    meta: Option<Value>,
}

/// The message just updated (`changed` rows), read again inside the same transaction;
/// `NotFound` when the update matched nothing.
fn reread(
    conn: &mut PgConnection,
    account: AccountId,
    message: MessageId,
    changed: usize,
) -> QueryResult<Vec<(MessageRow, Uuid)>> {
    if changed == 0 {
        return Err(DieselError::NotFound);
    }
    load(conn, account, Wanted::One(MessageRef::Id(message)))
}

/// Records `event` about the message read back in `rows` (inside the change's
/// transaction).
fn record(
    conn: &mut PgConnection,
    account: AccountId,
    event: &str,
    rows: &[(MessageRow, Uuid)],
) -> QueryResult<()> {
    if let Some((row, room_uuid)) = rows.first() {
        record_event(
            conn,
            &Recorded {
                room_uuid: Some(*room_uuid),
                message: EventMessage::Id(row.id),
                ..Recorded::of_room(account, event, RoomId(row.room_id))
            },
        )?;
    }
    Ok(())
}

/// [`chat_app::MessageStore::edit_message`]: the change and the message as it is after,
/// in one transaction.
pub(super) fn edit(
    conn: &mut PgConnection,
    account: AccountId,
    message: MessageId,
    content: Option<Content>,
    meta: Option<MessageMeta>,
) -> Result<Message, StoreError> {
    let changes = MessageChanges {
        content: content.map(|content| content.as_str().to_owned()),
        meta: meta.map(|meta| Value::Object(meta.into_map())),
    };
    let rows = conn
        .transaction(|conn| {
            let changed = diesel::update(
                messages::table
                    .filter(messages::account_id.eq(account.0))
                    .filter(messages::id.eq(message.0)),
            )
            .set((
                changes,
                messages::edited_at.eq(now.into_sql::<Timestamptz>().nullable()),
                messages::updated_at.eq(now),
            ))
            .execute(conn)?;
            let rows = reread(conn, account, message, changed)?;
            record(conn, account, WebhookEvent::MessageUpdated.as_str(), &rows)?;
            Ok(rows)
        })
        .map_err(translate)?;
    first_message(conn, account, rows)
}

/// Keeps a parent's thread summary after one of its replies was deleted or restored:
/// counted again from the replies (the `messages_room_reply_idx` range of the parent),
/// inside the change's transaction.
const RECOUNT_REPLIES: &str = "
UPDATE messages AS p
   SET reply_count = t.n, last_reply_at = t.newest
  FROM (SELECT count(*)::integer AS n, max(c.created_at) AS newest
          FROM messages AS c
         WHERE c.room_id = $2 AND c.reply_to_id = $3 AND c.deleted_at IS NULL) AS t
 WHERE p.account_id = $1 AND p.room_id = $2 AND p.id = $3";

/// [`chat_app::MessageStore::set_message_deleted`]: the change (and who made it), the
/// room's count of deleted messages, the attachments, the parent's thread summary and the
/// message as it is after, in one transaction. Only a change of state moves the counts.
///
/// The room row is locked first, as a send locks it before the parent of a reply: a
/// delete of a parent and a send of a reply to it take their locks in the same order.
pub(super) fn set_deleted(
    conn: &mut PgConnection,
    account: AccountId,
    message: MessageId,
    deleted: bool,
    by: Option<UserId>,
) -> Result<(Message, Vec<StorageKey>), StoreError> {
    let (rows, removed) = conn
        .transaction(|conn| {
            let target = messages::table
                .filter(messages::account_id.eq(account.0))
                .filter(messages::id.eq(message.0));
            // NotFound when the account has no such message (in either state).
            let room: i64 = target.select(messages::room_id).first(conn)?;
            rooms::table
                .filter(rooms::account_id.eq(account.0))
                .filter(rooms::id.eq(room))
                .select(rooms::id)
                .for_no_key_update()
                .first::<i64>(conn)?;
            let (changed_in, delta): (Vec<(i64, Option<i64>)>, i64) = if deleted {
                let (by_user, by_label) = match by {
                    Some(user) => (Some(user.0), chat_label(conn, account, user)?),
                    None => (None, SYSTEM_LABEL.to_owned()),
                };
                let rooms = diesel::update(target.filter(messages::deleted_at.is_null()))
                    .set((
                        messages::deleted_at.eq(now.into_sql::<Timestamptz>().nullable()),
                        messages::updated_at.eq(now),
                        messages::deleted_by_user_id.eq(by_user),
                        messages::deleted_by_label.eq(Some(by_label)),
                    ))
                    .returning((messages::room_id, messages::reply_to_id))
                    .get_results(conn)?;
                (rooms, 1)
            } else {
                let rooms = diesel::update(target.filter(messages::deleted_at.is_not_null()))
                    .set((
                        messages::deleted_at.eq(None::<OffsetDateTime>),
                        messages::updated_at.eq(now),
                        messages::deleted_by_user_id.eq(None::<i64>),
                        messages::deleted_by_label.eq(None::<String>),
                    ))
                    .returning((messages::room_id, messages::reply_to_id))
                    .get_results(conn)?;
                (rooms, -1)
            };
            if let Some((room, parent)) = changed_in.first() {
                diesel::update(
                    rooms::table
                        .filter(rooms::account_id.eq(account.0))
                        .filter(rooms::id.eq(room)),
                )
                .set(rooms::deleted_message_count.eq(rooms::deleted_message_count + delta))
                .execute(conn)?;
                if let Some(parent) = parent {
                    diesel::sql_query(RECOUNT_REPLIES)
                        .bind::<BigInt, _>(account.0)
                        .bind::<BigInt, _>(room)
                        .bind::<BigInt, _>(parent)
                        .execute(conn)?;
                }
            }
            // A deleted message's files go for good.
            let removed = if deleted && !changed_in.is_empty() {
                let keys = attachments::delete_of_message(conn, account, message)?;
                if !keys.is_empty() {
                    diesel::update(
                        messages::table
                            .filter(messages::account_id.eq(account.0))
                            .filter(messages::id.eq(message.0)),
                    )
                    .set(messages::attachment_count.eq(0))
                    .execute(conn)?;
                }
                keys
            } else {
                Vec::new()
            };
            let rows = load(conn, account, Wanted::One(MessageRef::Id(message)))?;
            // Only a change of state is an event.
            if !changed_in.is_empty() {
                let event = if deleted {
                    WebhookEvent::MessageDeleted.as_str()
                } else {
                    WebhookEvent::MessageRestored.as_str()
                };
                record(conn, account, event, &rows)?;
            }
            Ok::<_, DieselError>((rows, removed))
        })
        .map_err(translate)?;
    let removed = removed
        .iter()
        .map(|key| StorageKey::parse(key).map_err(|e| corrupt("attachment", key, e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((first_message(conn, account, rows)?, removed))
}
