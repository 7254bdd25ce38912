//! The store's own work for one request, on a connection of the caller's, for the limits
//! of `make bench` (docs/benchmarks/README.md): what the server's ports run, statement for
//! statement and prepared alike, without the pool, the blocking task or the use case
//! around it. Not for serving: the server goes through the ports.

use chat_app::{MessageFilter, NewMessage, SendContext, Speaker, StoreError};
use chat_domain::{AccountId, Message, MessageRef, Room, RoomId, RoomRef};
use diesel::PgConnection;

/// Sets `conn` up as the server's pooled connections are (generic plans: see
/// docs/decisions.md, "Generic plans"), so the statements below are planned as the
/// server's are.
pub fn configure(conn: &mut PgConnection) -> Result<(), StoreError> {
    crate::session::configure(conn).map_err(crate::translate)
}

/// What [`chat_app::MessageStore::send`] reads before the use case's rules run: the room,
/// the speaker with their membership, and the message replied to.
pub fn send_context(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
    speaker: Option<Speaker>,
    reply_to: Option<MessageRef>,
) -> Result<SendContext, StoreError> {
    crate::messages::context::send_context(conn, account, room, speaker, reply_to)
}

/// What [`chat_app::MessageStore::send`] runs to store a send once its rules allowed it:
/// the message stored now (`true`), or the one its echo id names (`false`).
pub fn append(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    new: NewMessage,
) -> Result<(Message, bool), StoreError> {
    crate::messages::append_on(conn, account, room, new)
}

/// What [`chat_app::MessageStore::room_page`] runs for an unfiltered page (the newest
/// messages, or a keyset page): the room, the page and the total. A filtered page is refused
/// (`Unexpected`): its reading takes more than one statement set and is no limit.
pub fn room_page(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
    filter: &MessageFilter,
) -> Result<(Room, Vec<Message>, i64), StoreError> {
    crate::messages::unfiltered_room_page_on(conn, account, room, filter)
}

/// Rebuilds the reaction summaries (`messages.reactions`) of the room's messages from their
/// `message_reactions` rows, as a reaction added through the port does for its message: for
/// reactions seeded in bulk. Answers the messages rebuilt.
pub fn rebuild_reactions(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
) -> Result<usize, StoreError> {
    crate::conversations::rebuild_room_reactions(conn, account, room).map_err(crate::translate)
}
