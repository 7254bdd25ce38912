//! The `messages` row and its conversion to the domain's [`Message`].

use chat_app::StoreError;
use chat_domain::{
    AccountId, Attachment, Content, EchoId, Message, MessageId, MessageKind, MessageMeta, Person,
    Pin, Reactions, RoomId, Sender, Seq, ThreadStats, UserId,
};
use diesel::prelude::*;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::corrupt;
use crate::schema::messages;

/// The `sender_label` (and `pinned_by_label`, `deleted_by_label`) of the system.
pub(crate) const SYSTEM_LABEL: &str = "system";

/// One row of `messages` (all but its search columns).
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MessageRow {
    pub(crate) id: i64,
    uuid: Uuid,
    pub(crate) account_id: i64,
    pub(crate) room_id: i64,
    pub(crate) seq: i64,
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
    pub(crate) attachment_count: i32,
    reply_count: i32,
    last_reply_at: Option<OffsetDateTime>,
    mentions: Vec<i64>,
    mention_labels: Vec<String>,
    /// The reaction summary, in the stored form of [`Reactions`] (built in SQL from
    /// `message_reactions` by `conversations::reactions`).
    reactions: String,
    pinned_at: Option<OffsetDateTime>,
    pinned_by_user_id: Option<i64>,
    pinned_by_label: Option<String>,
    deleted_by_user_id: Option<i64>,
    deleted_by_label: Option<String>,
}

/// The columns of [`MessageRow`], for statements written in SQL (`RETURNING`), each
/// prefixed with `m.` by [`message_columns`].
const MESSAGE_COLUMNS: &[&str] = &[
    "id",
    "uuid",
    "account_id",
    "room_id",
    "seq",
    "sender_user_id",
    "sender_label",
    "sender_name",
    "content",
    "message_type",
    "meta",
    "reply_to_id",
    "echo_id",
    "created_at",
    "updated_at",
    "edited_at",
    "deleted_at",
    "attachment_count",
    "reply_count",
    "last_reply_at",
    "mentions",
    "mention_labels",
    "reactions",
    "pinned_at",
    "pinned_by_user_id",
    "pinned_by_label",
    "deleted_by_user_id",
    "deleted_by_label",
];

/// The columns of [`MessageRow`] as a select list, each qualified by `alias`
/// (`m.id, m.uuid, ...`): what SQL statements read a message with (never the search
/// vector, which nothing renders).
pub(crate) fn message_columns(alias: &str) -> String {
    MESSAGE_COLUMNS
        .iter()
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A message row, the UUID of its room (read by a join, or already known) and its
/// attachments.
#[derive(Debug)]
pub(crate) struct StoredMessage {
    pub(crate) row: MessageRow,
    pub(crate) room_uuid: Uuid,
    pub(crate) attachments: Vec<Attachment>,
}

/// Who a `(user, label)` pair of columns names: the system (`NULL`, `'system'`) or a user.
fn sender_of(user: Option<i64>, label: &str) -> Result<Sender, String> {
    match (user, label) {
        (None, SYSTEM_LABEL) => Ok(Sender::System),
        (Some(id), label) if label != SYSTEM_LABEL && !label.is_empty() => Ok(Sender::User {
            id: UserId(id),
            label: label.to_owned(),
        }),
        (user, label) => Err(format!("label {label:?} does not fit user {user:?}")),
    }
}

/// The pin columns: all NULL (not pinned), or a time and who pinned it.
fn pin_of(
    at: Option<OffsetDateTime>,
    user: Option<i64>,
    label: Option<&str>,
) -> Result<Option<Pin>, String> {
    match (at, label) {
        (None, None) if user.is_none() => Ok(None),
        (Some(pinned_at), Some(label)) => Ok(Some(Pin {
            pinned_at,
            pinned_by: sender_of(user, label).map_err(|e| format!("pinned by: {e}"))?,
        })),
        _ => Err(format!("pin {at:?} by {user:?} {label:?}")),
    }
}

/// The `deleted_by` columns: NULL while not deleted (and for messages deleted before
/// they were kept).
fn deleted_by_of(
    deleted: bool,
    user: Option<i64>,
    label: Option<&str>,
) -> Result<Option<Sender>, String> {
    match (deleted, label) {
        (_, None) if user.is_none() => Ok(None),
        (true, Some(label)) => sender_of(user, label)
            .map(Some)
            .map_err(|e| format!("deleted by: {e}")),
        _ => Err(format!("deleted by {user:?} {label:?}, deleted: {deleted}")),
    }
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
        let sender = sender_of(row.sender_user_id, &row.sender_label)
            .map_err(|e| invalid(format!("sender: {e}")))?;
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
        if row.mentions.len() != row.mention_labels.len() {
            return Err(invalid(
                "mentions and their labels differ in length".to_owned(),
            ));
        }
        let mentions = row
            .mentions
            .iter()
            .zip(row.mention_labels)
            .map(|(id, label)| Person {
                id: UserId(*id),
                label,
            })
            .collect();
        let reactions =
            Reactions::from_stored(row.reactions).map_err(|e| invalid(e.to_string()))?;
        let pin = pin_of(
            row.pinned_at,
            row.pinned_by_user_id,
            row.pinned_by_label.as_deref(),
        )
        .map_err(invalid)?;
        let deleted_by = deleted_by_of(
            row.deleted_at.is_some(),
            row.deleted_by_user_id,
            row.deleted_by_label.as_deref(),
        )
        .map_err(invalid)?;
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
            deleted_by,
            thread: ThreadStats {
                reply_count: i64::from(row.reply_count),
                last_reply_at: row.last_reply_at,
            },
            mentions,
            reactions,
            pin,
        })
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{Emoji, Reaction};

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
            reply_count: 0,
            last_reply_at: None,
            mentions: Vec::new(),
            mention_labels: Vec::new(),
            reactions: String::new(),
            pinned_at: None,
            pinned_by_user_id: None,
            pinned_by_label: None,
            deleted_by_user_id: None,
            deleted_by_label: None,
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
    fn threads_mentions_reactions_pins_and_deleters_are_read() {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(60);
        let message = valid(MessageRow {
            reply_count: 2,
            last_reply_at: Some(at),
            mentions: vec![5, 6],
            mention_labels: vec!["bob".to_owned(), "6".to_owned()],
            reactions: "👍\t5\x1fbob\t4\x1fuser_4\n:tada:\t6\x1f6\n".to_owned(),
            pinned_at: Some(at),
            pinned_by_user_id: None,
            pinned_by_label: Some("system".to_owned()),
            deleted_at: Some(at),
            deleted_by_user_id: Some(5),
            deleted_by_label: Some("bob".to_owned()),
            ..row()
        });
        let person = |id, label: &str| Person {
            id: UserId(id),
            label: label.to_owned(),
        };
        assert_eq!(
            message.thread,
            ThreadStats {
                reply_count: 2,
                last_reply_at: Some(at)
            }
        );
        assert_eq!(message.mentions, [person(5, "bob"), person(6, "6")]);
        let emoji = |e| Emoji::parse(e).unwrap_or_else(|error| panic!("{e}: {error}"));
        assert_eq!(
            message.reactions.to_vec(),
            [
                Reaction {
                    emoji: emoji("👍"),
                    users: vec![person(5, "bob"), person(4, "user_4")]
                },
                Reaction {
                    emoji: emoji(":tada:"),
                    users: vec![person(6, "6")]
                },
            ]
        );
        assert_eq!(
            message.pin,
            Some(Pin {
                pinned_at: at,
                pinned_by: Sender::System
            })
        );
        assert_eq!(
            message.deleted_by,
            Some(Sender::User {
                id: UserId(5),
                label: "bob".to_owned()
            })
        );

        // A plain message: none of it. A message deleted before deleters were kept: none.
        let plain = valid(row());
        assert_eq!(plain.thread, ThreadStats::default());
        assert!(plain.mentions.is_empty() && plain.reactions.is_empty());
        assert_eq!((plain.pin, plain.deleted_by), (None, None));
        let old = valid(MessageRow {
            deleted_at: Some(at),
            ..row()
        });
        assert_eq!(old.deleted_by, None);
        let pinned = valid(MessageRow {
            pinned_at: Some(at),
            pinned_by_user_id: Some(4),
            pinned_by_label: Some("user_4".to_owned()),
            ..row()
        });
        assert_eq!(
            pinned.pin.map(|pin| pin.pinned_by),
            Some(Sender::User {
                id: UserId(4),
                label: "user_4".to_owned()
            })
        );
    }

    #[test]
    fn stored_conversation_columns_the_domain_rejects_are_unexpected() {
        let at = Some(OffsetDateTime::UNIX_EPOCH);
        for bad in [
            MessageRow {
                mentions: vec![5],
                ..row()
            },
            MessageRow {
                reactions: r#"[{"emoji": "👍", "users": [[5, "bob"]]}]"#.to_owned(),
                ..row()
            },
            MessageRow {
                reactions: "ok\t5\x1fbob\n".to_owned(),
                ..row()
            },
            MessageRow {
                pinned_at: at,
                ..row()
            },
            MessageRow {
                pinned_by_label: Some("system".to_owned()),
                ..row()
            },
            MessageRow {
                pinned_at: at,
                pinned_by_user_id: Some(4),
                pinned_by_label: Some("system".to_owned()),
                ..row()
            },
            MessageRow {
                deleted_by_label: Some("system".to_owned()),
                ..row()
            },
            MessageRow {
                deleted_at: at,
                deleted_by_user_id: Some(4),
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
    fn sql_statements_read_every_column_of_the_row() {
        let columns = message_columns("m");
        assert!(columns.starts_with("m.id, m.uuid, "), "{columns}");
        assert!(columns.ends_with("m.deleted_by_label"), "{columns}");
        // The same columns as the row's derived selection, in the same order.
        let derived = diesel::debug_query::<diesel::pg::Pg, _>(
            &messages::table.select(MessageRow::as_select()),
        )
        .to_string();
        let derived: Vec<&str> = derived
            .split("\"messages\".\"")
            .skip(1)
            .filter_map(|column| column.split('"').next())
            .collect();
        assert_eq!(derived, MESSAGE_COLUMNS);
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
                message_type: "Outgoing".to_owned(),
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
}
