//! Messages: what a caller asks to send or list, and what the store is asked to keep.

use chat_domain::{
    Content, EchoId, ExternalId, FieldError, FieldErrors, MessageId, MessageKind, MessageMeta,
    MessageRef, PersonName, Problem, Sender, Seq, StoredUpload,
};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::AppError;
use crate::model::conversations::Mention;
use crate::model::paging::Window;

/// What the store is asked to keep: a message whose sender is settled.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Who speaks: a user, or the system.
    pub sender: Sender,
    /// The name shown for the sender.
    pub sender_name: Option<String>,
    /// The text.
    pub content: Content,
    /// Its kind (`text`, `system`, ...).
    pub kind: MessageKind,
    /// The integrator's meta object.
    pub meta: MessageMeta,
    /// The message it replies to, of the same room.
    pub reply_to: Option<MessageId>,
    /// The client's id for the send, which makes a retry harmless.
    pub echo_id: Option<EchoId>,
    /// Files received for it, stored already; the store attaches them in the same
    /// transaction as the message.
    pub attachments: Vec<StoredUpload>,
    /// The users it mentions, as the dialect named them. The store keeps those who are
    /// members of the room (the sender never), each once, in the order named.
    pub mentions: Vec<Mention>,
}

/// The user a send speaks as, as the caller named them: by id (a user's own credential)
/// or by ChatAPI `user_id` (the API key's `sender_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speaker {
    /// The user with this id.
    Id(chat_domain::UserId),
    /// The user a ChatAPI `user_id` names (as [`crate::UserDirectory::find_by_chat_id`]).
    ChatId(String),
}

/// What a send reads before it stores anything: the room, the speaker (when one was
/// named and is a user of the account) with whether they belong to the room, and the
/// message it replies to (when one was named and the account has it).
#[derive(Debug, Clone, PartialEq)]
pub struct SendContext {
    /// The room sent to.
    pub room: chat_domain::Room,
    /// The speaker, and whether they are a member of the room.
    pub speaker: Option<(chat_domain::User, bool)>,
    /// The message replied to: its id, and its room.
    pub replied: Option<(MessageId, chat_domain::RoomId)>,
}

/// The use case's rules of a send, which the store runs between reading the
/// [`SendContext`] and storing ([`crate::MessageStore::send`]): the message to store, or
/// why the send is refused. They only decide; they read and write nothing.
pub type SendRules = Box<dyn FnOnce(&SendContext) -> Result<NewMessage, AppError> + Send>;

/// A send that [`crate::MessageStore::send`] stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The room, as the send read it.
    pub room: chat_domain::Room,
    /// The message.
    pub message: chat_domain::Message,
    /// `false` when the send repeated an `echo_id`: `message` is the first one.
    pub created: bool,
}

/// A valid request to send a message. Who speaks is settled by the use case: a user
/// token speaks as its user; the API key speaks as the participant `sender_id`, or as
/// the system for `system` messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The participant the API key speaks as (its ChatAPI `user_id`).
    pub sender_id: Option<ExternalId>,
    /// The name to show for the sender (the API key only; a user speaks under its own name).
    pub sender_name: Option<PersonName>,
    /// The text.
    pub content: Content,
    /// Its kind; `text` when not given.
    pub kind: MessageKind,
    /// The integrator's meta object.
    pub meta: MessageMeta,
    /// The message it replies to.
    pub reply_to: Option<MessageRef>,
    /// The client's id for the send, which makes a retry harmless.
    pub echo_id: Option<EchoId>,
    /// The users it mentions (at most [`chat_domain::MAX_MENTIONS`]).
    pub mentions: Vec<Mention>,
}

/// The raw fields of a message to send, as a dialect received them.
#[derive(Debug, Clone, Default)]
pub struct RawOutgoing<'a> {
    /// `sender_id`.
    pub sender_id: Option<&'a str>,
    /// `sender_name`.
    pub sender_name: Option<&'a str>,
    /// `content`.
    pub content: Option<&'a str>,
    /// `message_type`.
    pub message_type: Option<&'a str>,
    /// `meta`.
    pub meta: Option<Map<String, Value>>,
    /// `reply_to`, resolved to a message reference.
    pub reply_to: Option<MessageRef>,
    /// `echo_id`.
    pub echo_id: Option<&'a str>,
    /// Files come with the message: its text may then be empty.
    pub has_files: bool,
    /// The users it mentions, as the dialect read them (`meta.mentions`,
    /// `content_attributes.mentions`); more than [`chat_domain::MAX_MENTIONS`] is refused
    /// on field `mentions`.
    pub mentions: Vec<Mention>,
}

impl Outgoing {
    /// Checks raw input: every bad field at once, or `ContentTooLong` (with the lengths)
    /// when the content is the only problem.
    pub fn parse(raw: RawOutgoing<'_>) -> Result<Self, AppError> {
        let mut errors = FieldErrors::new();
        // `system` is the sender of system messages, not a user.
        let sender_id = raw
            .sender_id
            .filter(|s| *s != ExternalId::SYSTEM)
            .and_then(|s| errors.collect(ExternalId::parse_field("sender_id", s)));
        let sender_name = raw.sender_name.and_then(|s| {
            errors.collect(
                PersonName::parse(s).map_err(|e| FieldError::new("sender_name", e.problem)),
            )
        });
        let kind = match raw.message_type {
            None => Some(MessageKind::Text),
            Some(raw) => errors.collect(MessageKind::parse(raw)),
        };
        // The ChatAPI dialect names mentions in `meta.mentions`; the account dialect
        // gives them (from `content_attributes.mentions`).
        let mentions = match (raw.meta.as_ref(), raw.mentions.is_empty()) {
            (Some(meta), true) => errors.collect(Mention::from_meta(meta)).unwrap_or_default(),
            _ => raw.mentions,
        };
        let meta = match raw.meta {
            None => Some(MessageMeta::default()),
            Some(object) => errors.collect(MessageMeta::parse(object)),
        };
        let echo_id = raw.echo_id.and_then(|s| errors.collect(EchoId::parse(s)));
        if mentions.len() > chat_domain::MAX_MENTIONS {
            errors.push(FieldError::new(
                "mentions",
                Problem::Invalid(format!("at most {} users", chat_domain::MAX_MENTIONS)),
            ));
        }
        let content = Content::parse_allowing_empty(raw.content.unwrap_or_default(), raw.has_files);
        let content = match content {
            Ok(content) => Some(content),
            Err(chat_domain::ContentError::Invalid(field)) => {
                errors.push(field);
                None
            }
            Err(chat_domain::ContentError::TooLong(too_long)) if errors.is_empty() => {
                return Err(AppError::ContentTooLong(too_long));
            }
            Err(chat_domain::ContentError::TooLong(too_long)) => {
                errors.push(FieldError::new(
                    "content",
                    Problem::TooLong {
                        max: too_long.max_length,
                    },
                ));
                None
            }
        };
        match (content, kind, meta) {
            (Some(content), Some(kind), Some(meta)) if errors.is_empty() => Ok(Self {
                sender_id,
                sender_name,
                content,
                kind,
                meta,
                reply_to: raw.reply_to,
                echo_id,
                mentions,
            }),
            _ => Err(errors.into()),
        }
    }
}

/// The orders a message list comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageOrder {
    /// Newest first (the account dialect's default).
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// What the store is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageFilter {
    /// The ChatAPI `sender_id` (`system` for system messages).
    pub sender: Option<String>,
    /// Only messages of this kind.
    pub kind: Option<MessageKind>,
    /// Only messages created after this instant.
    pub created_after: Option<OffsetDateTime>,
    /// Only messages created before this instant.
    pub created_before: Option<OffsetDateTime>,
    /// Case-insensitive text in the content.
    pub search: Option<String>,
    /// Also soft-deleted messages.
    pub include_deleted: bool,
    /// Only messages with a larger `seq` (keyset cursor).
    pub after_seq: Option<Seq>,
    /// Only messages with a smaller `seq` (keyset cursor).
    pub before_seq: Option<Seq>,
    /// The order of the page.
    pub order: MessageOrder,
    /// Which slice of the result.
    pub window: Window,
}

impl MessageFilter {
    /// The newest messages first, nothing filtered: the account dialect's list.
    pub fn newest(window: Window) -> Self {
        Self {
            sender: None,
            kind: None,
            created_after: None,
            created_before: None,
            search: None,
            include_deleted: false,
            after_seq: None,
            before_seq: None,
            order: MessageOrder::NewestFirst,
            window,
        }
    }
}

/// What a member has not read in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Unread {
    /// Messages after their read position (other people's).
    pub messages: i64,
    /// Of those, the ones that mention them.
    pub mentions: i64,
}

/// How much of a message to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageDetail {
    /// The message itself (the ChatAPI dialect).
    Summary,
    /// Also its sender, the message it replies to and its delivery status (the account dialect).
    Rich,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_too_long_is_its_own_error_unless_other_fields_are_bad_too() {
        let long = "x".repeat(10_001);
        let alone = Outgoing::parse(RawOutgoing {
            content: Some(&long),
            ..RawOutgoing::default()
        });
        assert!(matches!(alone, Err(AppError::ContentTooLong(t)) if t.current_length == 10_001));
        let with_others = Outgoing::parse(RawOutgoing {
            content: Some(&long),
            message_type: Some("Outgoing"),
            ..RawOutgoing::default()
        });
        let fields = match with_others {
            Err(AppError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
            _ => Vec::new(),
        };
        assert_eq!(fields, ["message_type", "content"]);
    }

    #[test]
    fn a_nul_in_any_text_or_in_meta_is_refused_naming_each_field() {
        let meta = serde_json::json!({ "k": ["\u{0}"] }).as_object().cloned();
        let refused = Outgoing::parse(RawOutgoing {
            sender_id: Some("b\u{0}b"),
            sender_name: Some("B\u{0}"),
            content: Some("h\u{0}i"),
            meta,
            echo_id: Some("\u{0}"),
            ..RawOutgoing::default()
        });
        let problems: Vec<_> = match refused {
            Err(AppError::Invalid(errors)) => errors
                .iter()
                .map(|e| (e.field, e.problem.clone()))
                .collect(),
            other => panic!("{other:?}"),
        };
        let nul = Problem::InvalidCharacter;
        assert_eq!(
            problems,
            [
                ("sender_id", nul.clone()),
                ("sender_name", nul.clone()),
                ("meta", nul.clone()),
                ("echo_id", nul.clone()),
                ("content", nul),
            ]
        );
    }

    #[test]
    fn a_message_with_only_files_may_have_empty_text() {
        let out = Outgoing::parse(RawOutgoing {
            content: Some(""),
            has_files: true,
            ..RawOutgoing::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.content.as_str(), "");
        let empty = Outgoing::parse(RawOutgoing {
            content: Some(""),
            ..RawOutgoing::default()
        });
        assert!(matches!(empty, Err(AppError::Invalid(_))), "{empty:?}");
    }
}
