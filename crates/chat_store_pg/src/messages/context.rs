//! What a send reads before it stores anything ([`chat_app::SendContext`]): the room,
//! the speaker and whether they belong to it, the message replied to: one statement (the
//! room, the user and their membership), a second for a reply.

use chat_app::{SendContext, Speaker, StoreError};
use chat_domain::{AccountId, MessageId, MessageRef, Room, RoomId, RoomRef, User};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::load::{Wanted, load};
use crate::rooms::{self, RoomRow};
use crate::schema::{room_members, rooms as rooms_table, users};
use crate::translate;
use crate::users::{UserRow, canonical_id};

/// The room `room` names (`NotFound` when the account has none), the user `speaker`
/// names with whether they are a member of it (the membership read with the user), and
/// the id and room of the message `reply_to` names.
pub(crate) fn send_context(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
    speaker: Option<Speaker>,
    reply_to: Option<MessageRef>,
) -> Result<SendContext, StoreError> {
    let (room, found) = match speaker {
        None => (rooms::find(conn, account, room)?, None),
        Some(speaker) => {
            let (room, found) = room_and_speaker(conn, account, room, speaker)?;
            (Room::try_from(room)?, found)
        }
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

/// The room and, in the same statement, the user `speaker` names with whether they belong
/// to it: the room by its key, the user by theirs (a user's id; or a ChatAPI user id, as
/// [`crate::users::named_by_chat_id`] reads it: the external id, else the id it spells of a user without
/// one), the membership by its primary key. Left joins: a user not found, or not a member,
/// still finds the room.
fn room_and_speaker(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
    speaker: Speaker,
) -> Result<(RoomRow, Option<(UserRow, bool)>), StoreError> {
    // (external id, id, whether the id alone names them).
    let (external, id, by_id) = match speaker {
        Speaker::Id(id) => (None, Some(id.0), true),
        Speaker::ChatId(chat_id) => {
            let id = canonical_id(&chat_id);
            (Some(chat_id), id, false)
        }
    };
    let named = users::external_id.eq(external).or(users::id
        .nullable()
        .eq(id)
        .and(by_id.into_sql::<Bool>().or(users::external_id.is_null())));
    // One statement text per kind of room key, each prepared once per connection (a boxed
    // query would be planned again on every send).
    macro_rules! read {
        ($room:expr) => {
            rooms_table::table
                .left_join(
                    users::table.on(users::account_id
                        .eq(rooms_table::account_id)
                        .and(users::deleted_at.is_null())
                        .and(named)),
                )
                .left_join(
                    room_members::table.on(room_members::account_id
                        .eq(rooms_table::account_id)
                        .and(room_members::room_id.eq(rooms_table::id))
                        .and(room_members::user_id.eq(users::id))),
                )
                .filter(rooms_table::account_id.eq(account.0))
                .filter($room)
                .select((
                    RoomRow::as_select(),
                    Option::<UserRow>::as_select(),
                    room_members::user_id.nullable().is_not_null(),
                ))
                // A user whose external id is the one given comes before one whose id it
                // spells.
                .order(users::external_id.is_null())
                .first::<(RoomRow, Option<UserRow>, bool)>(conn)
        };
    }
    let (room, user, member) = match room {
        RoomRef::Id(id) => read!(rooms_table::id.eq(id.0)),
        RoomRef::Uuid(uuid) => read!(rooms_table::uuid.eq(uuid)),
    }
    .map_err(translate)?;
    Ok((room, user.map(|user| (user, member))))
}
