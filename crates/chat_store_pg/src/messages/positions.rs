//! How far each member has got: read and delivered positions, and unread counts.

use chat_app::{DeliveredMark, StoreError, Unread};
use chat_domain::{AccountId, Position, RoomId, Seq, UserId, WebhookEvent};
use diesel::expression::functions::declare_sql_function;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, SingleValue, SqlType};

use crate::schema::{room_members, rooms};
use crate::translate;
use crate::webhooks::record::{EventMessage, Recorded, record_event};

#[declare_sql_function]
extern "SQL" {
    /// PostgreSQL's `GREATEST` of two values.
    fn greatest<T: SqlType + SingleValue>(a: T, b: T) -> T;
}

/// One member's positions, as `positions` reads them: all NULL for the one row of a room
/// without members (a left join).
#[derive(Debug, Queryable)]
struct PositionRow {
    user_id: Option<i64>,
    delivered_seq: Option<i64>,
    last_read_seq: Option<i64>,
}

impl PositionRow {
    /// The member's position; `None` for the row of a room without members.
    fn into_position(self) -> Option<Position> {
        Some(Position {
            user: UserId(self.user_id?),
            delivered: Seq(self.delivered_seq?),
            read: Seq(self.last_read_seq?),
        })
    }
}

/// [`chat_app::MessageStore::positions`].
pub(super) fn positions(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
) -> Result<Vec<Position>, StoreError> {
    // One query: the room left-joined with its members, so that a room of another account
    // (no row at all) is told from a room without members (one row of NULLs). Members in
    // join order.
    let rows: Vec<PositionRow> = rooms::table
        .left_join(
            room_members::table.on(room_members::room_id
                .eq(rooms::id)
                .and(room_members::account_id.eq(rooms::account_id))),
        )
        .filter(rooms::account_id.eq(account.0))
        .filter(rooms::id.eq(room.0))
        .order_by((room_members::joined_at, room_members::user_id))
        .select((
            room_members::user_id.nullable(),
            room_members::delivered_seq.nullable(),
            room_members::last_read_seq.nullable(),
        ))
        .load(conn)
        .map_err(translate)?;
    if rows.is_empty() {
        return Err(StoreError::NotFound);
    }
    Ok(rows
        .into_iter()
        .filter_map(PositionRow::into_position)
        .collect())
}

/// Moves a member's read position (and delivered, never behind it) to `$4` or the room's
/// newest message, whichever is lower, when that is forward; and counts the member's
/// unread mentions again from there: the `message_mentions` after the new position (a
/// range of its primary key), only when some were unread (the count never grows by
/// reading). Answers the new position; no row when nothing moved (or not a member).
const MARK_READ: &str = "
UPDATE room_members AS rm
   SET last_read_seq = t.seq,
       delivered_seq = GREATEST(rm.delivered_seq, t.seq),
       unread_mentions = CASE WHEN rm.unread_mentions = 0 THEN 0 ELSE
           (SELECT count(*) FROM message_mentions AS mm
             WHERE mm.room_id = rm.room_id AND mm.user_id = rm.user_id
               AND mm.seq > t.seq)::integer
       END
  FROM (SELECT LEAST($4, r.last_seq) AS seq
          FROM rooms AS r WHERE r.account_id = $1 AND r.id = $2) AS t
 WHERE rm.account_id = $1 AND rm.room_id = $2 AND rm.user_id = $3 AND rm.last_read_seq < t.seq
RETURNING rm.last_read_seq";

/// What [`MARK_READ`] answers.
#[derive(QueryableByName)]
struct ReadRow {
    #[diesel(sql_type = BigInt)]
    last_read_seq: i64,
}

/// [`chat_app::MessageStore::mark_read`]: up to `upto`, or the room's newest message;
/// never past the newest message. A position that moves re-counts the unread mentions and
/// records `message.read`, in the same transaction.
pub(super) fn mark_read(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    user: UserId,
    upto: Option<Seq>,
) -> Result<Seq, StoreError> {
    let upto = upto.map_or(i64::MAX, |seq| seq.0);
    let member = room_members::table
        .filter(room_members::account_id.eq(account.0))
        .filter(room_members::room_id.eq(room.0))
        .filter(room_members::user_id.eq(user.0));
    let read = conn
        .transaction(|conn| {
            // Only a position that moves is written (delivered is never behind read, so it
            // cannot need moving when read does not).
            let moved = diesel::sql_query(MARK_READ)
                .bind::<BigInt, _>(account.0)
                .bind::<BigInt, _>(room.0)
                .bind::<BigInt, _>(user.0)
                .bind::<BigInt, _>(upto)
                .get_result::<ReadRow>(conn)
                .optional()?;
            match moved {
                Some(ReadRow {
                    last_read_seq: read,
                }) => {
                    let users = [user];
                    record_event(
                        conn,
                        &Recorded {
                            message: EventMessage::Seq(read),
                            users: &users,
                            data: Some(serde_json::json!({ "seq": read })),
                            ..Recorded::of_room(account, WebhookEvent::MessageRead.as_str(), room)
                        },
                    )?;
                    Ok(read)
                }
                // Nothing moved: the position as it is; NotFound when not a member.
                None => member
                    .select(room_members::last_read_seq)
                    .first::<i64>(conn),
            }
        })
        .map_err(translate)?;
    Ok(Seq(read))
}

/// Moves the delivered positions of a batch of `(room, user, upto)` marks of account `$1`
/// (`$2`, `$3`, `$4`: arrays of the same length), each to its `upto` (the furthest of a
/// member's marks) but never past its room's `last_seq`, and only forward. The rows are
/// locked in (room, user) order before they are written, so two nodes writing batches
/// that share members wait for each other instead of deadlocking. A mark of a
/// non-member, or of another account's room, matches no row.
///
/// The room's `last_seq` is a subquery per mark, not a join: joined, the planner matched
/// the memberships by room alone and filtered a thousand members per mark (340 ms for
/// one node's third of a 1,000-member room, against 3 ms).
const MARK_DELIVERED: &str = "
WITH marks AS (
    SELECT m.room_id, m.user_id, max(m.upto) AS upto
      FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS m(room_id, user_id, upto)
     GROUP BY m.room_id, m.user_id
), moving AS (
    SELECT rm.room_id, rm.user_id,
           LEAST(marks.upto, (SELECT r.last_seq FROM rooms AS r
                               WHERE r.account_id = $1 AND r.id = marks.room_id)) AS seq
      FROM marks
      JOIN room_members AS rm ON rm.room_id = marks.room_id AND rm.user_id = marks.user_id
     WHERE rm.account_id = $1 AND rm.delivered_seq < marks.upto
     ORDER BY rm.room_id, rm.user_id
       FOR UPDATE OF rm
)
UPDATE room_members AS rm
   SET delivered_seq = moving.seq
  FROM moving
 WHERE rm.account_id = $1 AND rm.room_id = moving.room_id AND rm.user_id = moving.user_id
   AND rm.delivered_seq < moving.seq";

/// [`chat_app::MessageStore::mark_delivered`]: one statement for the whole batch.
pub(super) fn mark_delivered(
    conn: &mut PgConnection,
    account: AccountId,
    marks: &[DeliveredMark],
) -> Result<(), StoreError> {
    if marks.is_empty() {
        return Ok(());
    }
    let rooms: Vec<i64> = marks.iter().map(|m| m.room.0).collect();
    let users: Vec<i64> = marks.iter().map(|m| m.user.0).collect();
    let uptos: Vec<i64> = marks.iter().map(|m| m.upto.0).collect();
    diesel::sql_query(MARK_DELIVERED)
        .bind::<BigInt, _>(account.0)
        .bind::<Array<BigInt>, _>(rooms)
        .bind::<Array<BigInt>, _>(users)
        .bind::<Array<BigInt>, _>(uptos)
        .execute(conn)
        .map(drop)
        .map_err(translate)
}

/// [`chat_app::MessageStore::unread_counts`] of the rooms `ids` (not empty).
pub(super) fn unread_counts(
    conn: &mut PgConnection,
    account: AccountId,
    user: UserId,
    ids: &[i64],
) -> Result<Vec<(RoomId, Unread)>, StoreError> {
    // One query over the user's memberships (the (account_id, user_id, room_id) index) and
    // their rooms' primary keys: no counting of messages or mentions (kept on the
    // membership).
    let rows: Vec<(i64, i64, i32)> = room_members::table
        .inner_join(
            rooms::table.on(rooms::id
                .eq(room_members::room_id)
                .and(rooms::account_id.eq(room_members::account_id))),
        )
        .filter(room_members::account_id.eq(account.0))
        .filter(room_members::user_id.eq(user.0))
        .filter(room_members::room_id.eq_any(ids))
        .order_by(room_members::room_id)
        .select((
            room_members::room_id,
            greatest::<BigInt, _, _>(rooms::last_seq - room_members::last_read_seq, 0_i64),
            room_members::unread_mentions,
        ))
        .load(conn)
        .map_err(translate)?;
    Ok(rows
        .into_iter()
        .map(|(room, messages, mentions)| {
            (
                RoomId(room),
                Unread {
                    messages,
                    mentions: i64::from(mentions),
                },
            )
        })
        .collect())
}
