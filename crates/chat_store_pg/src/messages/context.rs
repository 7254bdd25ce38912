//! What a send reads before it stores anything ([`chat_app::SendContext`]): the room,
//! the speaker and whether they belong to it, the message replied to: two statements
//! (the room; the user with their membership), a third for a reply.

use chat_app::{SendContext, Speaker, StoreError};
use chat_domain::{AccountId, MessageId, MessageRef, RoomId, RoomRef, User};
use diesel::prelude::*;

use super::load::{Wanted, load};
use crate::rooms;
use crate::schema::{room_members, users};
use crate::translate;
use crate::users::{UserRow, named_by_chat_id};

/// The room `room` names (`NotFound` when the account has none), the user `speaker`
/// names with whether they are a member of it (the membership read with the user), and
/// the id and room of the message `reply_to` names.
pub(super) fn send_context(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
    speaker: Option<Speaker>,
    reply_to: Option<MessageRef>,
) -> Result<SendContext, StoreError> {
    let room = rooms::find(conn, account, room)?;
    // Whether the user is a member of the room, as a column of the user's row.
    let member = users::id.eq_any(
        room_members::table
            .filter(room_members::account_id.eq(account.0))
            .filter(room_members::room_id.eq(room.id.0))
            .select(room_members::user_id),
    );
    let found: Option<(UserRow, bool)> = match speaker {
        None => None,
        Some(Speaker::Id(id)) => users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::id.eq(id.0))
            .filter(users::deleted_at.is_null())
            .select((UserRow::as_select(), member))
            .first(conn)
            .optional()
            .map_err(translate)?,
        Some(Speaker::ChatId(chat_id)) => named_by_chat_id(account, &chat_id)
            .select((UserRow::as_select(), member))
            .first(conn)
            .optional()
            .map_err(translate)?,
    };
    let speaker = found
        .map(|(row, member)| User::try_from(row).map(|user| (user, member)))
        .transpose()?;
    let replied = match reply_to {
        None => None,
        Some(reference) => load(conn, account, Wanted::One(reference))
            .map_err(translate)?
            .into_iter()
            .next()
            .map(|(row, _)| (MessageId(row.id), RoomId(row.room_id))),
    };
    Ok(SendContext {
        room,
        speaker,
        replied,
    })
}
