//! Group commit's statement: plain sends that arrived together, stored by ONE statement in
//! one transaction ([`APPEND_ALL`]), each as [`super::append`]'s statement would store it
//! alone. What a plain send is: [`is_plain`].

use std::collections::HashMap;
use std::sync::LazyLock;

use chat_app::NewMessage;
use chat_domain::{AccountId, RoomId};
use diesel::pg::Pg;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::rows::{MessageRow, message_columns};
use crate::prepared::Binds;

/// The most sends one statement stores.
pub(crate) const MAX_BATCH: usize = 64;

/// Whether `new` is stored by [`APPEND_ALL`] like by the statement of one send: no
/// files, no mentions and no reply (those take steps of their own, see
/// [`super::append`]). An echo id may come: a send that repeats one already stored fails
/// the batch on `messages_echo_key`, and the sends are then stored one by one, where the
/// repeat answers the first message.
pub(crate) fn is_plain(new: &NewMessage) -> bool {
    new.attachments.is_empty() && new.mentions.is_empty() && new.reply_to.is_none()
}

/// Plain sends, one per element of the arrays (`$1`–`$9`, in arrival order), stored in
/// ONE statement: each room named takes as many seqs as it has sends here, in one
/// `UPDATE` (so the sends of one room take one turn at its row lock, not one each),
/// handed out in arrival order; each message is stored at the time its room's lock was
/// taken; each user sender has read up to their newest message here. The rooms are locked
/// in id order. A send to a room its account does not have stores nothing and answers no
/// row (the caller answers `NotFound` for it); any failure stores nothing at all.
///
/// Search and webhooks as in the statement of one send ([`super::append`]): the
/// language of `meta.language`, else of the room's, else English; an event
/// `message.created` and its deliveries for each message whose room an active webhook
/// subscribes to.
static APPEND_ALL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
WITH b AS (
    SELECT *
      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                  $6::text[], $7::text[], $8::jsonb[], $9::text[])
           WITH ORDINALITY AS b(account_id, room_id, sender_user_id, sender_label,
                                sender_name, content, message_type, meta, echo_id, ord)
), k AS (
    SELECT account_id, room_id, count(*) AS n FROM b GROUP BY account_id, room_id
), l AS (
    SELECT rooms.id FROM rooms JOIN k ON rooms.account_id = k.account_id AND rooms.id = k.room_id
     ORDER BY rooms.id
       FOR NO KEY UPDATE OF rooms
), r AS (
    UPDATE rooms
       SET last_seq = rooms.last_seq + k.n,
           message_count = rooms.message_count + k.n,
           last_message_at = GREATEST(rooms.last_message_at, clock_timestamp())
      FROM k, (SELECT count(*) FROM l) AS locked
     WHERE rooms.account_id = k.account_id AND rooms.id = k.room_id
 RETURNING rooms.id, rooms.account_id, rooms.uuid, rooms.meta, rooms.last_seq,
           rooms.last_message_at, k.n
), s AS (
    SELECT b.*, r.last_seq - r.n + row_number() OVER (PARTITION BY b.room_id ORDER BY b.ord)
               AS seq,
           r.last_message_at, r.meta AS room_meta
      FROM b JOIN r ON r.id = b.room_id AND r.account_id = b.account_id
), m AS (
    INSERT INTO messages (account_id, room_id, seq, sender_user_id, sender_label, sender_name,
                          content, message_type, meta, echo_id, created_at, updated_at,
                          search_config)
    SELECT s.account_id, s.room_id, s.seq, s.sender_user_id, s.sender_label, s.sender_name,
           s.content, s.message_type, s.meta, s.echo_id, s.last_message_at, s.last_message_at,
           COALESCE(chat_search_config(s.meta ->> 'language'),
                    chat_search_config(s.room_meta ->> 'language'), 'english')
      FROM s
     ORDER BY s.ord
 RETURNING {returning}
), u AS (
    UPDATE room_members AS rm
       SET last_read_seq = GREATEST(rm.last_read_seq, x.seq),
           delivered_seq = GREATEST(rm.delivered_seq, x.seq),
           unread_mentions = 0
      FROM (SELECT account_id, room_id, sender_user_id, max(seq) AS seq FROM m
             WHERE sender_user_id IS NOT NULL
             GROUP BY account_id, room_id, sender_user_id) AS x
     WHERE rm.account_id = x.account_id AND rm.room_id = x.room_id
       AND rm.user_id = x.sender_user_id
), wh AS (
    SELECT w.id, w.account_id, r.id AS room_id,
           'message.created' = ANY(w.events) AS created,
           'message.unread_offline' = ANY(w.events) AS offline
      FROM r JOIN webhooks AS w ON w.account_id = r.account_id
     WHERE w.is_active
       AND w.events && ARRAY['message.created', 'message.unread_offline']
       AND (cardinality(w.room_filters) = 0 OR r.uuid = ANY(w.room_filters))
), ev AS (
    INSERT INTO webhook_events (account_id, event, room_id, message_id, user_id, expanded_at)
    SELECT m.account_id, 'message.created', m.room_id, m.id, m.sender_user_id,
           CASE WHEN bool_or(wh.offline) THEN NULL ELSE now() END
      FROM m JOIN wh ON wh.room_id = m.room_id
  GROUP BY m.account_id, m.room_id, m.id, m.sender_user_id
  ORDER BY m.id
 RETURNING id, room_id
), wd AS (
    INSERT INTO webhook_deliveries (webhook_id, event_id, account_id)
    SELECT wh.id, ev.id, wh.account_id FROM ev JOIN wh ON wh.room_id = ev.room_id
     WHERE wh.created
)
SELECT {columns}, r.uuid AS room_uuid
  FROM m JOIN r ON r.id = m.room_id",
        returning = message_columns("messages"),
        columns = message_columns("m"),
    )
});

/// A new message and its room's UUID, as [`APPEND_ALL`] answers them.
pub(crate) struct BatchedRow {
    pub(crate) row: MessageRow,
    pub(crate) room_uuid: Uuid,
}

impl diesel::QueryableByName<Pg> for BatchedRow {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        Ok(Self {
            row: <MessageRow as diesel::QueryableByName<Pg>>::build(row)?,
            room_uuid: NamedRow::get::<diesel::sql_types::Uuid, Uuid>(row, "room_uuid")?,
        })
    }
}

/// Runs [`APPEND_ALL`] for `sends` (plain ones: [`is_plain`]), and answers each send's
/// row in the order of `sends`: `None` for a send to a room its account does not have.
pub(crate) fn append_all(
    conn: &mut PgConnection,
    sends: &[(AccountId, RoomId, &NewMessage)],
) -> QueryResult<Vec<Option<BatchedRow>>> {
    use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text};
    let texts = |f: fn(&NewMessage) -> String| -> Vec<String> {
        sends.iter().map(|(_, _, new)| f(new)).collect()
    };
    let rows: Vec<BatchedRow> = Binds::new()
        .with::<Array<BigInt>, _>(sends.iter().map(|(a, _, _)| a.0).collect::<Vec<_>>())
        .with::<Array<BigInt>, _>(sends.iter().map(|(_, r, _)| r.0).collect::<Vec<_>>())
        .with::<Array<Nullable<BigInt>>, _>(
            sends
                .iter()
                .map(|(_, _, new)| new.sender.user_id().map(|user| user.0))
                .collect::<Vec<_>>(),
        )
        .with::<Array<Text>, _>(texts(|new| new.sender.label().to_owned()))
        .with::<Array<Nullable<Text>>, _>(
            sends
                .iter()
                .map(|(_, _, new)| new.sender_name.clone())
                .collect::<Vec<_>>(),
        )
        .with::<Array<Text>, _>(texts(|new| new.content.as_str().to_owned()))
        .with::<Array<Text>, _>(texts(|new| new.kind.as_str().to_owned()))
        .with::<Array<Jsonb>, _>(
            sends
                .iter()
                .map(|(_, _, new)| Value::Object(new.meta.clone().into_map()))
                .collect::<Vec<_>>(),
        )
        .with::<Array<Nullable<Text>>, _>(
            sends
                .iter()
                .map(|(_, _, new)| new.echo_id.as_ref().map(|echo| echo.as_str().to_owned()))
                .collect::<Vec<_>>(),
        )
        .into_statement(APPEND_ALL.as_str())
        .load(conn)?;
    Ok(in_send_order(sends, rows))
}

/// `rows` in the order of `sends`: the sends of one room took its seqs in their order.
fn in_send_order(
    sends: &[(AccountId, RoomId, &NewMessage)],
    rows: Vec<BatchedRow>,
) -> Vec<Option<BatchedRow>> {
    let mut by_room: HashMap<i64, Vec<BatchedRow>> = HashMap::new();
    for row in rows {
        by_room.entry(row.row.room_id).or_default().push(row);
    }
    // Each room's rows, newest seq first, so that `pop` hands out the oldest.
    for rows in by_room.values_mut() {
        rows.sort_by_key(|row| std::cmp::Reverse(row.row.seq));
    }
    sends
        .iter()
        .map(|(account, room, _)| {
            by_room
                .get_mut(&room.0)
                .and_then(Vec::pop)
                .filter(|row| row.row.account_id == account.0)
        })
        .collect()
}
