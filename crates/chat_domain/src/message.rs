//! Messages: what is said in a room, in order.
//!
//! Every message of a room has a `seq`: 1, 2, 3, … with no gaps. Read and delivery
//! positions are kept as `seq`s, so "what is unread" and "who has received what" never
//! need to look through a room's history.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::AccountId;
use crate::conversation::{Person, Pin, ThreadStats};
use crate::file::Attachment;
pub use crate::ids::MessageId;
use crate::reactions::Reactions;
use crate::room::RoomId;
pub use crate::sender::Sender;
use crate::storable;
use crate::user::UserId;
use crate::validation::{FieldError, Problem};

/// How a caller names a message: each dialect by its own kind of id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageRef {
    /// By integer id: the account dialect.
    Id(MessageId),
    /// By UUID: the ChatAPI dialect.
    Uuid(Uuid),
}

/// A message's place in its room: 1 for the first, then 2, 3, … with no gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Seq(pub i64);

/// The text of a message: at most 10,000 characters; at least one unless files come with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content(String);

/// Content longer than the maximum: reported with its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentTooLong {
    /// The most characters content may have ([`Content::MAX_CHARS`]).
    pub max_length: usize,
    /// How many characters the refused content had.
    pub current_length: usize,
}

impl Content {
    /// The most characters content may have.
    pub const MAX_CHARS: usize = 10_000;

    /// Non-blank text of at most [`MAX_CHARS`](Self::MAX_CHARS) characters, kept as
    /// given (not trimmed). Longer text is [`ContentError::TooLong`], checked first;
    /// empty or whitespace-only text is [`ContentError::Invalid`] with
    /// [`Problem::Blank`] on field `content`, and text holding a NUL with
    /// [`Problem::InvalidCharacter`].
    pub fn parse(raw: &str) -> Result<Self, ContentError> {
        Self::parse_allowing_empty(raw, false)
    }

    /// As [`Content::parse`], but empty text is allowed when `has_files`.
    pub fn parse_allowing_empty(raw: &str, has_files: bool) -> Result<Self, ContentError> {
        let length = raw.chars().count();
        if length > Self::MAX_CHARS {
            return Err(ContentError::TooLong(ContentTooLong {
                max_length: Self::MAX_CHARS,
                current_length: length,
            }));
        }
        storable::text("content", raw).map_err(ContentError::Invalid)?;
        if raw.trim().is_empty() && !has_files {
            return Err(ContentError::Invalid(FieldError::new(
                "content",
                Problem::Blank,
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why content was refused. Too long is its own case because the ChatAPI dialect
/// reports it in its own shape, with both lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentError {
    /// More than [`Content::MAX_CHARS`] characters.
    TooLong(ContentTooLong),
    /// Any other problem, as a field error (blank without files, or a NUL).
    Invalid(FieldError),
}

/// What kind of message it is (the ChatAPI dialect's `message_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Plain text, the default.
    Text,
    /// Said by the system, not by a person: sent with the API key, sender `system`.
    System,
    /// Mostly an image: a label chosen by the sender, not checked against its files.
    Image,
    /// Mostly a file: a label chosen by the sender.
    File,
    /// Mostly sound: a label chosen by the sender.
    Audio,
    /// Mostly video: a label chosen by the sender.
    Video,
    /// Any other type the application names (`poll`, `order_update`, …): stored and
    /// filtered on, never interpreted.
    Custom(CustomKind),
}

impl MessageKind {
    /// Every built-in wire name, in the order error messages list them.
    pub const ALL: &'static [&'static str] = &["text", "system", "image", "file", "audio", "video"];

    /// One of the names in [`ALL`](Self::ALL), or any other name matching
    /// [`CustomKind::RULE`] (case matters), else [`Problem::Invalid`] on field
    /// `message_type` naming the rule.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Ok(match raw {
            "text" => MessageKind::Text,
            "system" => MessageKind::System,
            "image" => MessageKind::Image,
            "file" => MessageKind::File,
            "audio" => MessageKind::Audio,
            "video" => MessageKind::Video,
            _ => MessageKind::Custom(CustomKind::parse(raw)?),
        })
    }

    /// The wire name, which [`parse`](Self::parse) reads back.
    pub fn as_str(&self) -> &str {
        match self {
            MessageKind::Text => "text",
            MessageKind::System => "system",
            MessageKind::Image => "image",
            MessageKind::File => "file",
            MessageKind::Audio => "audio",
            MessageKind::Video => "video",
            MessageKind::Custom(custom) => custom.as_str(),
        }
    }
}

/// The name of a custom message type: a lowercase ASCII letter, then up to 31 lowercase
/// ASCII letters, digits or `_` (`[a-z][a-z0-9_]{0,31}`). Kept inline, so a
/// [`MessageKind`] stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomKind {
    len: u8,
    bytes: [u8; CustomKind::MAX_LEN],
}

impl CustomKind {
    /// The most characters a custom type may have.
    pub const MAX_LEN: usize = 32;
    /// The rule a custom type follows, as error messages and the OpenAPI pattern say it.
    pub const RULE: &'static str = "^[a-z][a-z0-9_]{0,31}$";

    /// `raw` if it follows [`RULE`](Self::RULE), else [`Problem::Invalid`] on field
    /// `message_type`. A built-in name also passes: [`MessageKind::parse`] takes those first.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let b = raw.as_bytes();
        let valid = matches!(b.first(), Some(b'a'..=b'z'))
            && b.len() <= Self::MAX_LEN
            && b.iter()
                .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_'));
        if !valid {
            return Err(FieldError::new(
                "message_type",
                Problem::Invalid(format!(
                    "must be one of {} or a custom type matching {}",
                    MessageKind::ALL.join(", "),
                    Self::RULE
                )),
            ));
        }
        let mut bytes = [0; Self::MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        Ok(Self {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever kept, so this never falls back.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for CustomKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CustomKind").field(&self.as_str()).finish()
    }
}

/// The client's own id for a message it sends, so that a retry is recognised:
/// 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EchoId(String);

impl EchoId {
    /// The most characters an echo id may have.
    pub const MAX_CHARS: usize = 255;

    /// Keeps `raw` exactly as given (not trimmed) if it has 1 to
    /// [`MAX_CHARS`](Self::MAX_CHARS) characters. Errors on field `echo_id`:
    /// [`Problem::Blank`] when empty, [`Problem::TooLong`] past the maximum,
    /// [`Problem::InvalidCharacter`] for a NUL.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        storable::text("echo_id", raw)?;
        if raw.is_empty() {
            return Err(FieldError::new("echo_id", Problem::Blank));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "echo_id",
                Problem::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Application data attached to a message: a JSON object of at most 16 KiB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageMeta(Map<String, Value>);

impl MessageMeta {
    /// The most bytes the object may take, serialised as compact JSON.
    pub const MAX_BYTES: usize = 16 * 1024;

    /// Keeps `object` if its compact JSON takes at most [`MAX_BYTES`](Self::MAX_BYTES),
    /// else [`Problem::TooLarge`] on field `meta`, and the database can keep it
    /// ([`storable::json`]), else that error on field `meta`.
    pub fn parse(object: Map<String, Value>) -> Result<Self, FieldError> {
        if Value::Object(object.clone()).to_string().len() > Self::MAX_BYTES {
            return Err(FieldError::new(
                "meta",
                Problem::TooLarge {
                    max_bytes: Self::MAX_BYTES,
                },
            ));
        }
        storable::json("meta", &object)?;
        Ok(Self(object))
    }

    /// The object, to read or render.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The object itself, to store or render.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

/// A message, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its integer id (the account dialect's `id`).
    pub id: MessageId,
    /// Its public id (the ChatAPI dialect's `id`).
    pub uuid: Uuid,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The room it was said in, by integer id.
    pub room_id: RoomId,
    /// The same room, by UUID (the ChatAPI dialect's `room_id`).
    pub room_uuid: Uuid,
    /// Its place in the room.
    pub seq: Seq,
    /// Who said it.
    pub sender: Sender,
    /// The display name the sender gave with it, if any (the ChatAPI `sender_name`).
    pub sender_name: Option<String>,
    /// Its text (empty only when files came with it).
    pub content: Content,
    /// What kind of message it is.
    pub kind: MessageKind,
    /// The application's data about it.
    pub meta: MessageMeta,
    /// The message of the same room it answers, if any.
    pub reply_to: Option<MessageId>,
    /// The sender's own id for it, if the client gave one.
    pub echo_id: Option<EchoId>,
    /// When it was sent.
    pub created_at: OffsetDateTime,
    /// When it was last changed: edited, deleted or restored.
    pub updated_at: OffsetDateTime,
    /// When its content or meta was last edited, if ever.
    pub edited_at: Option<OffsetDateTime>,
    /// When it was deleted, if it is. A deleted message keeps its `seq`.
    pub deleted_at: Option<OffsetDateTime>,
    /// The files sent with it, in the order they came. A deleted message has none.
    pub attachments: Vec<Attachment>,
    /// Who deleted it, while it is deleted ([`Sender::System`]: the API key).
    pub deleted_by: Option<Sender>,
    /// Its replies, summed up.
    pub thread: ThreadStats,
    /// The members of its room it mentions (its sender never), in the order named.
    pub mentions: Vec<Person>,
    /// Its reactions, in the order each emoji was first used.
    pub reactions: Reactions,
    /// Its pin, while it is pinned.
    pub pin: Option<Pin>,
}

impl Message {
    /// Whether it has been deleted (and not restored since).
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// How far one member of a room has got: messages up to `delivered` have reached one of
/// their devices, messages up to `read` they have read. `read` never exceeds `delivered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The member.
    pub user: UserId,
    /// The newest `seq` that has reached one of their devices (0: none yet).
    pub delivered: Seq,
    /// The newest `seq` they have read (0: none yet).
    pub read: Seq,
}

/// A message's delivery state, as its sender sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryStatus {
    /// Stored, but not yet received by every other member.
    Sent,
    /// Received by every other member, not yet read by all of them.
    Delivered,
    /// Read by every other member.
    Read,
}

impl DeliveryStatus {
    /// The wire name: `sent`, `delivered` or `read`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
        }
    }

    /// The status of message `seq` sent by `sender`, over `members` (the room's current
    /// members and their positions): `read` when every member but the sender has read
    /// up to it, `delivered` when every one of them has received it, else `sent`. A
    /// message with nobody else in the room is `sent`.
    ///
    /// Positions only move forward and a member joins with positions at the room's
    /// newest message, so a message's status never goes backwards.
    pub fn of(seq: Seq, sender: Option<UserId>, members: &[Position]) -> Self {
        let mut others = members.iter().filter(|p| Some(p.user) != sender).peekable();
        if others.peek().is_none() {
            return DeliveryStatus::Sent;
        }
        let (mut all_read, mut all_delivered) = (true, true);
        for position in others {
            all_read &= position.read >= seq;
            all_delivered &= position.delivered.max(position.read) >= seq;
        }
        if all_read {
            DeliveryStatus::Read
        } else if all_delivered {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::Sent
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_message_types_follow_the_rule() {
        for ok in ["poll", "a", "order_update_2", &"a".repeat(32)] {
            let kind = MessageKind::parse(ok).map_err(|e| e.to_string());
            assert_eq!(kind.as_ref().map(MessageKind::as_str), Ok(ok), "{ok:?}");
            assert!(matches!(kind, Ok(MessageKind::Custom(_))), "{ok:?}");
        }
        for bad in [
            "",
            "Poll",
            "Poll!",
            "1x",
            "a-b",
            "_a",
            "é",
            "a b",
            &"a".repeat(33),
        ] {
            let error = MessageKind::parse(bad).err();
            assert_eq!(
                error.as_ref().map(|e| e.field),
                Some("message_type"),
                "{bad:?}"
            );
            assert!(
                matches!(&error.map(|e| e.problem), Some(Problem::Invalid(reason)) if reason.contains(CustomKind::RULE)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn built_in_types_stay_built_in() {
        for (name, kind) in [
            ("text", MessageKind::Text),
            ("system", MessageKind::System),
            ("image", MessageKind::Image),
            ("file", MessageKind::File),
            ("audio", MessageKind::Audio),
            ("video", MessageKind::Video),
        ] {
            assert_eq!(MessageKind::parse(name), Ok(kind));
            assert_eq!(kind.as_str(), name);
        }
    }

    fn at(user: i64, delivered: i64, read: i64) -> Position {
        Position {
            user: UserId(user),
            delivered: Seq(delivered),
            read: Seq(read),
        }
    }

    const ALICE: Option<UserId> = Some(UserId(1));

    #[test]
    fn a_sender_alone_in_the_room_sees_sent() {
        assert_eq!(
            DeliveryStatus::of(Seq(3), ALICE, &[at(1, 3, 3)]),
            DeliveryStatus::Sent
        );
        assert_eq!(DeliveryStatus::of(Seq(3), ALICE, &[]), DeliveryStatus::Sent);
    }

    #[test]
    fn sent_until_everyone_else_has_received_it() {
        let members = [at(1, 5, 5), at(2, 5, 5), at(3, 4, 4)];
        assert_eq!(
            DeliveryStatus::of(Seq(5), ALICE, &members),
            DeliveryStatus::Sent
        );
    }

    #[test]
    fn delivered_when_everyone_else_received_it_and_someone_has_not_read_it() {
        let members = [at(1, 5, 5), at(2, 5, 5), at(3, 6, 4)];
        assert_eq!(
            DeliveryStatus::of(Seq(5), ALICE, &members),
            DeliveryStatus::Delivered
        );
    }

    #[test]
    fn read_when_everyone_else_read_it() {
        let members = [at(1, 0, 0), at(2, 5, 5), at(3, 9, 7)];
        assert_eq!(
            DeliveryStatus::of(Seq(5), ALICE, &members),
            DeliveryStatus::Read
        );
    }

    #[test]
    fn the_senders_own_position_does_not_count() {
        let members = [at(1, 0, 0), at(2, 5, 5)];
        assert_eq!(
            DeliveryStatus::of(Seq(5), ALICE, &members),
            DeliveryStatus::Read
        );
    }

    #[test]
    fn reading_implies_receiving() {
        // A read position past a stale delivered position still counts as received.
        let members = [at(1, 5, 5), at(2, 0, 6), at(3, 5, 4)];
        assert_eq!(
            DeliveryStatus::of(Seq(5), ALICE, &members),
            DeliveryStatus::Delivered
        );
    }

    #[test]
    fn system_messages_are_measured_over_every_member() {
        let members = [at(1, 5, 5), at(2, 5, 4)];
        assert_eq!(
            DeliveryStatus::of(Seq(5), None, &members),
            DeliveryStatus::Delivered
        );
        assert_eq!(
            DeliveryStatus::of(Seq(4), None, &members),
            DeliveryStatus::Read
        );
    }

    #[test]
    fn statuses_never_go_backwards_as_positions_advance() {
        let mut members = vec![at(1, 1, 1), at(2, 0, 0), at(3, 0, 0)];
        let mut last = DeliveryStatus::Sent;
        for (user, delivered, read) in [(2, 1, 0), (3, 1, 0), (2, 1, 1), (3, 2, 1)] {
            if let Some(position) = members.iter_mut().find(|p| p.user == UserId(user)) {
                position.delivered = Seq(delivered);
                position.read = Seq(read);
            }
            let now = DeliveryStatus::of(Seq(1), ALICE, &members);
            assert!(now >= last, "{last:?} -> {now:?}");
            last = now;
        }
        assert_eq!(last, DeliveryStatus::Read);
    }

    #[test]
    fn content_is_bounded_and_reports_its_length() {
        assert!(Content::parse("hi").is_ok());
        assert!(Content::parse(&"x".repeat(10_000)).is_ok());
        assert_eq!(
            Content::parse(&"é".repeat(10_001)),
            Err(ContentError::TooLong(ContentTooLong {
                max_length: 10_000,
                current_length: 10_001
            }))
        );
        assert_eq!(
            Content::parse("  "),
            Err(ContentError::Invalid(FieldError::new(
                "content",
                Problem::Blank
            )))
        );
        assert!(Content::parse_allowing_empty("", true).is_ok());
    }

    #[test]
    fn kinds_and_echo_ids_parse_exactly() {
        for raw in MessageKind::ALL {
            assert_eq!(
                MessageKind::parse(raw).as_ref().map(MessageKind::as_str),
                Ok(*raw)
            );
        }
        assert!(MessageKind::parse("Outgoing").is_err());
        assert!(EchoId::parse("temp-msg-12345").is_ok());
        assert!(EchoId::parse("").is_err());
        assert!(EchoId::parse(&"e".repeat(256)).is_err());
    }
}
