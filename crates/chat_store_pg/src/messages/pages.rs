//! Reading a room's history: filtered pages in seq order and their totals.

use chat_app::{MessageFilter, MessageOrder, StoreError};
use chat_domain::{AccountId, Message, Room, RoomId, RoomRef};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use uuid::Uuid;

use super::load::to_messages;
use super::rows::MessageRow;
use crate::rooms::RoomRow;
use crate::schema::{messages, rooms};
use crate::session::plan_for_values;
use crate::{contains_pattern, translate};

/// `query` restricted to the messages of the account's room that pass `filter` (not
/// sorted, not windowed). Generic over the selection, so the page and the count share
/// one definition.
fn filtered<'a, ST: 'a>(
    query: messages::BoxedQuery<'a, Pg, ST>,
    account: AccountId,
    room: RoomId,
    filter: &MessageFilter,
) -> messages::BoxedQuery<'a, Pg, ST> {
    let mut query = query
        .filter(messages::account_id.eq(account.0))
        .filter(messages::room_id.eq(room.0));
    if let Some(sender) = &filter.sender {
        // messages_room_sender_seq_idx.
        query = query.filter(messages::sender_label.eq(sender.clone()));
    }
    if let Some(kind) = filter.kind {
        // messages_room_type_seq_idx.
        query = query.filter(messages::message_type.eq(kind.as_str().to_owned()));
    }
    // messages_room_created_idx.
    if let Some(after) = filter.created_after {
        query = query.filter(messages::created_at.gt(after));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(messages::created_at.lt(before));
    }
    if let Some(search) = &filter.search {
        // messages_content_trgm_idx, for terms of three characters or more.
        query = query.filter(messages::content.ilike(contains_pattern(search)));
    }
    if !filter.include_deleted {
        query = query.filter(messages::deleted_at.is_null());
    }
    // Keyset cursors: a range of messages_room_seq_key.
    if let Some(after) = filter.after_seq {
        query = query.filter(messages::seq.gt(after.0));
    }
    if let Some(before) = filter.before_seq {
        query = query.filter(messages::seq.lt(before.0));
    }
    query
}

/// One page of the room's messages passing `filter`, in seq order: messages_room_seq_key
/// read forwards or backwards, so the newest 50 of a room read about 50 index entries.
fn page_query<'a>(
    account: AccountId,
    room: RoomId,
    filter: &MessageFilter,
) -> messages::BoxedQuery<'a, Pg, messages::SqlType> {
    let query = filtered(messages::table.into_boxed(), account, room, filter);
    let query = match filter.order {
        MessageOrder::NewestFirst => query.order_by(messages::seq.desc()),
        MessageOrder::OldestFirst => query.order_by(messages::seq.asc()),
    };
    query
        .offset(filter.window.offset)
        .limit(filter.window.limit)
}

/// The total of an unfiltered list, from the room's counters (seqs run 1..=last_seq
/// without gaps): O(1) however long the history. `None` when a filter needs counting rows.
pub(super) fn counted_total(
    filter: &MessageFilter,
    last_seq: i64,
    deleted_count: i64,
) -> Option<i64> {
    let unfiltered = filter.sender.is_none()
        && filter.kind.is_none()
        && filter.created_after.is_none()
        && filter.created_before.is_none()
        && filter.search.is_none()
        && filter.after_seq.is_none()
        && filter.before_seq.is_none();
    match (unfiltered, filter.include_deleted) {
        (false, _) => None,
        (true, true) => Some(last_seq),
        (true, false) => Some(last_seq - deleted_count),
    }
}

/// [`chat_app::MessageStore::list_messages`]: the page and its total, read in one
/// snapshot.
pub(super) fn list(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    filter: &MessageFilter,
) -> Result<(Vec<Message>, i64), StoreError> {
    // One snapshot for all three, so the total agrees with the page.
    let (room_uuid, rows, total) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            if filter.search.is_some() {
                // Whether the trigram index helps depends on the pattern.
                plan_for_values(conn)?;
            }
            // NotFound when the account has no such room.
            let (room_uuid, last_seq, deleted_count): (Uuid, i64, i64) = rooms::table
                .filter(rooms::account_id.eq(account.0))
                .filter(rooms::id.eq(room.0))
                .select((rooms::uuid, rooms::last_seq, rooms::deleted_message_count))
                .first(conn)?;
            let rows: Vec<MessageRow> = page_query(account, room, filter)
                .select(MessageRow::as_select())
                .load(conn)?;
            let total = match counted_total(filter, last_seq, deleted_count) {
                Some(total) => total,
                None => filtered(messages::table.into_boxed(), account, room, filter)
                    .count()
                    .get_result::<i64>(conn)?,
            };
            Ok::<_, DieselError>((room_uuid, rows, total))
        })
        .map_err(translate)?;
    let rows = rows.into_iter().map(|row| (row, room_uuid)).collect();
    let messages = to_messages(conn, account, rows)?;
    Ok((messages, total))
}

/// [`chat_app::MessageStore::room_page`] for an unfiltered `filter` (its total comes
/// from the counters): the room, then its page.
pub(super) fn unfiltered_room_page(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
    filter: &MessageFilter,
) -> Result<(Room, Vec<Message>, i64), StoreError> {
    // The room with its counters, then the page by the room's id: two statements on one
    // connection. Joining the page to its room in one statement looked cheaper, but the
    // planner, unable to estimate a room's size there, read the room's whole history and
    // sorted it (docs/benchmarks/findings.md); by a known room id it reads
    // messages_room_seq_key backwards and stops after the page. The total comes from the
    // counters read first (not one snapshot: a message sent in between may show in the
    // page before it counts).
    let query = rooms::table
        .filter(rooms::account_id.eq(account.0))
        .into_boxed();
    let query = match room {
        RoomRef::Id(id) => query.filter(rooms::id.eq(id.0)),
        RoomRef::Uuid(uuid) => query.filter(rooms::uuid.eq(uuid)),
    };
    let (room_row, last_seq, deleted) = query
        .select((
            RoomRow::as_select(),
            rooms::last_seq,
            rooms::deleted_message_count,
        ))
        .first::<(RoomRow, i64, i64)>(conn)
        .map_err(translate)?;
    let found = Room::try_from(room_row)?;
    let rows: Vec<MessageRow> = page_query(account, found.id, filter)
        .select(MessageRow::as_select())
        .load(conn)
        .map_err(translate)?;
    let total = counted_total(filter, last_seq, deleted).unwrap_or(0);
    let paged = rows.into_iter().map(|row| (row, found.uuid)).collect();
    let messages = to_messages(conn, account, paged)?;
    Ok((found, messages, total))
}
