//! Search, threads, reactions and pins: what conversations need from storage.

use async_trait::async_trait;
use chat_domain::{AccountId, Emoji, Message, MessageId, Person, RoomId, UserId};

use super::error::StoreError;
use crate::model::{SearchQuery, Window};

/// Search, threads, reactions and pins. Every method is scoped by `account`: a room or
/// message of another account is `NotFound`. Messages are answered whole (attachments,
/// reactions, mentions, pin), as [`crate::ports::MessageStore::find_message`] does.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// The account's messages that match `query`, best match first (then newest), never
    /// deleted ones, only in `query.rooms` when given and only in rooms `query.reader`
    /// belongs to when given; and how many match in all. Served by the search index
    /// (`messages_search_idx`): never a scan of the account's history.
    async fn search(
        &self,
        account: AccountId,
        query: SearchQuery,
    ) -> Result<(Vec<Message>, i64), StoreError>;

    /// The replies to `parent` (of any room of the account), oldest first, deleted ones
    /// left out, one page of them, and how many there are in all. `NotFound` when the
    /// account has no such message.
    async fn thread(
        &self,
        account: AccountId,
        parent: MessageId,
        window: Window,
    ) -> Result<(Vec<Message>, i64), StoreError>;

    /// Who has replied to `parent` (replies not deleted), each once, in the order of their
    /// first reply; users only (system replies are left out).
    async fn thread_participants(
        &self,
        account: AccountId,
        parent: MessageId,
    ) -> Result<Vec<Person>, StoreError>;

    /// Adds (`add`) or removes `user`'s `emoji` on `message`, in one transaction that also
    /// rebuilds the message's reaction summary and, when it changed something and a
    /// webhook subscribes, records `reaction.added` / `reaction.removed` (with `emoji` and
    /// the user in the event's data). Answers the message after, and the user as the
    /// reaction names them (their current ChatAPI `user_id` as label) when something
    /// changed; a repeat (adding twice, removing what is not there) changes nothing and
    /// answers `None`. `LimitReached` when adding a 21st distinct emoji
    /// ([`chat_domain::MAX_EMOJI_PER_MESSAGE`]); `NotFound` when the account has no such
    /// message or user, or the message is deleted.
    async fn react(
        &self,
        account: AccountId,
        message: MessageId,
        emoji: Emoji,
        user: UserId,
        add: bool,
    ) -> Result<(Message, Option<Person>), StoreError>;

    /// Pins (`pinned`, by `by`: the user, or the system for `None`) or unpins `message`.
    /// Pinning a pinned message, or unpinning one that is not, changes nothing and
    /// answers `false`. `NotFound` when the account has no such message or it is deleted.
    async fn set_pin(
        &self,
        account: AccountId,
        message: MessageId,
        pinned: bool,
        by: Option<UserId>,
    ) -> Result<(Message, bool), StoreError>;

    /// The pinned messages of `room` that are not deleted, most recently pinned first, one
    /// page of them, and how many in all.
    async fn pins(
        &self,
        account: AccountId,
        room: RoomId,
        window: Window,
    ) -> Result<(Vec<Message>, i64), StoreError>;
}
