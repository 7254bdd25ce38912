//! Messages of rooms, and how far each member has got ([`MessageStore`]).
//!
//! A room numbers its messages 1, 2, 3, … with `rooms.last_seq`: a send bumps it with an
//! `UPDATE … RETURNING`, whose row lock makes the senders of one room take turns until
//! they commit, and whose rollback gives the number back, so the numbers have no gaps.
//! Members' read and delivered positions are seqs kept on `room_members`; they only move
//! forward, and a member joins at the room's newest message (a trigger, see the
//! migration). Every query is scoped by `account_id`: a room or message of another
//! account is not found.
//!
//! - [`unit`]: a send as one unit of work: [`context`] (room, speaker, membership,
//!   the message replied to), the use case's rules, [`append`] or group commit.
//! - [`append`]: sending, files or not, in one statement; the echo id.
//! - [`committer`], [`batch`]: group commit, plain sends that arrive together stored by
//!   one statement.
//! - [`pages`]: a room's history, filtered and paged, and its totals.
//! - [`edits`]: editing, deleting and restoring a message.
//! - [`positions`]: read and delivered positions, unread counts.
//! - [`load`]: reading given messages back; [`rows`]: the row and its conversion.
//!
//! This file only hands each port method to its module, on a pooled connection.

mod append;
mod batch;
mod committer;
pub(crate) mod context;
mod edits;
pub(crate) mod load;
mod pages;
mod positions;
pub(crate) mod rows;
mod unit;

use async_trait::async_trait;
use chat_app::{
    AppError, DeliveredMark, MessageFilter, MessageStore, NewMessage, RoomStore, SendRules, Sent,
    Speaker, StoreError, Unread,
};
use chat_domain::{
    AccountId, Content, Message, MessageId, MessageMeta, MessageRef, Position, Room, RoomId,
    RoomRef, Seq, StorageKey, UserId,
};

use crate::send_queue::SendQueue;
use crate::{PgStore, translate};

/// The append of [`MessageStore::send`] on the caller's connection ([`crate::bench`]).
pub(crate) fn append_on(
    conn: &mut diesel::PgConnection,
    account: AccountId,
    room: RoomId,
    new: NewMessage,
) -> Result<(Message, bool), StoreError> {
    append::append(conn, account, room, new)
}

impl PgStore {
    /// Stores `new` in `room` as a send does once its rules allowed it, without the send's
    /// context or rules: what [`MessageStore::send`] guarantees of the storing (one
    /// transaction, the next gapless `seq`, an `echo_id` answered by its first message,
    /// `NotFound` for another account's room). A plain message always goes through the group
    /// commit thread. For the store's tests and tools; the server sends through
    /// [`MessageStore::send`].
    pub async fn append(
        &self,
        account: AccountId,
        room: RoomId,
        new: NewMessage,
    ) -> Result<(Message, bool), StoreError> {
        if batch::is_plain(&new) {
            return self.send_queue()?.append(account, room, new).await;
        }
        self.with_conn(move |conn| append_on(conn, account, room, new))
            .await
    }

    /// The group commit thread's queue, the thread started on first use.
    fn send_queue(&self) -> Result<&SendQueue, StoreError> {
        if let Some(queue) = self.sends.get() {
            return Ok(queue);
        }
        let queue = committer::start(self.pool.clone()).map_err(|e| {
            StoreError::Unexpected(anyhow::anyhow!(e).context("starting the send thread"))
        })?;
        // Two first sends at once: one queue is kept, the other's thread ends with it.
        Ok(self.sends.get_or_init(|| queue))
    }
}

/// [`MessageStore::room_page`] of an unfiltered page on the caller's connection
/// ([`crate::bench`]); a filtered one is refused (`Unexpected`).
pub(crate) fn unfiltered_room_page_on(
    conn: &mut diesel::PgConnection,
    account: AccountId,
    room: RoomRef,
    filter: &MessageFilter,
) -> Result<(Room, Vec<Message>, i64), StoreError> {
    if pages::counted_total(filter, 0, 0).is_none() {
        return Err(StoreError::Unexpected(anyhow::anyhow!(
            "a filtered page is read in more than one step"
        )));
    }
    pages::unfiltered_room_page(conn, account, room, filter)
}

#[async_trait]
impl MessageStore for PgStore {
    async fn send(
        &self,
        account: AccountId,
        room: RoomRef,
        speaker: Option<Speaker>,
        reply_to: Option<MessageRef>,
        rules: SendRules,
    ) -> Result<Result<Sent, AppError>, StoreError> {
        let queue = self.send_queue()?;
        let turn = queue.begin();
        let pool = self.pool.clone();
        let step = crate::blocking(move || {
            unit::send(&pool, &turn, account, room, speaker, reply_to, rules).map(|s| (s, turn))
        })
        .await?;
        match step {
            (unit::Step::Done(outcome), _) => *outcome,
            // Still counted (`_turn`) until the thread answers.
            (unit::Step::Queue(queued), _turn) => {
                let (room, new) = *queued;
                let (message, created) = queue.append(account, room.id, new).await?;
                Ok(Ok(Sent {
                    room,
                    message,
                    created,
                }))
            }
        }
    }

    async fn find_message(
        &self,
        account: AccountId,
        message: MessageRef,
    ) -> Result<Message, StoreError> {
        self.with_conn(move |conn| {
            let rows = load::load(conn, account, load::Wanted::One(message)).map_err(translate)?;
            load::first_message(conn, account, rows)
        })
        .await
    }

    async fn find_messages(
        &self,
        account: AccountId,
        ids: Vec<MessageId>,
    ) -> Result<Vec<Message>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.with_conn(move |conn| {
            let rows = load::load(conn, account, load::Wanted::Ids(&ids)).map_err(translate)?;
            load::to_messages(conn, account, rows)
        })
        .await
    }

    async fn list_messages(
        &self,
        account: AccountId,
        room: RoomId,
        filter: MessageFilter,
    ) -> Result<(Vec<Message>, i64), StoreError> {
        self.with_conn(move |conn| pages::list(conn, account, room, &filter))
            .await
    }

    async fn room_page(
        &self,
        account: AccountId,
        room: RoomRef,
        filter: MessageFilter,
    ) -> Result<(Room, Vec<Message>, i64), StoreError> {
        if pages::counted_total(&filter, 0, 0).is_none() {
            // Filters count rows: read the room, then the page and its total.
            let found = self.find_room(account, room).await?;
            let (messages, total) = self.list_messages(account, found.id, filter).await?;
            return Ok((found, messages, total));
        }
        self.with_conn(move |conn| pages::unfiltered_room_page(conn, account, room, &filter))
            .await
    }

    async fn edit_message(
        &self,
        account: AccountId,
        message: MessageId,
        content: Option<Content>,
        meta: Option<MessageMeta>,
    ) -> Result<Message, StoreError> {
        self.with_conn(move |conn| edits::edit(conn, account, message, content, meta))
            .await
    }

    async fn set_message_deleted(
        &self,
        account: AccountId,
        message: MessageId,
        deleted: bool,
        by: Option<UserId>,
    ) -> Result<(Message, Vec<StorageKey>), StoreError> {
        self.with_conn(move |conn| edits::set_deleted(conn, account, message, deleted, by))
            .await
    }

    async fn positions(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<Position>, StoreError> {
        self.with_conn(move |conn| positions::positions(conn, account, room))
            .await
    }

    async fn mark_read(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
        upto: Option<Seq>,
    ) -> Result<Seq, StoreError> {
        self.with_conn(move |conn| positions::mark_read(conn, account, room, user, upto))
            .await
    }

    async fn mark_delivered(
        &self,
        account: AccountId,
        marks: Vec<DeliveredMark>,
    ) -> Result<(), StoreError> {
        self.with_conn(move |conn| positions::mark_delivered(conn, account, &marks))
            .await
    }

    async fn unread_counts(
        &self,
        account: AccountId,
        user: UserId,
        rooms: Vec<RoomId>,
    ) -> Result<Vec<(RoomId, Unread)>, StoreError> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rooms.iter().map(|room| room.0).collect();
        self.with_conn(move |conn| positions::unread_counts(conn, account, user, &ids))
            .await
    }
}
