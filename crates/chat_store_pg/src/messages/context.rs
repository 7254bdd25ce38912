//! What a send reads before it stores anything ([`chat_app::MessageStore::send_context`]):
//! the room, the speaker and whether they belong to it, on one connection in one blocking
//! task (one hop, where the room, the user and the membership were three).

use chat_app::{SendContext, Speaker, StoreError};
use chat_domain::{AccountId, RoomRef};
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::rooms;
use crate::schema::room_members;
use crate::translate;
use crate::users::{user_by_chat_id, user_by_id};

/// The room `room` names (`NotFound` when the account has none), and the user `speaker`
/// names with whether they are a member of it.
pub(super) fn send_context(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
    speaker: Option<Speaker>,
) -> Result<SendContext, StoreError> {
    let room = rooms::find(conn, account, room)?;
    let user = match speaker {
        None => None,
        Some(Speaker::Id(id)) => user_by_id(conn, account, id)?,
        Some(Speaker::ChatId(chat_id)) => user_by_chat_id(conn, account, &chat_id)?,
    };
    let speaker = match user {
        None => None,
        Some(user) => {
            let member: bool = diesel::select(exists(
                room_members::table
                    .filter(room_members::account_id.eq(account.0))
                    .filter(room_members::room_id.eq(room.id.0))
                    .filter(room_members::user_id.eq(user.id.0)),
            ))
            .get_result(conn)
            .map_err(translate)?;
            Some((user, member))
        }
    };
    Ok(SendContext { room, speaker })
}
