//! The chat-rooms domain: entities, value objects and the rules they keep.
//!
//! Everything here is plain Rust. Values that must be valid (a room name, an e-mail
//! address, a role) can only be built through `parse`, so code that holds one never
//! checks it again. Invalid input is reported as [`FieldError`]s, one per field, which
//! each HTTP dialect renders in its own shape.

pub mod account;
pub mod credential;
pub mod file;
pub mod member;
pub mod message;
pub mod room;
pub mod user;
mod validation;

pub use account::{Account, AccountId, AccountName, Description, Features};
pub use credential::{CredentialKind, SecretToken, TokenHash};
pub use file::{
    Attachment, AttachmentId, FileType, InvalidStorageKey, SNIFF_LEN, Sniffed, StorageKey,
    StoredUpload, image_size, sniff,
};
pub use member::{MemberMeta, Membership};
pub use message::{
    Content, ContentError, ContentTooLong, DeliveryStatus, EchoId, Message, MessageId, MessageKind,
    MessageMeta, MessageRef, Position, Sender, Seq,
};
pub use room::{Room, RoomId, RoomMeta, RoomName, RoomRef};
pub use user::{Availability, Email, ExternalId, PersonName, Role, User, UserId};
pub use validation::{FieldError, FieldErrors, Problem};
