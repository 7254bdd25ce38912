//! A new message as it travels with its `message_created` notice: what a message has
//! when it was just sent, so that the receiving nodes deliver it without reading it back.
//!
//! Only a message as sending makes it travels: text, kind, meta, reply, echo id and
//! mentions. One that already has more (files, reactions, a pin, replies, an edit, a
//! deletion) is named by its `seq` alone and read from the tables, as is one whose wire
//! form does not decode: a notice never delivers less than the tables hold.

use chat_domain::{
    AccountId, Content, EchoId, Message, MessageId, MessageKind, MessageMeta, Person, Reactions,
    RoomId, Sender, Seq, ThreadStats, UserId,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

/// A just-sent [`Message`] with plain values; the account, room and `seq` are the
/// notice's.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireMessage {
    id: i64,
    uuid: Uuid,
    room_uuid: Uuid,
    /// The user who sent it; absent for the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sender: Option<WirePerson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sender_name: Option<String>,
    content: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    meta: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    echo_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<WirePerson>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WirePerson {
    id: i64,
    label: String,
}

impl WirePerson {
    fn of(person: &Person) -> Self {
        Self {
            id: person.id.0,
            label: person.label.clone(),
        }
    }

    fn into_person(self) -> Person {
        Person {
            id: UserId(self.id),
            label: self.label,
        }
    }
}

impl WireMessage {
    /// The wire form of `message`, when it is as sending makes it; `None` when it has
    /// anything the wire form leaves out (it is then read from the tables).
    pub(crate) fn of(message: &Message) -> Option<Self> {
        let just_sent = message.attachments.is_empty()
            && message.edited_at.is_none()
            && message.deleted_at.is_none()
            && message.deleted_by.is_none()
            && message.thread == ThreadStats::default()
            && message.reactions.is_empty()
            && message.pin.is_none();
        if !just_sent {
            return None;
        }
        Some(Self {
            id: message.id.0,
            uuid: message.uuid,
            room_uuid: message.room_uuid,
            sender: match &message.sender {
                Sender::User { id, label } => Some(WirePerson {
                    id: id.0,
                    label: label.clone(),
                }),
                Sender::System => None,
            },
            sender_name: message.sender_name.clone(),
            content: message.content.as_str().to_owned(),
            kind: message.kind.as_str().to_owned(),
            meta: message.meta.as_map().clone(),
            reply_to: message.reply_to.map(|id| id.0),
            echo_id: message.echo_id.as_ref().map(|e| e.as_str().to_owned()),
            created_at: message.created_at,
            updated_at: message.updated_at,
            mentions: message.mentions.iter().map(WirePerson::of).collect(),
        })
    }

    /// The message of `account`'s `room` at `seq` this form carries; `None` when a
    /// field is not valid (the notice then names the message by `seq` alone).
    pub(crate) fn into_message(
        self,
        account: AccountId,
        room: RoomId,
        seq: Seq,
    ) -> Option<Message> {
        Some(Message {
            id: MessageId(self.id),
            uuid: self.uuid,
            account_id: account,
            room_id: room,
            room_uuid: self.room_uuid,
            seq,
            sender: match self.sender {
                Some(person) => Sender::User {
                    id: UserId(person.id),
                    label: person.label,
                },
                None => Sender::System,
            },
            sender_name: self.sender_name,
            // As the tables' rows are read: a message sent with files only has no text.
            content: Content::parse_allowing_empty(&self.content, true).ok()?,
            kind: MessageKind::parse(&self.kind).ok()?,
            meta: MessageMeta::parse(self.meta).ok()?,
            reply_to: self.reply_to.map(MessageId),
            echo_id: match self.echo_id {
                Some(echo) => Some(EchoId::parse(&echo).ok()?),
                None => None,
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            edited_at: None,
            deleted_at: None,
            attachments: Vec::new(),
            deleted_by: None,
            thread: ThreadStats::default(),
            mentions: self
                .mentions
                .into_iter()
                .map(WirePerson::into_person)
                .collect(),
            reactions: Reactions::default(),
            pin: None,
        })
    }
}

/// Reads a carried message leniently: one that does not decode (a later version's, say)
/// is `None`, and the notice still names the message by its `seq`.
pub(crate) fn lenient<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<WireMessage>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(WireMessage::deserialize(value).ok())
}

#[cfg(test)]
// Tests stop at the first surprise, with the reason.
#[allow(clippy::expect_used)]
mod tests;
