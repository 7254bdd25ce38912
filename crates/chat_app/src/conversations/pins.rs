//! Pins: who may edit a message may pin it; a room's pins are read as its messages are.

use chat_domain::{MessageRef, Permission, RoomRef};

use super::Conversations;
use crate::access::{message_error, message_for, require_author, room_error, visible_room};
use crate::actor::Actor;
use crate::error::{AppError, Resource};
use crate::events::{DomainEvent, MessageEvent};
use crate::messages::MessageView;
use crate::model::{MessageDetail, Page, Window};

impl Conversations {
    /// Pins (`pinned`) or unpins a message; answers the message after. With `room` (the
    /// account dialect's path), a message of another room is not found.
    ///
    /// Who may: who may edit it (its sender, an administrator or the API key; a scoped
    /// credential needs `send_messages`). A deleted message is not found. Pinning a
    /// pinned message (or unpinning one that is not) changes nothing and publishes
    /// nothing.
    pub async fn pin(
        &self,
        actor: &Actor,
        room: Option<RoomRef>,
        message: MessageRef,
        pinned: bool,
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
        require_author(actor, &message)?;
        if message.is_deleted() {
            return Err(AppError::NotFound(Resource::Message));
        }
        let (message, changed) = self
            .conversations
            .set_pin(room.account_id, message.id, pinned, actor.user_id())
            .await
            .map_err(message_error)?;
        if changed {
            let event = if pinned {
                MessageEvent::Pinned(message.clone())
            } else {
                MessageEvent::Unpinned(message.clone())
            };
            self.events.publish(DomainEvent::Message(event));
        }
        self.views().one(&room, message, detail).await
    }

    /// A room's pinned messages, most recently pinned first.
    pub async fn pins(
        &self,
        actor: &Actor,
        room: RoomRef,
        window: Window,
        detail: MessageDetail,
    ) -> Result<Page<MessageView>, AppError> {
        let account = actor.account_id()?;
        let room = visible_room(self.rooms.as_ref(), actor, account, room).await?;
        let (messages, total) = self
            .conversations
            .pins(account, room.id, window)
            .await
            .map_err(room_error)?;
        let items = self.views().of(account, &room, messages, detail).await?;
        Ok(Page { items, total })
    }
}
