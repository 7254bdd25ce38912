//! Conversations (CONTRACT §10): search across rooms, threads, reactions, pins, and read
//! state in the ChatAPI dialect.
//!
//! Who may do what follows the rest of the API: reading (search, threads, pins) needs
//! what reading a room's messages needs; reacting needs what sending needs (a member
//! reacts as themselves; the API key names the member, `user_id`); pinning follows
//! editing (the sender, an administrator or the API key). One concern a file: `search`,
//! `threads`, `reactions`, `pins` and `read`.

mod pins;
mod reactions;
mod read;
mod search;
#[cfg(test)]
mod tests;
mod threads;

use std::fmt;
use std::sync::Arc;

use chat_domain::{ExternalId, FieldError, Message, Person, Problem, Room, Seq, User};
use time::OffsetDateTime;

use crate::access::{require_member, room_error, user_error};
use crate::actor::Actor;
use crate::error::{AppError, Conflict, Denied};
use crate::events::EventPublisher;
use crate::messages::Views;
use crate::model::Unread;
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

    /// Where views of messages are read from.
    fn views(&self) -> Views<'_> {
        Views {
            rooms: self.rooms.as_ref(),
            messages: self.messages.as_ref(),
            users: self.users.as_ref(),
        }
    }

    /// The member who acts in `room`: a user credential's own user (a member, else
    /// `Forbidden(NotMember)`); for the API key, the participant `user_id` names
    /// (required: else `Invalid` on field `user_id`; an unknown user or one who is not a
    /// member is `Conflict(NotInRoom)`).
    async fn participant(
        &self,
        actor: &Actor,
        room: &Room,
        user_id: Option<ExternalId>,
    ) -> Result<User, AppError> {
        let account = room.account_id;
        match actor {
            Actor::Platform => Err(AppError::Unauthenticated),
            Actor::User { user_id: own, .. } => {
                // An agent's membership was checked with the room already.
                if actor.limited_to().is_none() {
                    require_member(self.rooms.as_ref(), account, room, *own, Denied::NotMember)
                        .await?;
                }
                self.users
                    .find_users(account, vec![*own])
                    .await
                    .map_err(user_error)?
                    .into_iter()
                    .next()
                    .ok_or(AppError::Unauthenticated)
            }
            Actor::ApiKey(_) => {
                let user_id = user_id.ok_or_else(|| FieldError::new("user_id", Problem::Blank))?;
                let user = self
                    .users
                    .find_by_chat_id(account, user_id.as_str().to_owned())
                    .await
                    .map_err(user_error)?
                    .ok_or(AppError::Conflict(Conflict::NotInRoom))?;
                let member = self
                    .rooms
                    .is_member(account, room.id, user.id)
                    .await
                    .map_err(room_error)?;
                if !member {
                    return Err(AppError::Conflict(Conflict::NotInRoom));
                }
                Ok(user)
            }
        }
    }
}
