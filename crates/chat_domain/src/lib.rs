//! The chat-rooms domain: entities, value objects and the rules they keep.
//!
//! Everything here is plain Rust. Values that must be valid (a room name, an e-mail
//! address, a role) can only be built through `parse`, so code that holds one never
//! checks it again. Invalid input is reported as [`FieldError`]s, one per field, which
//! each HTTP dialect renders in its own shape.
//!
//! ```
//! use chat_domain::{Content, ContentError, EchoId, FieldErrors, MessageKind, Problem, RoomName};
//!
//! // Valid input: the value you get back needs no further checking.
//! let name = RoomName::parse("  Support ")?;
//! assert_eq!(name.as_str(), "Support"); // trimmed
//! let kind = MessageKind::parse("text")?;
//! assert_eq!(kind, MessageKind::Text);
//! let content = Content::parse("Hello, room!");
//! assert_eq!(content.as_ref().map(Content::as_str), Ok("Hello, room!"));
//!
//! // Bad input: each error names its field, so all of them can be reported at once.
//! let mut errors = FieldErrors::new();
//! errors.collect(RoomName::parse("   "));
//! errors.collect(MessageKind::parse("Shout!"));
//! errors.collect(EchoId::parse(""));
//! let fields: Vec<&str> = errors.iter().map(|error| error.field).collect();
//! assert_eq!(fields, ["name", "message_type", "echo_id"]);
//! let first = errors.iter().next().map(ToString::to_string);
//! assert_eq!(first.as_deref(), Some("name can't be blank"));
//! assert!(errors.into_result().is_err());
//!
//! // A message's text: too long is reported with both lengths; blank is a field
//! // error, unless files come with the message.
//! let long = "x".repeat(Content::MAX_CHARS + 1);
//! assert!(matches!(
//!     Content::parse(&long),
//!     Err(ContentError::TooLong(e)) if e.max_length == 10_000 && e.current_length == 10_001
//! ));
//! assert!(matches!(
//!     Content::parse(" "),
//!     Err(ContentError::Invalid(e)) if e.field == "content" && e.problem == Problem::Blank
//! ));
//! assert!(Content::parse_allowing_empty("", true).is_ok());
//! # Ok::<(), chat_domain::FieldError>(())
//! ```

#![warn(missing_docs)]

pub mod account;
pub mod conversation;
pub mod credential;
pub mod file;
mod ids;
pub mod member;
pub mod message;
pub mod permission;
pub mod reactions;
pub mod room;
pub mod sender;
pub mod storable;
mod text;
pub mod user;
mod validation;
pub mod webhook;

pub use account::{Account, AccountId, AccountName, Description, Features};
pub use conversation::{
    Emoji, MAX_EMOJI_PER_MESSAGE, MAX_MENTIONS, Person, Pin, Reaction, ThreadStats,
};
pub use credential::{CredentialKind, EntropyUnavailable, SecretToken, TokenHash};
pub use file::{
    Attachment, AttachmentId, FileType, InvalidStorageKey, SNIFF_LEN, Sniffed, StorageKey,
    StoredUpload, image_size, sniff,
};
pub use member::{MemberMeta, Membership};
pub use message::{
    Content, ContentError, ContentTooLong, CustomKind, DeliveryStatus, EchoId, Message, MessageId,
    MessageKind, MessageMeta, MessageRef, Position, Sender, Seq,
};
pub use permission::{Permission, Permissions};
pub use reactions::{InvalidReaction, ReactionRef, Reactions};
pub use room::{Room, RoomId, RoomMeta, RoomName, RoomRef};
pub use user::{Availability, Email, ExternalId, PersonName, Role, User, UserId, UserMeta};
pub use validation::{FieldError, FieldErrors, Problem};
pub use webhook::{
    CustomHeaders, DEACTIVATE_AFTER_FAILURES, RetrySchedule, Webhook, WebhookEvent, WebhookEvents,
    WebhookId, WebhookMeta, WebhookSecret, WebhookUrl,
};
