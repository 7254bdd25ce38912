//! Messages of rooms, and how far each member has got ([`MessageStore`]).
//!
//! A room numbers its messages 1, 2, 3, … with `rooms.last_seq`: a send bumps it with an
//! `UPDATE … RETURNING`, whose row lock makes the senders of one room take turns until
//! they commit, and whose rollback gives the number back, so the numbers have no gaps.
//! Members' read and delivered positions are seqs kept on `room_members`; they only move
//! forward, and a member joins at the room's newest message (a trigger, see the
//! migration). Every query is scoped by `account_id`: a room or message of another
//! account is not found.

use async_trait::async_trait;
use chat_app::{MessageFilter, MessageOrder, MessageStore, NewMessage, RoomStore, StoreError};
use chat_domain::{
    AccountId, Attachment, Content, EchoId, Message, MessageId, MessageKind, MessageMeta,
    MessageRef, Position, Room, RoomId, RoomRef, Sender, Seq, StorageKey, UserId,
};
use diesel::dsl::now;
use diesel::expression::functions::declare_sql_function;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, SingleValue, SqlType, Timestamptz};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rooms::RoomRow;
use crate::schema::{messages, room_members, rooms};
use crate::{PgStore, attachments, contains_pattern, corrupt, translate};

#[declare_sql_function]
extern "SQL" {
    /// PostgreSQL's `GREATEST` of two values.
    fn greatest<T: SqlType + SingleValue>(a: T, b: T) -> T;

    /// PostgreSQL's `LEAST` of two values.
    fn least<T: SqlType + SingleValue>(a: T, b: T) -> T;

    /// The time when it is read, unlike `now()` (the start of the transaction).
    fn clock_timestamp() -> Timestamptz;
}

/// The unique index that keeps one message per (room, sender, echo id).
const ECHO_KEY: &str = "messages_echo_key";

/// The `sender_label` of system messages.
const SYSTEM_LABEL: &str = "system";

/// One row of `messages`.
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
struct MessageRow {
    id: i64,
    uuid: Uuid,
    account_id: i64,
    room_id: i64,
    seq: i64,
    sender_user_id: Option<i64>,
    sender_label: String,
    sender_name: Option<String>,
    content: String,
    message_type: String,
    meta: Value,
    reply_to_id: Option<i64>,
    echo_id: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    edited_at: Option<OffsetDateTime>,
    deleted_at: Option<OffsetDateTime>,
    attachment_count: i32,
}

/// A message row, the UUID of its room (read by a join, or already known) and its
/// attachments.
#[derive(Debug)]
struct StoredMessage {
    row: MessageRow,
    room_uuid: Uuid,
    attachments: Vec<Attachment>,
}

impl TryFrom<StoredMessage> for Message {
    type Error = StoreError;

    fn try_from(stored: StoredMessage) -> Result<Self, StoreError> {
        let StoredMessage {
            row,
            room_uuid,
            attachments,
        } = stored;
        let invalid = |e: String| corrupt("message", row.id, e);
        let sender = match (row.sender_user_id, row.sender_label.as_str()) {
            (None, SYSTEM_LABEL) => Sender::System,
            (Some(id), label) if label != SYSTEM_LABEL && !label.is_empty() => Sender::User {
                id: UserId(id),
                label: label.to_owned(),
            },
            (user, label) => {
                return Err(invalid(format!(
                    "sender label {label:?} does not fit sender user {user:?}"
                )));
            }
        };
        // Empty content is stored when files came with the message.
        let content = Content::parse_allowing_empty(&row.content, true)
            .map_err(|e| invalid(format!("content: {e:?}")))?;
        let kind = MessageKind::parse(&row.message_type).map_err(|e| invalid(e.to_string()))?;
        let meta = match row.meta {
            Value::Object(object) => {
                MessageMeta::parse(object).map_err(|e| invalid(e.to_string()))?
            }
            other => return Err(invalid(format!("meta is not an object but {other}"))),
        };
        let echo_id = row
            .echo_id
            .as_deref()
            .map(EchoId::parse)
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Message {
            id: MessageId(row.id),
            uuid: row.uuid,
            account_id: AccountId(row.account_id),
            room_id: RoomId(row.room_id),
            room_uuid,
            seq: Seq(row.seq),
            sender,
            sender_name: row.sender_name,
            content,
            kind,
            meta,
            reply_to: row.reply_to_id.map(MessageId),
            echo_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            edited_at: row.edited_at,
            deleted_at: row.deleted_at,
            attachments,
        })
    }
}

/// The messages of `rows`, each with its room's UUID and its attachments (read in one
/// more query, only when one of them has some).
fn to_messages(
    conn: &mut PgConnection,
    account: AccountId,
    rows: Vec<(MessageRow, Uuid)>,
) -> Result<Vec<Message>, StoreError> {
    let with_files: Vec<i64> = rows
        .iter()
        .filter(|(row, _)| row.attachment_count > 0)
        .map(|(row, _)| row.id)
        .collect();
    let mut files = attachments::of_messages(conn, account, &with_files)?;
    rows.into_iter()
        .map(|(row, room_uuid)| {
            Message::try_from(StoredMessage {
                attachments: files.remove(&row.id).unwrap_or_default(),
                row,
                room_uuid,
            })
        })
        .collect()
}

/// A new message. `created_at` and `updated_at` are the time its seq was taken.
#[derive(Insertable)]
#[diesel(table_name = messages)]
struct NewMessageRow<'a> {
    account_id: i64,
    room_id: i64,
    seq: i64,
    sender_user_id: Option<i64>,
    sender_label: &'a str,
    sender_name: Option<&'a str>,
    content: &'a str,
    message_type: &'a str,
    meta: Value,
    reply_to_id: Option<i64>,
    echo_id: Option<&'a str>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    attachment_count: i32,
}

/// The columns an edit may change; `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = messages)]
struct MessageChanges {
    content: Option<String>,
    meta: Option<Value>,
}

/// Which of the account's messages to read.
enum Wanted<'a> {
    One(MessageRef),
    Ids(&'a [i64]),
    /// The message a sender sent with this echo id in the room.
    Echo {
        room: RoomId,
        sender_label: &'a str,
        echo_id: &'a str,
    },
}

/// The account's messages that `wanted` names, each with its room's UUID, in no
/// particular order.
fn load(
    conn: &mut PgConnection,
    account: AccountId,
    wanted: Wanted<'_>,
) -> QueryResult<Vec<(MessageRow, Uuid)>> {
    let query = messages::table
        .inner_join(
            rooms::table.on(rooms::id
                .eq(messages::room_id)
                .and(rooms::account_id.eq(messages::account_id))),
        )
        .filter(messages::account_id.eq(account.0))
        .select((MessageRow::as_select(), rooms::uuid))
        .into_boxed();
    let query = match wanted {
        // The primary key, the UUID's unique index, `id = ANY($ids)` on the primary key.
        Wanted::One(MessageRef::Id(id)) => query.filter(messages::id.eq(id.0)),
        Wanted::One(MessageRef::Uuid(uuid)) => query.filter(messages::uuid.eq(uuid)),
        Wanted::Ids(ids) => query.filter(messages::id.eq_any(ids)),
        // messages_echo_key.
        Wanted::Echo {
            room,
            sender_label,
            echo_id,
        } => query
            .filter(messages::room_id.eq(room.0))
            .filter(messages::sender_label.eq(sender_label))
            .filter(messages::echo_id.eq(echo_id)),
    };
    query.load(conn)
}

/// The one message of `rows`; `NotFound` when there is none.
fn first_message(
    conn: &mut PgConnection,
    account: AccountId,
    rows: Vec<(MessageRow, Uuid)>,
) -> Result<Message, StoreError> {
    to_messages(conn, account, rows)?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
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

/// The message `sender_label` already sent with `echo_id` in the room, if any.
fn find_echo(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    sender_label: &str,
    echo_id: &EchoId,
) -> Result<Option<Message>, StoreError> {
    let rows = load(
        conn,
        account,
        Wanted::Echo {
            room,
            sender_label,
            echo_id: echo_id.as_str(),
        },
    )
    .map_err(translate)?;
    Ok(to_messages(conn, account, rows)?.into_iter().next())
}

/// Whether `error` is an insert that lost the race for an echo id to a concurrent send.
fn is_echo_conflict(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some(ECHO_KEY)
    )
}

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
        query = query.filter(messages::message_type.eq(kind.as_str()));
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

/// `SELECT last_seq FROM rooms WHERE account_id = $1 AND id = $2`.
type LastSeqQuery = diesel::dsl::Select<
    diesel::dsl::Filter<
        diesel::dsl::Filter<rooms::table, diesel::dsl::Eq<rooms::account_id, i64>>,
        diesel::dsl::Eq<rooms::id, i64>,
    >,
    rooms::last_seq,
>;

/// The room's `last_seq` as a scalar subquery, for a statement on one of the room's
/// memberships: the membership's foreign key means the room is there (so never NULL).
fn last_seq_of(
    account: AccountId,
    room: RoomId,
) -> diesel::dsl::AssumeNotNull<diesel::dsl::SingleValue<LastSeqQuery>> {
    rooms::table
        .filter(rooms::account_id.eq(account.0))
        .filter(rooms::id.eq(room.0))
        .select(rooms::last_seq)
        .single_value()
        .assume_not_null()
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

/// The total of an unfiltered list, from the room's counters (seqs run 1..=last_seq
/// without gaps): O(1) however long the history. `None` when a filter needs counting rows.
fn counted_total(filter: &MessageFilter, last_seq: i64, deleted_count: i64) -> Option<i64> {
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

/// A new message and its room's UUID, as [`APPEND`] answers them.
struct AppendedRow {
    row: MessageRow,
    room_uuid: Uuid,
}

impl diesel::QueryableByName<Pg> for AppendedRow {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            row: <MessageRow as diesel::QueryableByName<Pg>>::build(row)?,
            room_uuid: diesel::row::NamedRow::get::<diesel::sql_types::Uuid, Uuid>(
                row,
                "room_uuid",
            )?,
        })
    }
}

/// A message without files, stored in ONE statement (one round trip, its own
/// transaction): the room's next seq (the UPDATE's row lock makes the senders of one
/// room take turns until the statement commits; a failed statement gives the number
/// back), the message at the time the lock was taken (never before the room's previous
/// message), and the sender's positions. The same steps as the transaction used when
/// files come along; no room (of the account) inserts nothing and answers no row.
const APPEND: &str = "
WITH r AS (
    UPDATE rooms
       SET last_seq = last_seq + 1,
           message_count = message_count + 1,
           last_message_at = GREATEST(last_message_at, clock_timestamp())
     WHERE account_id = $1 AND id = $2
 RETURNING id, account_id, uuid, last_seq, last_message_at
), m AS (
    INSERT INTO messages (account_id, room_id, seq, sender_user_id, sender_label, sender_name,
                          content, message_type, meta, reply_to_id, echo_id, created_at,
                          updated_at, attachment_count)
    SELECT r.account_id, r.id, r.last_seq, $3, $4, $5, $6, $7, $8, $9, $10,
           r.last_message_at, r.last_message_at, 0
      FROM r
 RETURNING *
), u AS (
    UPDATE room_members AS rm
       SET last_read_seq = GREATEST(rm.last_read_seq, m.seq),
           delivered_seq = GREATEST(rm.delivered_seq, m.seq)
      FROM m
     WHERE rm.account_id = m.account_id AND rm.room_id = m.room_id
       AND rm.user_id = m.sender_user_id
)
SELECT m.*, r.uuid AS room_uuid FROM m, r";

/// Runs [`APPEND`]: the message row and its room's UUID; `NotFound` when the account has
/// no such room.
#[allow(clippy::too_many_arguments)]
fn append_one(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    sender: &Sender,
    sender_name: Option<&str>,
    content: &Content,
    kind: MessageKind,
    meta: Value,
    reply_to: Option<MessageId>,
    echo_id: Option<&EchoId>,
) -> QueryResult<(MessageRow, Uuid, Vec<attachments::AttachmentRow>)> {
    use diesel::sql_types::{BigInt, Jsonb, Nullable, Text};
    let row: AppendedRow = diesel::sql_query(APPEND)
        .bind::<BigInt, _>(account.0)
        .bind::<BigInt, _>(room.0)
        .bind::<Nullable<BigInt>, _>(sender.user_id().map(|user| user.0))
        .bind::<Text, _>(sender.label())
        .bind::<Nullable<Text>, _>(sender_name)
        .bind::<Text, _>(content.as_str())
        .bind::<Text, _>(kind.as_str())
        .bind::<Jsonb, _>(meta)
        .bind::<Nullable<BigInt>, _>(reply_to.map(|reply| reply.0))
        .bind::<Nullable<Text>, _>(echo_id.map(EchoId::as_str))
        .get_result(conn)?;
    Ok((row.row, row.room_uuid, Vec::new()))
}

#[async_trait]
impl MessageStore for PgStore {
    async fn append(
        &self,
        account: AccountId,
        room: RoomId,
        new: NewMessage,
    ) -> Result<(Message, bool), StoreError> {
        let NewMessage {
            sender,
            sender_name,
            content,
            kind,
            meta,
            reply_to,
            echo_id,
            attachments: files,
        } = new;
        let meta = Value::Object(meta.into_map());
        self.with_conn(move |conn| {
            let label = sender.label();
            // A retry of a message stored already: no write at all.
            if let Some(echo_id) = &echo_id
                && let Some(first) = find_echo(conn, account, room, label, echo_id)?
            {
                return Ok((first, false));
            }
            let stored = if files.is_empty() {
                append_one(
                    conn,
                    account,
                    room,
                    &sender,
                    sender_name.as_deref(),
                    &content,
                    kind,
                    meta,
                    reply_to,
                    echo_id.as_ref(),
                )
            } else {
                conn.transaction(|conn| {
                    // The room's next seq. The row lock is held until commit, so the senders
                    // of one room take turns; a rollback gives the number back. The time is
                    // read once the lock is held (and never before the room's previous
                    // message), so created_at follows seq within a room.
                    let (seq, room_uuid, at): (i64, Uuid, OffsetDateTime) = diesel::update(
                        rooms::table
                            .filter(rooms::account_id.eq(account.0))
                            .filter(rooms::id.eq(room.0)),
                    )
                    .set((
                        rooms::last_seq.eq(rooms::last_seq + 1),
                        rooms::message_count.eq(rooms::message_count + 1),
                        rooms::last_message_at
                            .eq(greatest(rooms::last_message_at, clock_timestamp())),
                    ))
                    .returning((rooms::last_seq, rooms::uuid, rooms::last_message_at))
                    .get_result(conn)?;
                    let row = diesel::insert_into(messages::table)
                        .values(NewMessageRow {
                            account_id: account.0,
                            room_id: room.0,
                            seq,
                            sender_user_id: sender.user_id().map(|user| user.0),
                            sender_label: label,
                            sender_name: sender_name.as_deref(),
                            content: content.as_str(),
                            message_type: kind.as_str(),
                            meta,
                            reply_to_id: reply_to.map(|reply| reply.0),
                            echo_id: echo_id.as_ref().map(EchoId::as_str),
                            created_at: at,
                            updated_at: at,
                            attachment_count: i32::try_from(files.len()).map_err(|_| {
                                DieselError::SerializationError("too many attachments".into())
                            })?,
                        })
                        .returning(MessageRow::as_returning())
                        .get_result(conn)?;
                    let attached =
                        attachments::insert(conn, account, room, MessageId(row.id), &files)?;
                    if let Some(user) = sender.user_id() {
                        // The sender has read what it sent (and everything before it). Not a
                        // member (any more): nothing to move.
                        diesel::update(
                            room_members::table
                                .filter(room_members::account_id.eq(account.0))
                                .filter(room_members::room_id.eq(room.0))
                                .filter(room_members::user_id.eq(user.0)),
                        )
                        .set((
                            room_members::last_read_seq
                                .eq(greatest(room_members::last_read_seq, seq)),
                            room_members::delivered_seq
                                .eq(greatest(room_members::delivered_seq, seq)),
                        ))
                        .execute(conn)?;
                    }
                    Ok::<_, DieselError>((row, room_uuid, attached))
                })
            };
            match (stored, &echo_id) {
                (Ok((row, room_uuid, attached)), _) => {
                    let attachments = attached
                        .into_iter()
                        .map(Attachment::try_from)
                        .collect::<Result<_, _>>()?;
                    let stored = StoredMessage {
                        row,
                        room_uuid,
                        attachments,
                    };
                    Ok((Message::try_from(stored)?, true))
                }
                // A concurrent send of the same echo id committed first (this process or
                // another); this one rolled back, its seq unused. Answer that first one.
                (Err(error), Some(echo_id)) if is_echo_conflict(&error) => {
                    let first = find_echo(conn, account, room, label, echo_id)?;
                    first
                        .map(|first| (first, false))
                        .ok_or(StoreError::NotFound)
                }
                (Err(error), _) => Err(translate(error)),
            }
        })
        .await
    }

    async fn find_message(
        &self,
        account: AccountId,
        message: MessageRef,
    ) -> Result<Message, StoreError> {
        self.with_conn(move |conn| {
            let rows = load(conn, account, Wanted::One(message)).map_err(translate)?;
            first_message(conn, account, rows)
        })
        .await
    }

    async fn find_messages(
        &self,
        account: AccountId,
        ids: Vec<MessageId>,
    ) -> Result<Vec<Message>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.with_conn(move |conn| {
            let rows = load(conn, account, Wanted::Ids(&ids)).map_err(translate)?;
            to_messages(conn, account, rows)
        })
        .await
    }

    async fn list_messages(
        &self,
        account: AccountId,
        room: RoomId,
        filter: MessageFilter,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        self.with_conn(move |conn| {
            // One snapshot for all three, so the total agrees with the page.
            let (room_uuid, rows, total) = conn
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run(|conn| {
                    // NotFound when the account has no such room.
                    let (room_uuid, last_seq, deleted_count): (Uuid, i64, i64) = rooms::table
                        .filter(rooms::account_id.eq(account.0))
                        .filter(rooms::id.eq(room.0))
                        .select((rooms::uuid, rooms::last_seq, rooms::deleted_message_count))
                        .first(conn)?;
                    let rows: Vec<MessageRow> = page_query(account, room, &filter)
                        .select(MessageRow::as_select())
                        .load(conn)?;
                    let total = match counted_total(&filter, last_seq, deleted_count) {
                        Some(total) => total,
                        None => filtered(messages::table.into_boxed(), account, room, &filter)
                            .count()
                            .get_result::<i64>(conn)?,
                    };
                    Ok::<_, DieselError>((room_uuid, rows, total))
                })
                .map_err(translate)?;
            let rows = rows.into_iter().map(|row| (row, room_uuid)).collect();
            let messages = to_messages(conn, account, rows)?;
            Ok((messages, total))
        })
        .await
    }

    async fn room_page(
        &self,
        account: AccountId,
        room: RoomRef,
        filter: MessageFilter,
    ) -> Result<(Room, Vec<Message>, i64), StoreError> {
        let unfiltered = counted_total(&filter, 0, 0).is_some();
        if !unfiltered {
            // Filters count rows: read the room, then the page and its total.
            let found = self.find_room(account, room).await?;
            let (messages, total) = self.list_messages(account, found.id, filter).await?;
            return Ok((found, messages, total));
        }
        self.with_conn(move |conn| {
            // The room with its counters, then the page by the room's id: two statements
            // on one connection. Joining the page to its room in one statement looked
            // cheaper, but the planner, unable to estimate a room's size there, read the
            // room's whole history and sorted it (docs/benchmarks/findings.md); by a
            // known room id it reads messages_room_seq_key backwards and stops after the
            // page. The total comes from the counters read first (not one snapshot: a
            // message sent in between may show in the page before it counts).
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
            let rows: Vec<MessageRow> = page_query(account, found.id, &filter)
                .select(MessageRow::as_select())
                .load(conn)
                .map_err(translate)?;
            let total = counted_total(&filter, last_seq, deleted).unwrap_or(0);
            let paged = rows.into_iter().map(|row| (row, found.uuid)).collect();
            let messages = to_messages(conn, account, paged)?;
            Ok((found, messages, total))
        })
        .await
    }

    async fn edit_message(
        &self,
        account: AccountId,
        message: MessageId,
        content: Option<Content>,
        meta: Option<MessageMeta>,
    ) -> Result<Message, StoreError> {
        let changes = MessageChanges {
            content: content.map(|content| content.as_str().to_owned()),
            meta: meta.map(|meta| Value::Object(meta.into_map())),
        };
        self.with_conn(move |conn| {
            // The change and the message as it is after, in one transaction.
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
                    reread(conn, account, message, changed)
                })
                .map_err(translate)?;
            first_message(conn, account, rows)
        })
        .await
    }

    async fn set_message_deleted(
        &self,
        account: AccountId,
        message: MessageId,
        deleted: bool,
    ) -> Result<(Message, Vec<StorageKey>), StoreError> {
        self.with_conn(move |conn| {
            // The change, the room's count of deleted messages, the attachments and the
            // message as it is after, in one transaction. Only a change of state moves
            // the count.
            let (rows, removed) = conn
                .transaction(|conn| {
                    let target = messages::table
                        .filter(messages::account_id.eq(account.0))
                        .filter(messages::id.eq(message.0));
                    let (changed_in, delta): (Vec<i64>, i64) = if deleted {
                        let rooms = diesel::update(target.filter(messages::deleted_at.is_null()))
                            .set((
                                messages::deleted_at.eq(now.into_sql::<Timestamptz>().nullable()),
                                messages::updated_at.eq(now),
                            ))
                            .returning(messages::room_id)
                            .get_results(conn)?;
                        (rooms, 1)
                    } else {
                        let rooms =
                            diesel::update(target.filter(messages::deleted_at.is_not_null()))
                                .set((
                                    messages::deleted_at.eq(None::<OffsetDateTime>),
                                    messages::updated_at.eq(now),
                                ))
                                .returning(messages::room_id)
                                .get_results(conn)?;
                        (rooms, -1)
                    };
                    if let Some(room) = changed_in.first() {
                        diesel::update(
                            rooms::table
                                .filter(rooms::account_id.eq(account.0))
                                .filter(rooms::id.eq(room)),
                        )
                        .set(rooms::deleted_message_count.eq(rooms::deleted_message_count + delta))
                        .execute(conn)?;
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
                    // NotFound when the account has no such message (in either state).
                    let rows = load(conn, account, Wanted::One(MessageRef::Id(message)))?;
                    Ok::<_, DieselError>((rows, removed))
                })
                .map_err(translate)?;
            let removed = removed
                .iter()
                .map(|key| StorageKey::parse(key).map_err(|e| corrupt("attachment", key, e)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((first_message(conn, account, rows)?, removed))
        })
        .await
    }

    async fn positions(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<Position>, StoreError> {
        self.with_conn(move |conn| {
            // One query: the room left-joined with its members, so that a room of another
            // account (no row at all) is told from a room without members (one row of
            // NULLs). Members in join order.
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
        })
        .await
    }

    async fn mark_read(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
        upto: Option<Seq>,
    ) -> Result<Seq, StoreError> {
        // `upto`, or the room's newest message; never past the newest message.
        let upto = upto.map_or(i64::MAX, |seq| seq.0);
        let target = move || least(upto, last_seq_of(account, room));
        self.with_conn(move |conn| {
            let member = room_members::table
                .filter(room_members::account_id.eq(account.0))
                .filter(room_members::room_id.eq(room.0))
                .filter(room_members::user_id.eq(user.0));
            // Only a position that moves is written (delivered is never behind read, so
            // it cannot need moving when read does not).
            let moved = diesel::update(member.filter(room_members::last_read_seq.lt(target())))
                .set((
                    room_members::last_read_seq.eq(greatest(room_members::last_read_seq, target())),
                    room_members::delivered_seq.eq(greatest(room_members::delivered_seq, target())),
                ))
                .returning(room_members::last_read_seq)
                .get_result::<i64>(conn)
                .optional()
                .map_err(translate)?;
            let read = match moved {
                Some(read) => read,
                // Nothing moved: the position as it is; NotFound when not a member.
                None => member
                    .select(room_members::last_read_seq)
                    .first::<i64>(conn)
                    .map_err(translate)?,
            };
            Ok(Seq(read))
        })
        .await
    }

    async fn mark_delivered(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
        upto: Seq,
    ) -> Result<(), StoreError> {
        // Never past the room's newest message.
        let target = move || least(upto.0, last_seq_of(account, room));
        self.with_conn(move |conn| {
            // Only a position that moves is written; a non-member matches no row.
            diesel::update(
                room_members::table
                    .filter(room_members::account_id.eq(account.0))
                    .filter(room_members::room_id.eq(room.0))
                    .filter(room_members::user_id.eq(user.0))
                    .filter(room_members::delivered_seq.lt(target())),
            )
            .set(room_members::delivered_seq.eq(target()))
            .execute(conn)
            .map(drop)
            .map_err(translate)
        })
        .await
    }

    async fn unread_counts(
        &self,
        account: AccountId,
        user: UserId,
        rooms: Vec<RoomId>,
    ) -> Result<Vec<(RoomId, i64)>, StoreError> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rooms.iter().map(|room| room.0).collect();
        self.with_conn(move |conn| {
            // One query over the user's memberships (the (account_id, user_id, room_id)
            // index) and their rooms' primary keys: no counting of messages.
            let rows: Vec<(i64, i64)> = room_members::table
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
                ))
                .load(conn)
                .map_err(translate)?;
            Ok(rows
                .into_iter()
                .map(|(room, unread)| (RoomId(room), unread))
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> MessageRow {
        let at = OffsetDateTime::UNIX_EPOCH;
        MessageRow {
            id: 9,
            uuid: Uuid::nil(),
            account_id: 1,
            room_id: 2,
            seq: 3,
            sender_user_id: Some(4),
            sender_label: "user_4".to_owned(),
            sender_name: Some("Ann".to_owned()),
            content: "hello".to_owned(),
            message_type: "text".to_owned(),
            meta: serde_json::json!({ "a": 1 }),
            reply_to_id: Some(8),
            echo_id: Some("e-1".to_owned()),
            created_at: at,
            updated_at: at,
            edited_at: None,
            deleted_at: None,
            attachment_count: 0,
        }
    }

    fn convert(row: MessageRow) -> Result<Message, StoreError> {
        Message::try_from(StoredMessage {
            row,
            room_uuid: Uuid::nil(),
            attachments: Vec::new(),
        })
    }

    fn valid(row: MessageRow) -> Message {
        match convert(row) {
            Ok(message) => message,
            Err(e) => panic!("a valid row was refused: {e:?}"),
        }
    }

    #[test]
    fn a_valid_row_becomes_the_message() {
        let message = valid(row());
        assert_eq!(
            message.sender,
            Sender::User {
                id: UserId(4),
                label: "user_4".to_owned()
            }
        );
        assert_eq!(message.seq, Seq(3));
        assert_eq!(message.reply_to, Some(MessageId(8)));
        assert_eq!(message.echo_id.as_ref().map(EchoId::as_str), Some("e-1"));
        let system = valid(MessageRow {
            sender_user_id: None,
            sender_label: "system".to_owned(),
            message_type: "system".to_owned(),
            // Files came with it.
            content: String::new(),
            ..row()
        });
        assert_eq!(system.sender, Sender::System);
    }

    #[test]
    fn stored_messages_the_domain_rejects_are_unexpected() {
        for bad in [
            MessageRow {
                sender_user_id: None,
                ..row()
            },
            MessageRow {
                sender_label: "system".to_owned(),
                ..row()
            },
            MessageRow {
                sender_label: String::new(),
                ..row()
            },
            MessageRow {
                content: "x".repeat(Content::MAX_CHARS + 1),
                ..row()
            },
            MessageRow {
                message_type: "outgoing".to_owned(),
                ..row()
            },
            MessageRow {
                meta: serde_json::json!([1]),
                ..row()
            },
            MessageRow {
                meta: serde_json::json!({ "blob": "x".repeat(MessageMeta::MAX_BYTES) }),
                ..row()
            },
            MessageRow {
                echo_id: Some(String::new()),
                ..row()
            },
        ] {
            let result = convert(bad);
            assert!(
                matches!(result, Err(StoreError::Unexpected(_))),
                "{result:?}"
            );
        }
    }

    #[test]
    fn only_a_violation_of_the_echo_index_is_an_echo_conflict() {
        #[derive(Debug)]
        struct Info(Option<&'static str>);
        impl diesel::result::DatabaseErrorInformation for Info {
            fn message(&self) -> &str {
                "duplicate key"
            }
            fn details(&self) -> Option<&str> {
                None
            }
            fn hint(&self) -> Option<&str> {
                None
            }
            fn table_name(&self) -> Option<&str> {
                Some("messages")
            }
            fn column_name(&self) -> Option<&str> {
                None
            }
            fn constraint_name(&self) -> Option<&str> {
                self.0
            }
            fn statement_position(&self) -> Option<i32> {
                None
            }
        }
        let unique = |name| {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, Box::new(Info(name)))
        };
        assert!(is_echo_conflict(&unique(Some(ECHO_KEY))));
        assert!(!is_echo_conflict(&unique(Some("messages_room_seq_key"))));
        assert!(!is_echo_conflict(&unique(None)));
        assert!(!is_echo_conflict(&DieselError::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation,
            Box::new(Info(Some(ECHO_KEY)))
        )));
        assert!(!is_echo_conflict(&DieselError::NotFound));
    }
}
