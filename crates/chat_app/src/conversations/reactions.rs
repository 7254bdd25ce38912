//! Reactions: a member adds or removes an emoji on a message.

use chat_domain::{
    Emoji, ExternalId, FieldError, MAX_EMOJI_PER_MESSAGE, MessageRef, Permission, Problem, RoomRef,
};

use super::Conversations;
use crate::access::{message_error, message_for};
use crate::actor::Actor;
use crate::error::{AppError, Resource};
use crate::events::{DomainEvent, MessageEvent};
use crate::messages::MessageView;
use crate::model::MessageDetail;
use crate::ports::StoreError;

/// A store failure about a reaction: a 21st distinct emoji is the caller's mistake on
/// field `emoji`; `NotFound` is `NotFound(Message)`.
fn reaction_error(error: StoreError) -> AppError {
    match error {
        StoreError::LimitReached => FieldError::new(
            "emoji",
            Problem::Invalid(format!(
                "a message carries at most {MAX_EMOJI_PER_MESSAGE} distinct emoji"
            )),
        )
        .into(),
        other => message_error(other),
    }
}

impl Conversations {
    /// Adds (`add`) or removes a reaction; answers the message after. A user credential
    /// reacts as its user; the API key as the participant `user_id` (required). With
    /// `room` (the account dialect's path), a message of another room is not found.
    ///
    /// Reacting needs what sending needs: the room readable by the caller, a scoped
    /// credential's `send_messages`, and the reacting user a member of the room. A
    /// deleted message is not found. A repeat (adding twice, removing what is not
    /// there) changes nothing and publishes nothing.
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
        let (room, message) = message_for(
            self.rooms.as_ref(),
            self.messages.as_ref(),
            actor,
            room,
            message,
            Permission::SendMessages,
        )
        .await?;
        if message.is_deleted() {
            return Err(AppError::NotFound(Resource::Message));
        }
        let user = self.participant(actor, &room, user_id).await?;
        let (message, changed) = self
            .conversations
            .react(room.account_id, message.id, emoji.clone(), user.id, add)
            .await
            .map_err(reaction_error)?;
        if let Some(person) = changed {
            self.events
                .publish(DomainEvent::Message(MessageEvent::Reacted {
                    message: message.clone(),
                    emoji,
                    user: person,
                    added: add,
                }));
        }
        self.views().one(&room, message, detail).await
    }
}
