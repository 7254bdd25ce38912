//! Conversations (CONTRACT §10): search across rooms, threads, reactions, pins, and read
//! state in the ChatAPI dialect.
//!
//! Who may do what follows the rest of the API: reading (search, threads, pins) needs
//! what reading a room's messages needs; reacting needs what sending needs; pinning
//! follows editing (the sender, an administrator or the API key).

use std::fmt;
use std::sync::Arc;

use chat_domain::{Emoji, ExternalId, Message, MessageRef, Person, Room, RoomRef, Seq, User};
use time::OffsetDateTime;

use crate::actor::Actor;
use crate::error::AppError;
use crate::events::EventPublisher;
use crate::messages::MessageView;
use crate::model::{MessageDetail, Page, SearchQuery, Unread, Window};
use crate::ports::{ConversationStore, MessageStore, RoomStore, UserDirectory};

/// A message's thread, summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSummary {
    /// The message the thread answers.
    pub message: Message,
    /// How many replies it has (deleted ones not counted).
    pub reply_count: i64,
    /// When the newest reply was sent.
    pub last_reply_at: Option<OffsetDateTime>,
    /// Who replied, each once, in the order of their first reply.
    pub participants: Vec<Person>,
}

/// A member's read state in a room, after marking it read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadState {
    /// The room.
    pub room: Room,
    /// The member.
    pub user: User,
    /// Their read position.
    pub last_read_seq: Seq,
    /// The message at that position (none before the room's first message).
    pub last_read_message: Option<Message>,
    /// What they have not read.
    pub unread: Unread,
}

/// The conversation use cases.
#[derive(Clone)]
pub struct Conversations {
    rooms: Arc<dyn RoomStore>,
    messages: Arc<dyn MessageStore>,
    conversations: Arc<dyn ConversationStore>,
    users: Arc<dyn UserDirectory>,
    events: Arc<dyn EventPublisher>,
}

impl fmt::Debug for Conversations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversations").finish_non_exhaustive()
    }
}

impl Conversations {
    /// Conversation use cases over these ports, publishing to `events`.
    pub fn new(
        rooms: Arc<dyn RoomStore>,
        messages: Arc<dyn MessageStore>,
        conversations: Arc<dyn ConversationStore>,
        users: Arc<dyn UserDirectory>,
        events: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            rooms,
            messages,
            conversations,
            users,
            events,
        }
    }

    /// Messages matching `query` across the rooms the caller may read (agents and end
    /// users: the rooms they belong to), best match first, never deleted ones.
    pub async fn search(
        &self,
        actor: &Actor,
        query: SearchQuery,
        detail: MessageDetail,
    ) -> Result<Page<MessageView>, AppError> {
        let _ = (actor, query, detail);
        Err(not_built())
    }

    /// The replies to a message, oldest first.
    pub async fn thread(
        &self,
        actor: &Actor,
        message: MessageRef,
        window: Window,
        detail: MessageDetail,
    ) -> Result<Page<MessageView>, AppError> {
        let _ = (actor, message, window, detail);
        Err(not_built())
    }

    /// A message's thread, summed up.
    pub async fn thread_summary(
        &self,
        actor: &Actor,
        message: MessageRef,
    ) -> Result<ThreadSummary, AppError> {
        let _ = (actor, message);
        Err(not_built())
    }

    /// Adds (`add`) or removes a reaction; answers the message after. A user credential
    /// reacts as its user; the API key as the participant `user_id` (required). With
    /// `room` (the account dialect's path), a message of another room is not found.
    #[allow(clippy::too_many_arguments)]
    pub async fn react(
        &self,
        actor: &Actor,
        room: Option<RoomRef>,
        message: MessageRef,
        emoji: Emoji,
        user_id: Option<ExternalId>,
        add: bool,
        detail: MessageDetail,
    ) -> Result<MessageView, AppError> {
        let _ = (actor, room, message, emoji, user_id, add, detail);
        Err(not_built())
    }

    /// Pins (`pinned`) or unpins a message; answers the message after. With `room` (the
    /// account dialect's path), a message of another room is not found.
    pub async fn pin(
        &self,
        actor: &Actor,
        room: Option<RoomRef>,
        message: MessageRef,
        pinned: bool,
        detail: MessageDetail,
    ) -> Result<MessageView, AppError> {
        let _ = (actor, room, message, pinned, detail);
        Err(not_built())
    }

    /// A room's pinned messages, most recently pinned first.
    pub async fn pins(
        &self,
        actor: &Actor,
        room: RoomRef,
        window: Window,
        detail: MessageDetail,
    ) -> Result<Page<MessageView>, AppError> {
        let _ = (actor, room, window, detail);
        Err(not_built())
    }

    /// Marks a room read up to `upto` (else its newest message) for a member: the
    /// caller's user with a user credential, the participant `user_id` (required) with
    /// the API key.
    pub async fn read(
        &self,
        actor: &Actor,
        room: RoomRef,
        user_id: Option<ExternalId>,
        upto: Option<MessageRef>,
    ) -> Result<ReadState, AppError> {
        let _ = (actor, room, user_id, upto);
        Err(not_built())
    }
}

fn not_built() -> AppError {
    AppError::Unexpected(anyhow::anyhow!("not built yet"))
}
