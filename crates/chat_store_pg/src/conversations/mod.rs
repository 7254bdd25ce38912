//! Search, threads, reactions and pins ([`ConversationStore`]).
//!
//! - [`search`]: full-text search across an account's rooms.
//! - [`threads`]: the replies to a message, and who wrote them.
//! - [`reactions`]: adding and removing reactions, and the summary on the message.
//! - [`pins`]: pinning, unpinning, and a room's pins.
//!
//! This file only hands each port method to its module, on a pooled connection. Every
//! query is scoped by `account_id`: a room or message of another account is not found.

mod pins;
mod reactions;
mod search;
mod threads;

pub(crate) use reactions::rebuild_room as rebuild_room_reactions;

use async_trait::async_trait;
use chat_app::{ConversationStore, SearchQuery, StoreError, Window};
use chat_domain::{AccountId, Emoji, Message, MessageId, Person, RoomId, UserId};

use crate::PgStore;

#[async_trait]
impl ConversationStore for PgStore {
    async fn search(
        &self,
        account: AccountId,
        query: SearchQuery,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        self.with_search_turn(move |conn| search::search(conn, account, &query))
            .await
    }

    async fn thread(
        &self,
        account: AccountId,
        parent: MessageId,
        window: Window,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        self.with_conn(move |conn| threads::thread(conn, account, parent, window))
            .await
    }

    async fn thread_participants(
        &self,
        account: AccountId,
        parent: MessageId,
    ) -> Result<Vec<Person>, StoreError> {
        self.with_conn(move |conn| threads::participants(conn, account, parent))
            .await
    }

    async fn react(
        &self,
        account: AccountId,
        message: MessageId,
        emoji: Emoji,
        user: UserId,
        add: bool,
    ) -> Result<(Message, Option<Person>), StoreError> {
        self.with_conn(move |conn| reactions::react(conn, account, message, &emoji, user, add))
            .await
    }

    async fn set_pin(
        &self,
        account: AccountId,
        message: MessageId,
        pinned: bool,
        by: Option<UserId>,
    ) -> Result<(Message, bool), StoreError> {
        self.with_conn(move |conn| pins::set_pin(conn, account, message, pinned, by))
            .await
    }

    async fn pins(
        &self,
        account: AccountId,
        room: RoomId,
        window: Window,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        self.with_conn(move |conn| pins::pins(conn, account, room, window))
            .await
    }
}
