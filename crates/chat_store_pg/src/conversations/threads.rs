//! Threads: the replies to a message (`messages_room_reply_idx`), and who wrote them.
//! How many there are is kept on the parent (`reply_count`) by the statements that send,
//! delete and restore a reply, so it is read, never counted.

use chat_app::{StoreError, Window};
use chat_domain::{AccountId, Message, MessageId, Person, UserId};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Text};
use uuid::Uuid;

use crate::messages::load::to_messages;
use crate::messages::rows::MessageRow;
use crate::schema::{messages, rooms};
use crate::translate;

/// The parent's room, its room's UUID and its reply count; `NotFound` when the account
/// has no such message.
fn parent_of(
    conn: &mut PgConnection,
    account: AccountId,
    parent: MessageId,
) -> QueryResult<(i64, Uuid, i32)> {
    messages::table
        .inner_join(
            rooms::table.on(rooms::id
                .eq(messages::room_id)
                .and(rooms::account_id.eq(messages::account_id))),
        )
        .filter(messages::account_id.eq(account.0))
        .filter(messages::id.eq(parent.0))
        .select((messages::room_id, rooms::uuid, messages::reply_count))
        .first(conn)
}

/// [`chat_app::ConversationStore::thread`]: one page of the replies in seq order and
/// their number (the parent's `reply_count`), read in one snapshot.
pub(super) fn thread(
    conn: &mut PgConnection,
    account: AccountId,
    parent: MessageId,
    window: Window,
) -> Result<(Vec<Message>, i64), StoreError> {
    let (room_uuid, rows, total) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let (room, room_uuid, total) = parent_of(conn, account, parent)?;
            let rows: Vec<MessageRow> = messages::table
                .filter(messages::account_id.eq(account.0))
                .filter(messages::room_id.eq(room))
                .filter(messages::reply_to_id.eq(parent.0))
                .filter(messages::deleted_at.is_null())
                .order_by(messages::seq.asc())
                .offset(window.offset)
                .limit(window.limit)
                .select(MessageRow::as_select())
                .load(conn)?;
            Ok::<_, DieselError>((room_uuid, rows, i64::from(total)))
        })
        .map_err(translate)?;
    let rows = rows.into_iter().map(|row| (row, room_uuid)).collect();
    Ok((to_messages(conn, account, rows)?, total))
}

/// The users who replied (replies not deleted, system ones left out), each once with the
/// label of their first reply, in the order of their first reply.
const PARTICIPANTS: &str = "
SELECT c.sender_user_id AS user_id, (array_agg(c.sender_label ORDER BY c.seq))[1] AS label
  FROM messages AS c
 WHERE c.account_id = $1 AND c.room_id = $2 AND c.reply_to_id = $3
   AND c.deleted_at IS NULL AND c.sender_user_id IS NOT NULL
 GROUP BY c.sender_user_id
 ORDER BY min(c.seq)";

/// One participant, as [`PARTICIPANTS`] answers them.
#[derive(QueryableByName)]
struct ParticipantRow {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    label: String,
}

/// [`chat_app::ConversationStore::thread_participants`]; `NotFound` when the account has
/// no such message.
pub(super) fn participants(
    conn: &mut PgConnection,
    account: AccountId,
    parent: MessageId,
) -> Result<Vec<Person>, StoreError> {
    let rows = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let (room, _, _) = parent_of(conn, account, parent)?;
            diesel::sql_query(PARTICIPANTS)
                .bind::<BigInt, _>(account.0)
                .bind::<BigInt, _>(room)
                .bind::<BigInt, _>(parent.0)
                .load::<ParticipantRow>(conn)
        })
        .map_err(translate)?;
    Ok(rows
        .into_iter()
        .map(|row| Person {
            id: UserId(row.user_id),
            label: row.label,
        })
        .collect())
}
