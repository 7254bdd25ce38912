//! Sending: a message, with or without files, stored by ONE statement ([`APPEND`]), and
//! the idempotent echo id around it.

use std::sync::LazyLock;

use chat_app::{Mention, NewMessage, StoreError};
use chat_domain::{AccountId, EchoId, Message, MessageId, RoomId};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::Value;
use uuid::Uuid;

use super::load::{Wanted, load, to_messages};
use super::rows::{MessageRow, StoredMessage, message_columns};
use crate::attachments::NewAttachments;
use crate::prepared::Binds;
use crate::translate;
use crate::users::canonical_id;

/// The unique index that keeps one message per (room, sender, echo id).
const ECHO_KEY: &str = "messages_echo_key";

/// A message and its files, stored in ONE statement (one round trip, its own
/// transaction): the room's next seq (the UPDATE's row lock makes the senders of one room
/// take turns until the statement commits; a failed statement gives the number back), the
/// message at the time the lock was taken (never before the room's previous message), its
/// attachment rows in upload order (from one array per column, `$11`–`$16`, empty when no
/// file came), and the sender's positions (read up to the message, so none of their
/// mentions is unread any more). No room (of the account) inserts nothing and answers no
/// row; any failure (a lost echo id race, a refused attachment row) stores nothing at all.
///
/// The attachments and mentions refer to the message the same statement inserts: their
/// foreign keys are checked at the end of the statement, when the message row is there.
///
/// Search: the message is indexed in the language (`search_config`) of its
/// `meta.language`, else of its room's `meta.language`, else English
/// (`chat_search_config` maps a language to a text-search configuration).
///
/// Mentions (`n`, `mn`, `mm`, `um`): the users named by id (`$17`) or by chat `user_id`
/// (`$18`; a label that spells an integer is also tried as the id of a user without an
/// external id, as `find_by_chat_id` does, the external id first), kept when they are
/// members of the room and not the sender, each once, in the order first named; stored on
/// the message (`mentions`, `mention_labels`) and in `message_mentions`, and each one's
/// `unread_mentions` grows by one.
///
/// Threads (`p`): a reply adds one to its parent's `reply_count`, and is its
/// `last_reply_at`.
///
/// The webhooks outbox (`wh`, `ev`, `wd`): when an active webhook of the account
/// subscribes to `message.created` or `message.unread_offline` for the room (a probe of
/// the partial index `webhooks_active_by_account`, empty for most accounts), the same
/// statement records the `message.created` event, with one delivery per webhook
/// subscribed to it; the event is left unexpanded (`expanded_at` NULL) for the delivery
/// worker when some webhook wants `message.unread_offline`. No such webhook: nothing is
/// recorded. A failed statement records nothing.
static APPEND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
WITH r AS (
    UPDATE rooms
       SET last_seq = last_seq + 1,
           message_count = message_count + 1,
           last_message_at = GREATEST(last_message_at, clock_timestamp())
     WHERE account_id = $1 AND id = $2
 RETURNING id, account_id, uuid, meta, last_seq, last_message_at
), n AS (
    SELECT n.ord, u.id, coalesce(u.external_id, u.id::text) AS label
      FROM unnest($17::bigint[], $18::text[]) WITH ORDINALITY AS n(id, label, ord)
     CROSS JOIN LATERAL (
            SELECT u.id, u.external_id FROM users AS u
             WHERE u.account_id = $1 AND u.deleted_at IS NULL
               AND (u.external_id = n.label
                    OR (u.id = n.id AND (n.label IS NULL OR u.external_id IS NULL)))
             ORDER BY (u.external_id = n.label) IS NOT TRUE
             LIMIT 1
           ) AS u
), mn AS (
    SELECT DISTINCT ON (n.id) n.id, n.label, n.ord
      FROM n
      JOIN room_members AS rm ON rm.account_id = $1 AND rm.room_id = $2 AND rm.user_id = n.id
     WHERE n.id IS DISTINCT FROM $3
     ORDER BY n.id, n.ord
), m AS (
    INSERT INTO messages (account_id, room_id, seq, sender_user_id, sender_label, sender_name,
                          content, message_type, meta, reply_to_id, echo_id, created_at,
                          updated_at, attachment_count, search_config, mentions,
                          mention_labels)
    SELECT r.account_id, r.id, r.last_seq, $3, $4, $5, $6, $7, $8, $9, $10,
           r.last_message_at, r.last_message_at, cardinality($11::uuid[]),
           COALESCE(chat_search_config($8::jsonb ->> 'language'),
                    chat_search_config(r.meta ->> 'language'), 'english'),
           ARRAY(SELECT mn.id FROM mn ORDER BY mn.ord),
           ARRAY(SELECT mn.label FROM mn ORDER BY mn.ord)
      FROM r
 RETURNING {returning}
), a AS (
    INSERT INTO attachments (uuid, account_id, room_id, message_id, position, storage_key,
                             extension, file_size, width, height)
    SELECT f.uuid, m.account_id, m.room_id, m.id, (f.n - 1)::integer, f.storage_key,
           f.extension, f.file_size, f.width, f.height
      FROM m,
           unnest($11::uuid[], $12::text[], $13::text[], $14::bigint[], $15::integer[],
                  $16::integer[])
           WITH ORDINALITY AS f(uuid, storage_key, extension, file_size, width, height, n)
 RETURNING id, position
), u AS (
    UPDATE room_members AS rm
       SET last_read_seq = GREATEST(rm.last_read_seq, m.seq),
           delivered_seq = GREATEST(rm.delivered_seq, m.seq),
           unread_mentions = 0
      FROM m
     WHERE rm.account_id = m.account_id AND rm.room_id = m.room_id
       AND rm.user_id = m.sender_user_id
), mm AS (
    INSERT INTO message_mentions (account_id, room_id, user_id, seq, message_id)
    SELECT m.account_id, m.room_id, mn.id, m.seq, m.id FROM m, mn
), um AS (
    UPDATE room_members AS rm
       SET unread_mentions = rm.unread_mentions + 1
      FROM m, mn
     WHERE rm.account_id = m.account_id AND rm.room_id = m.room_id AND rm.user_id = mn.id
), p AS (
    UPDATE messages AS p
       SET reply_count = p.reply_count + 1,
           last_reply_at = GREATEST(p.last_reply_at, m.created_at)
      FROM m
     WHERE p.room_id = m.room_id AND p.id = m.reply_to_id AND p.account_id = m.account_id
), wh AS (
    SELECT w.id, 'message.created' = ANY(w.events) AS created,
           'message.unread_offline' = ANY(w.events) AS offline
      FROM webhooks AS w, r
     WHERE w.account_id = $1 AND w.is_active
       AND w.events && ARRAY['message.created', 'message.unread_offline']
       AND (cardinality(w.room_filters) = 0 OR r.uuid = ANY(w.room_filters))
), ev AS (
    INSERT INTO webhook_events (account_id, event, room_id, message_id, user_id, expanded_at)
    SELECT m.account_id, 'message.created', m.room_id, m.id, m.sender_user_id,
           CASE WHEN bool_or(wh.offline) THEN NULL ELSE now() END
      FROM m, wh
  GROUP BY m.account_id, m.room_id, m.id, m.sender_user_id
 RETURNING id
), wd AS (
    INSERT INTO webhook_deliveries (webhook_id, event_id, account_id)
    SELECT wh.id, ev.id, $1 FROM wh, ev WHERE wh.created
)
SELECT {columns}, r.uuid AS room_uuid,
       ARRAY(SELECT a.id FROM a ORDER BY a.position) AS attachment_ids
  FROM m, r",
        returning = message_columns("messages"),
        columns = message_columns("m"),
    )
});

/// A new message, its room's UUID and its attachments' ids in upload order, as
/// [`APPEND`] answers them.
struct AppendedRow {
    row: MessageRow,
    room_uuid: Uuid,
    attachment_ids: Vec<i64>,
}

impl diesel::QueryableByName<Pg> for AppendedRow {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        use diesel::sql_types::{Array, BigInt};
        Ok(Self {
            row: <MessageRow as diesel::QueryableByName<Pg>>::build(row)?,
            room_uuid: NamedRow::get::<diesel::sql_types::Uuid, Uuid>(row, "room_uuid")?,
            attachment_ids: NamedRow::get::<Array<BigInt>, Vec<i64>>(row, "attachment_ids")?,
        })
    }
}

/// Runs [`APPEND`] for `new`, whose meta is given as `meta` and whose files as `files`;
/// `NotFound` when the account has no such room.
fn insert(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    new: &NewMessage,
    meta: Value,
    files: &NewAttachments<'_>,
) -> QueryResult<AppendedRow> {
    use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text};
    let (mention_ids, mention_labels) = mention_arrays(&new.mentions);
    Binds::new()
        .with::<BigInt, _>(account.0)
        .with::<BigInt, _>(room.0)
        .with::<Nullable<BigInt>, _>(new.sender.user_id().map(|user| user.0))
        .with::<Text, _>(new.sender.label().to_owned())
        .with::<Nullable<Text>, _>(new.sender_name.clone())
        .with::<Text, _>(new.content.as_str().to_owned())
        .with::<Text, _>(new.kind.as_str().to_owned())
        .with::<Jsonb, _>(meta)
        .with::<Nullable<BigInt>, _>(new.reply_to.map(|reply| reply.0))
        .with::<Nullable<Text>, _>(new.echo_id.as_ref().map(|echo| echo.as_str().to_owned()))
        .with::<Array<diesel::sql_types::Uuid>, _>(files.uuids.clone())
        .with::<Array<Text>, _>(owned(&files.storage_keys))
        .with::<Array<Text>, _>(owned(&files.extensions))
        .with::<Array<BigInt>, _>(files.file_sizes.clone())
        .with::<Array<Nullable<Integer>>, _>(files.widths.clone())
        .with::<Array<Nullable<Integer>>, _>(files.heights.clone())
        .with::<Array<Nullable<BigInt>>, _>(mention_ids)
        .with::<Array<Nullable<Text>>, _>(mention_labels)
        .into_statement(APPEND.as_str())
        .get_result(conn)
}

/// Strings a prepared statement keeps (it outlives the borrow).
fn owned(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| (*text).to_owned()).collect()
}

/// The users `mentions` names, as [`APPEND`]'s two parallel arrays (`$17`, `$18`): an id
/// and no label for [`Mention::Id`]; the label, and the id it spells if it spells one,
/// for [`Mention::Label`].
fn mention_arrays(mentions: &[Mention]) -> (Vec<Option<i64>>, Vec<Option<String>>) {
    mentions
        .iter()
        .map(|mention| match mention {
            Mention::Id(id) => (Some(id.0), None),
            Mention::Label(label) => (canonical_id(label), Some(label.as_str().to_owned())),
        })
        .unzip()
}

/// The storing of [`chat_app::MessageStore::send`]: the message stored now (`true`), or
/// the one the sender already sent with its echo id (`false`).
pub(super) fn append(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    mut new: NewMessage,
) -> Result<(Message, bool), StoreError> {
    let label = new.sender.label();
    // A retry of a message stored already: no write at all.
    if let Some(echo_id) = &new.echo_id
        && let Some(first) = find_echo(conn, account, room, label, echo_id)?
    {
        return Ok((first, false));
    }
    let meta = Value::Object(std::mem::take(&mut new.meta).into_map());
    let stored = NewAttachments::of(&new.attachments).and_then(|files| {
        let appended = insert(conn, account, room, &new, meta, &files)?;
        Ok((appended, files))
    });
    match (stored, &new.echo_id) {
        (Ok((appended, files)), _) => {
            let AppendedRow {
                row,
                room_uuid,
                attachment_ids,
            } = appended;
            let attachments = files.stored(account, MessageId(row.id), attachment_ids)?;
            let stored = StoredMessage {
                row,
                room_uuid,
                attachments,
            };
            Ok((Message::try_from(stored)?, true))
        }
        // A concurrent send of the same echo id committed first (this process or
        // another); this one rolled back, its seq unused and no attachment row stored.
        // Answer that first one.
        (Err(error), Some(echo_id)) if is_echo_conflict(&error) => {
            let first = find_echo(conn, account, room, label, echo_id)?;
            first
                .map(|first| (first, false))
                .ok_or(StoreError::NotFound)
        }
        (Err(error), _) => Err(translate(error)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_bound_as_ids_and_labels() {
        let mentions = [
            Mention::Id(chat_domain::UserId(7)),
            Mention::Label("42".to_owned()),
            Mention::Label("bob".to_owned()),
            Mention::Label("007".to_owned()),
        ];
        let (ids, labels) = mention_arrays(&mentions);
        assert_eq!(ids, [Some(7), Some(42), None, None]);
        let labels: Vec<Option<&str>> = labels.iter().map(Option::as_deref).collect();
        assert_eq!(labels, [None, Some("42"), Some("bob"), Some("007")]);
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
