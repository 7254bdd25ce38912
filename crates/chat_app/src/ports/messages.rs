//! Messages of rooms, and how far each member has got.

use async_trait::async_trait;
use chat_domain::{
    AccountId, Content, Message, MessageId, MessageMeta, MessageRef, Position, Room, RoomId,
    RoomRef, Seq, StorageKey, UserId,
};

use super::error::StoreError;
use crate::error::AppError;
use crate::model::{MessageFilter, SendRules, Sent, Speaker, Unread};

/// That a member's socket was handed the room's messages up to `upto`, for
/// [`MessageStore::mark_delivered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredMark {
    /// The room.
    pub room: RoomId,
    /// The member.
    pub user: UserId,
    /// The newest message delivered.
    pub upto: Seq,
}

/// Messages of rooms, and how far each member has got. Every method is scoped by
/// `account`: a room or message of another account is `NotFound`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// A send as one unit of work, in one round of the store: reads what the send needs
    /// ([`SendContext`](crate::SendContext): the room `room` names, the user `speaker` names — a deleted user
    /// is nobody — with whether they are a member of it, the message `reply_to` names),
    /// runs `rules` on it, and stores the message they answer. `Ok(Err(refusal))` when the
    /// rules refuse the send: nothing is stored. `NotFound` when the account has no such
    /// room (the rules are not run).
    ///
    /// The message is stored in ONE transaction (which it may share with other sends that
    /// arrive at the same moment, group commit; a send never fails for another's fault):
    /// it gets the room's next `seq` (1, 2, 3, … without gaps, whatever the number of
    /// concurrent senders), the room's `message_count` grows by one and its
    /// `last_message_at` is set, and a user sender's read and delivered positions move to
    /// it. When the same sender already sent `echo_id` in the room, nothing is stored and
    /// the first message is answered (`created: false`) — guaranteed by a unique
    /// constraint, so it holds across processes.
    async fn send(
        &self,
        account: AccountId,
        room: RoomRef,
        speaker: Option<Speaker>,
        reply_to: Option<MessageRef>,
        rules: SendRules,
    ) -> Result<Result<Sent, AppError>, StoreError>;

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

    /// Soft-deletes (`deleted = true`, recording `by` as `deleted_by`: the user, with
    /// their current ChatAPI `user_id` as label, or the system for `None`) or restores a
    /// message (clearing `deleted_by`); bumps `updated_at`. In the same transaction: a
    /// delete removes the message's attachments and answers their keys (the caller's to
    /// delete after this commits), a restore brings the text back, not the files; the
    /// parent of a reply has its `reply_count` (and `last_reply_at`) kept.
    async fn set_message_deleted(
        &self,
        account: AccountId,
        message: MessageId,
        deleted: bool,
        by: Option<UserId>,
    ) -> Result<(Message, Vec<StorageKey>), StoreError>;

    /// The positions of every member of the room.
    async fn positions(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<Position>, StoreError>;

    /// Moves `user`'s read position (and delivered, which is never behind it) forward to
    /// `upto`, or to the room's newest message when `None`; never backwards; re-counts
    /// the user's unread mentions in the room from the new position. Answers the read
    /// position after. `NotFound` when `user` is not a member of the room.
    async fn mark_read(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
        upto: Option<Seq>,
    ) -> Result<Seq, StoreError>;

    /// Moves delivered positions of `account`'s members forward, each to its mark's
    /// `upto` but never past the room's newest message; never backwards. A mark of a
    /// user who is not a member of the room is ignored; of one member twice, the
    /// furthest counts. The whole batch at once: a node writes what its sockets
    /// delivered in one statement, not one per member.
    async fn mark_delivered(
        &self,
        account: AccountId,
        marks: Vec<DeliveredMark>,
    ) -> Result<(), StoreError>;

    /// For each of `rooms` that `user` belongs to: the messages after the user's read
    /// position (the room's last `seq` minus it — no counting of history) and the
    /// mentions of the user among them (kept on the membership). One query.
    async fn unread_counts(
        &self,
        account: AccountId,
        user: UserId,
        rooms: Vec<RoomId>,
    ) -> Result<Vec<(RoomId, Unread)>, StoreError>;
}
