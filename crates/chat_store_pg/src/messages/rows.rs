//! The `messages` row and its conversion to the domain's [`Message`].

use chat_app::StoreError;
use chat_domain::{
    AccountId, Attachment, Content, EchoId, Message, MessageId, MessageKind, MessageMeta, RoomId,
    Sender, Seq, UserId,
};
use diesel::prelude::*;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::corrupt;
use crate::schema::messages;

/// The `sender_label` of system messages.
const SYSTEM_LABEL: &str = "system";

/// One row of `messages`.
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
pub(super) struct MessageRow {
    pub(super) id: i64,
    uuid: Uuid,
    account_id: i64,
    pub(super) room_id: i64,
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
    pub(super) attachment_count: i32,
}

/// A message row, the UUID of its room (read by a join, or already known) and its
/// attachments.
#[derive(Debug)]
pub(super) struct StoredMessage {
    pub(super) row: MessageRow,
    pub(super) room_uuid: Uuid,
    pub(super) attachments: Vec<Attachment>,
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
            deleted_by: None,
            thread: chat_domain::ThreadStats::default(),
            mentions: Vec::new(),
            reactions: Vec::new(),
            pin: None,
        })
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
