//! The integer ids of the entities: plain numbers the account dialect shows, kept
//! apart from the entities so that entities naming each other's ids (a message and its
//! attachments) do not import each other.

/// The integer id of an account (the account dialect's `account_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub i64);

/// The integer id of a user (the account dialect's member `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// The integer id of a room (the account dialect's `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub i64);

/// The integer id of a message (the account dialect's `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub i64);

/// An attachment's id (the account dialect's integer id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentId(pub i64);
