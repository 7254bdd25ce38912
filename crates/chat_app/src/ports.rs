//! What the use cases need from the outside world.
//!
//! Every port is `Send + Sync` and async. Each method's documentation says which
//! [`StoreError`] an adapter must return for which case; anything else is
//! [`StoreError::Unavailable`] (the database cannot be reached) or
//! [`StoreError::Unexpected`].

use std::fmt;
use std::pin::Pin;
use std::time::SystemTime;

use async_trait::async_trait;
use chat_domain::{
    Account, AccountId, Content, CredentialKind, ExternalId, FieldError, MemberMeta, Membership,
    Message, MessageId, MessageMeta, MessageRef, PersonName, Position, Problem, Role, Room, RoomId,
    RoomRef, Seq, StorageKey, TokenHash, User, UserId,
};
use futures_core::Stream;

use crate::accounts::{AccountPatch, NewAccount};
use crate::actor::AccountAccess;
use crate::error::{AppError, Conflict, Resource};
use crate::messages::{MessageFilter, NewMessage};
use crate::rooms::{NewRoom, RoomFilter, RoomPatch, Window};
use crate::users::NewUser;

/// How a storage adapter reports failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record addressed does not exist (in that account).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; names the input field that collided.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A capacity rule (a room's `max_participants`) would be broken; nothing changed.
    #[error("limit reached")]
    LimitReached,
    /// The database could not be reached or did not answer in time.
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl StoreError {
    /// The use-case error for this failure, where `NotFound` means `resource` is missing.
    pub fn into_app(self, resource: Resource) -> AppError {
        match self {
            StoreError::NotFound => AppError::NotFound(resource),
            StoreError::Duplicate(field) => FieldError::new(field, Problem::Taken).into(),
            StoreError::LimitReached => AppError::Conflict(Conflict::RoomFull),
            StoreError::Unavailable(e) => AppError::Unavailable(e),
            StoreError::Unexpected(e) => AppError::Unexpected(e),
        }
    }
}

/// Accounts (tenants) and their API keys.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Stores a new account together with the hash of its API key, in one transaction.
    async fn create_account(
        &self,
        new: NewAccount,
        api_key: TokenHash,
    ) -> Result<Account, StoreError>;

    /// The account with this id. `NotFound` when there is none.
    async fn get_account(&self, id: AccountId) -> Result<Account, StoreError>;

    /// Applies the fields present in `patch` and bumps `updated_at`. `NotFound` when
    /// there is no such account.
    async fn update_account(
        &self,
        id: AccountId,
        patch: AccountPatch,
    ) -> Result<Account, StoreError>;

    /// Replaces the account's API key hash in one transaction; the old key stops
    /// matching when it commits. `NotFound` when there is no such account.
    async fn replace_api_key(
        &self,
        id: AccountId,
        api_key: TokenHash,
    ) -> Result<Account, StoreError>;
}

/// Users of an account and their access tokens.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user of `account` with the hash of its access token, in one
    /// transaction. `NotFound` when the account does not exist; `Duplicate("email")`
    /// or `Duplicate("external_id")` when another user of the account has it.
    async fn create_user(
        &self,
        account: AccountId,
        new: NewUser,
        access_token: TokenHash,
    ) -> Result<User, StoreError>;
}

/// Rooms of an account, and who belongs to them. Every method is scoped by `account`:
/// a room of another account is `NotFound`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Stores a new room and, when `creator` is given, makes that user its first member,
    /// in one transaction. `NotFound` when the creator is not a user of the account.
    async fn create_room(
        &self,
        account: AccountId,
        new: NewRoom,
        creator: Option<UserId>,
    ) -> Result<Room, StoreError>;

    /// The room with this id or UUID. `NotFound` when the account has none.
    async fn find_room(&self, account: AccountId, room: RoomRef) -> Result<Room, StoreError>;

    /// One page of the account's rooms that pass `filter`, and how many pass in all.
    async fn list_rooms(
        &self,
        account: AccountId,
        filter: RoomFilter,
    ) -> Result<(Vec<Room>, i64), StoreError>;

    /// Applies the fields present in `patch` and bumps `updated_at`. Answers the room
    /// after, and the key of an avatar the patch replaced or removed (its file is the
    /// caller's to delete, after this commits). `NotFound` when the account has no such
    /// room.
    async fn update_room(
        &self,
        account: AccountId,
        room: RoomId,
        patch: RoomPatch,
    ) -> Result<(Room, Option<StorageKey>), StoreError>;

    /// Sets `is_active` and bumps `updated_at`. `NotFound` when the account has no such room.
    async fn set_room_active(
        &self,
        account: AccountId,
        room: RoomId,
        active: bool,
    ) -> Result<Room, StoreError>;

    /// Deletes the room and everything that belongs to it (members, messages, their
    /// attachments) in one transaction. Answers the keys of the files that belonged to it
    /// (its avatar, its messages' attachments), the caller's to delete after this
    /// commits. `NotFound` when the account has no such room.
    async fn delete_room(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<StorageKey>, StoreError>;

    /// Whether `user` is a member of `room`.
    async fn is_member(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
    ) -> Result<bool, StoreError>;

    /// The members of each of `rooms`, each room's in join order. One query, whatever
    /// the number of rooms.
    async fn members_of(
        &self,
        account: AccountId,
        rooms: Vec<RoomId>,
    ) -> Result<Vec<(RoomId, User)>, StoreError>;
}

/// What a membership change did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChange {
    /// Users who were not members and now are, in the order asked.
    pub added: Vec<UserId>,
    /// Users who were members and no longer are.
    pub removed: Vec<UserId>,
}

/// Who belongs to which room. Every method is scoped by `account`, and every change keeps
/// the room's `member_count` exact in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Adds those of `users` who are not members yet, with `meta`, in one transaction.
    /// With a `limit`, refuses with `LimitReached` (changing nothing) when the room would
    /// then have more than `limit` members; the check holds against concurrent additions
    /// (the room row is locked). `NotFound` when the room or a user is not the account's.
    async fn add_members(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
        meta: MemberMeta,
        limit: Option<u64>,
    ) -> Result<MemberChange, StoreError>;

    /// Adds the user with `external_id` to the room with `meta`, creating that user (an
    /// agent named `name`) when there is none, in ONE transaction: when the room refuses
    /// (`LimitReached`), a user created here is not kept either. Answers the user and
    /// the change (`added` empty when the user was already a member). `NotFound` when
    /// the room is not the account's.
    async fn add_external_member(
        &self,
        account: AccountId,
        room: RoomId,
        external_id: ExternalId,
        name: PersonName,
        meta: MemberMeta,
        limit: Option<u64>,
    ) -> Result<(User, MemberChange), StoreError>;

    /// Removes those of `users` who are members, in one transaction.
    async fn remove_members(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
    ) -> Result<MemberChange, StoreError>;

    /// Makes `users` the room's exact member set in one transaction: adds the missing,
    /// removes the others. `LimitReached` as for `add_members`.
    async fn replace_members(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
        limit: Option<u64>,
    ) -> Result<MemberChange, StoreError>;

    /// One page of the room's memberships in join order, and how many there are.
    async fn list_memberships(
        &self,
        account: AccountId,
        room: RoomId,
        window: Window,
    ) -> Result<(Vec<Membership>, i64), StoreError>;
}

/// Finding users of an account the ways the dialects name them.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The users of the account among `ids`, in the order of `ids`; ids of no user of
    /// the account are left out.
    async fn find_users(
        &self,
        account: AccountId,
        ids: Vec<UserId>,
    ) -> Result<Vec<User>, StoreError>;

    /// The user a ChatAPI `user_id` names: the one with that external id, else the one
    /// whose integer id it is (when that user has no external id). `None` when nobody.
    async fn find_by_chat_id(
        &self,
        account: AccountId,
        chat_id: String,
    ) -> Result<Option<User>, StoreError>;

    /// The user with this external id, created as an agent named `name` if there is
    /// none. Safe against concurrent calls for the same id (one user results).
    async fn ensure_external_user(
        &self,
        account: AccountId,
        external_id: ExternalId,
        name: PersonName,
    ) -> Result<User, StoreError>;
}

/// Messages of rooms, and how far each member has got. Every method is scoped by
/// `account`: a room or message of another account is `NotFound`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a message in ONE transaction: gives it the room's next `seq` (1, 2, 3, …
    /// without gaps, whatever the number of concurrent senders), adds one to the room's
    /// `message_count`, sets its `last_message_at`, and moves a user sender's read and
    /// delivered positions to it. When the same sender already sent `echo_id` in the
    /// room, stores nothing and answers that first message with `false` — guaranteed by
    /// a unique constraint, so it holds across processes. `NotFound` when the room is not
    /// the account's.
    async fn append(
        &self,
        account: AccountId,
        room: RoomId,
        new: NewMessage,
    ) -> Result<(Message, bool), StoreError>;

    /// The message with this id or UUID. `NotFound` when the account has none.
    async fn find_message(
        &self,
        account: AccountId,
        message: MessageRef,
    ) -> Result<Message, StoreError>;

    /// The messages of the account among `ids`, in any order (one query).
    async fn find_messages(
        &self,
        account: AccountId,
        ids: Vec<MessageId>,
    ) -> Result<Vec<Message>, StoreError>;

    /// One page of a room's messages that pass `filter`, and how many pass in all.
    /// Served by indexes on the room: never a scan of its history.
    async fn list_messages(
        &self,
        account: AccountId,
        room: RoomId,
        filter: MessageFilter,
    ) -> Result<(Vec<Message>, i64), StoreError>;

    /// The room `room` names and one page of its messages that pass `filter`, with how
    /// many pass in all — [`MessageStore::list_messages`] for a caller that has not read
    /// the room yet; unfiltered pages cost one round trip. `NotFound` when the account
    /// has no such room.
    async fn room_page(
        &self,
        account: AccountId,
        room: RoomRef,
        filter: MessageFilter,
    ) -> Result<(Room, Vec<Message>, i64), StoreError>;

    /// Replaces the content and/or meta, sets `edited_at` and `updated_at`.
    async fn edit_message(
        &self,
        account: AccountId,
        message: MessageId,
        content: Option<Content>,
        meta: Option<MessageMeta>,
    ) -> Result<Message, StoreError>;

    /// Soft-deletes (`deleted = true`) or restores a message; bumps `updated_at`. A
    /// delete also removes the message's attachments, in the same transaction, and
    /// answers their keys (the caller's to delete after this commits); a restore brings
    /// the text back, not the files.
    async fn set_message_deleted(
        &self,
        account: AccountId,
        message: MessageId,
        deleted: bool,
    ) -> Result<(Message, Vec<StorageKey>), StoreError>;

    /// The positions of every member of the room.
    async fn positions(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<Position>, StoreError>;

    /// Moves `user`'s read position (and delivered, which is never behind it) forward to
    /// `upto`, or to the room's newest message when `None`; never backwards. Answers the
    /// read position after. `NotFound` when `user` is not a member of the room.
    async fn mark_read(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
        upto: Option<Seq>,
    ) -> Result<Seq, StoreError>;

    /// Moves `user`'s delivered position forward to `upto`; never backwards. A user who
    /// is not a member is ignored.
    async fn mark_delivered(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
        upto: Seq,
    ) -> Result<(), StoreError>;

    /// For each of `rooms` that `user` belongs to: the messages after the user's read
    /// position (the room's last `seq` minus it — no counting of history).
    async fn unread_counts(
        &self,
        account: AccountId,
        user: UserId,
        rooms: Vec<RoomId>,
    ) -> Result<Vec<(RoomId, i64)>, StoreError>;
}

/// Who owns a stored credential, and the state of their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialOwner {
    pub kind: CredentialKind,
    pub account: AccountAccess,
    pub account_active: bool,
    /// The user and role, for a user token.
    pub user: Option<(UserId, Role)>,
}

/// Look-up of issued credentials by hash.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// The owner of the credential with this hash, or `None` when no credential has it.
    /// Must be one indexed look-up, whatever the number of credentials.
    async fn find_credential(&self, hash: TokenHash)
    -> Result<Option<CredentialOwner>, StoreError>;
}

/// Connections in the storage pool, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
}

/// Whether storage is reachable, for readiness probes and metrics.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// `Ok` when a round trip to the database succeeds; `Unavailable` otherwise.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The pool's current state, without waiting.
    fn pool_state(&self) -> PoolState;
}

/// The bytes of a stored file, as chunks read on demand.
pub type FileChunks = Pin<Box<dyn Stream<Item = Result<Vec<u8>, std::io::Error>> + Send>>;

/// A stored file opened for reading: its size, and its bytes as a stream, so a large
/// file is never whole in memory.
pub struct StoredFile {
    /// The size in bytes, known before reading (for `Content-Length`).
    pub len: u64,
    /// The bytes in order; an error ends the stream.
    pub chunks: FileChunks,
}

impl fmt::Debug for StoredFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredFile")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Where uploaded files (attachments, room avatars) are kept, by [`StorageKey`].
///
/// Uploads stream in: [`FileStore::create`] hands out a [`FileWriter`] that takes the
/// bytes chunk by chunk, and the file appears under its key only when the writer
/// commits, all at once — a reader never sees half a file, and an upload that fails or
/// is abandoned leaves nothing behind. Committing under a key that already holds a
/// file replaces it.
///
/// Errors: `NotFound` only where a method says so; storage that cannot be reached is
/// `Unavailable`; anything else (I/O, permissions) is `Unexpected`.
///
/// The local-filesystem adapter writes to a hidden partial file and renames it into
/// place. An S3-compatible adapter maps onto the same shape without touching the use
/// cases: `create` starts a multipart upload (`CreateMultipartUpload`), `write` buffers
/// up to the part size and sends `UploadPart`, `commit` sends the last part and
/// `CompleteMultipartUpload` (small files can be one `PutObject`), `abort` sends
/// `AbortMultipartUpload`; `open` is a streamed `GetObject` (its `Content-Length` is
/// `len`), `delete` is `DeleteObject` (already idempotent) and `keys` pages through
/// `ListObjectsV2`. A bucket lifecycle rule on incomplete multipart uploads plays the
/// part of the local adapter's clean-up of abandoned partial files.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Starts writing the file `key`. Nothing is readable under `key` (and an earlier
    /// file there stays as it was) until the writer commits.
    async fn create(&self, key: StorageKey) -> Result<Box<dyn FileWriter>, StoreError>;

    /// Opens the committed file `key` for streaming. `NotFound` when there is none.
    async fn open(&self, key: StorageKey) -> Result<StoredFile, StoreError>;

    /// Deletes the file `key`. A key with no file is `Ok` too, so a retry is harmless.
    async fn delete(&self, key: StorageKey) -> Result<(), StoreError>;

    /// Every committed file, in no particular order; files being written are not
    /// listed. For a sweep of files no attachment or avatar refers to.
    async fn keys(&self) -> Result<Vec<ListedFile>, StoreError>;
}

/// A committed file, as [`FileStore::keys`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    pub key: StorageKey,
    /// When it was last written (committed).
    pub modified: SystemTime,
}

/// Which stored files rows refer to, for the sweep of orphans.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FileIndex: Send + Sync {
    /// Those of `keys` that no attachment and no room avatar refers to. Each key is
    /// looked up within the account it names (`accounts/{id}/…`); a key of no account
    /// is unreferenced.
    async fn unreferenced(&self, keys: Vec<StorageKey>) -> Result<Vec<StorageKey>, StoreError>;
}

/// One file being written to a [`FileStore`]. Either `commit` or `abort` ends it; a
/// writer dropped without either is aborted, as far as the adapter can do without
/// waiting.
#[async_trait]
pub trait FileWriter: Send {
    /// Appends `chunk` to the file.
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError>;

    /// Makes the file durable and visible under its key, all at once. Answers its size
    /// in bytes. On error nothing new is visible and the partial data is removed.
    async fn commit(self: Box<Self>) -> Result<u64, StoreError>;

    /// Discards what was written; nothing becomes visible.
    async fn abort(self: Box<Self>);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_domain::{AccountId, StorageKey};
    use uuid::Uuid;

    /// A writer that only counts, to show the mock can hand out any `FileWriter`.
    struct Counting(u64);

    #[async_trait]
    impl FileWriter for Counting {
        async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
            self.0 += chunk.len() as u64;
            Ok(())
        }
        async fn commit(self: Box<Self>) -> Result<u64, StoreError> {
            Ok(self.0)
        }
        async fn abort(self: Box<Self>) {}
    }

    fn key() -> Result<StorageKey, chat_domain::InvalidStorageKey> {
        StorageKey::for_attachment(AccountId(1), Uuid::nil(), "png")
    }

    #[tokio::test]
    async fn file_store_is_mockable_with_a_streaming_writer()
    -> Result<(), Box<dyn std::error::Error>> {
        let expected = key()?;
        let mut store = MockFileStore::new();
        store
            .expect_create()
            .withf(move |k| *k == expected)
            .times(1)
            .returning(|_| Ok(Box::new(Counting(0))));
        store.expect_open().returning(|_| Err(StoreError::NotFound));

        let mut writer = store.create(key()?).await?;
        writer.write(b"abc").await?;
        writer.write(b"de").await?;
        assert_eq!(writer.commit().await?, 5);
        assert!(matches!(
            store.open(key()?).await,
            Err(StoreError::NotFound)
        ));
        Ok(())
    }
}
