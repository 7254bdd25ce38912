//! Rooms of an account and their members.

use async_trait::async_trait;
use chat_domain::{
    AccountId, ExternalId, MemberMeta, Membership, PersonName, Room, RoomId, RoomRef, StorageKey,
    User, UserId,
};

use super::error::StoreError;
use crate::model::{Along, ListedRoom, NewRoom, RoomFilter, RoomPatch, Window};

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

    /// The rooms of the account among `ids`, in any order; ids of no room of the account
    /// are left out. One query, whatever the number of rooms.
    async fn find_rooms(
        &self,
        account: AccountId,
        ids: Vec<RoomId>,
    ) -> Result<Vec<Room>, StoreError>;

    /// One page of the account's rooms that pass `filter`, each with what `along` asks
    /// for, and how many pass in all. One unit of work: however much comes along, one
    /// connection and one blocking task.
    async fn list_rooms(
        &self,
        account: AccountId,
        filter: RoomFilter,
        along: Along,
    ) -> Result<(Vec<ListedRoom>, i64), StoreError>;

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

    /// Those of `users` who are members of `room`, in the order given, each once; none
    /// when the account has no such room. One query, whatever the number of users.
    /// (Presence kept outside the database asks it: which users with a live stream of all
    /// their rooms belong to this one.)
    async fn members_among(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError>;

    /// `user`'s membership of `room` (when they joined, its meta), if they are a member.
    async fn find_membership(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError>;

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
