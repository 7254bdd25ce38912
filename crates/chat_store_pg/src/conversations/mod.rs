//! Search, threads, reactions and pins ([`ConversationStore`]).

use async_trait::async_trait;
use chat_app::{ConversationStore, SearchQuery, StoreError, Window};
use chat_domain::{AccountId, Emoji, Message, MessageId, Person, RoomId, UserId};

use crate::PgStore;

fn not_built<T>() -> Result<T, StoreError> {
    Err(StoreError::Unexpected(anyhow::anyhow!("not built yet")))
}

#[async_trait]
impl ConversationStore for PgStore {
    async fn search(
        &self,
        _account: AccountId,
        _query: SearchQuery,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        not_built()
    }

    async fn thread(
        &self,
        _account: AccountId,
        _parent: MessageId,
        _window: Window,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        not_built()
    }

    async fn thread_participants(
        &self,
        _account: AccountId,
        _parent: MessageId,
    ) -> Result<Vec<Person>, StoreError> {
        not_built()
    }

    async fn react(
        &self,
        _account: AccountId,
        _message: MessageId,
        _emoji: Emoji,
        _user: UserId,
        _add: bool,
    ) -> Result<(Message, Option<Person>), StoreError> {
        not_built()
    }

    async fn set_pin(
        &self,
        _account: AccountId,
        _message: MessageId,
        _pinned: bool,
        _by: Option<UserId>,
    ) -> Result<(Message, bool), StoreError> {
        not_built()
    }

    async fn pins(
        &self,
        _account: AccountId,
        _room: RoomId,
        _window: Window,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        not_built()
    }
}
