//! Threads: the replies to a message, and their summary.

use chat_domain::{MessageRef, Permission};

use super::{Conversations, ThreadSummary};
use crate::access::{message_error, message_for};
use crate::actor::Actor;
use crate::error::AppError;
use crate::messages::MessageView;
use crate::model::{MessageDetail, Page, Window};

impl Conversations {
    /// The replies to a message, oldest first.
    pub async fn thread(
        &self,
        actor: &Actor,
        message: MessageRef,
        window: Window,
        detail: MessageDetail,
    ) -> Result<Page<MessageView>, AppError> {
        let (room, parent) = self.readable(actor, message).await?;
        let (replies, total) = self
            .conversations
            .thread(room.account_id, parent.id, window)
            .await
            .map_err(message_error)?;
        let items = self
            .views()
            .of(room.account_id, &room, replies, detail)
            .await?;
        Ok(Page { items, total })
    }

    /// A message's thread, summed up.
    pub async fn thread_summary(
        &self,
        actor: &Actor,
        message: MessageRef,
    ) -> Result<ThreadSummary, AppError> {
        let (room, parent) = self.readable(actor, message).await?;
        let participants = self
            .conversations
            .thread_participants(room.account_id, parent.id)
            .await
            .map_err(message_error)?;
        Ok(ThreadSummary {
            reply_count: parent.thread.reply_count,
            last_reply_at: parent.thread.last_reply_at,
            message: parent,
            participants,
        })
    }

    /// The message and its room, if the caller may read the room.
    async fn readable(
        &self,
        actor: &Actor,
        message: MessageRef,
    ) -> Result<(chat_domain::Room, chat_domain::Message), AppError> {
        message_for(
            self.rooms.as_ref(),
            self.messages.as_ref(),
            actor,
            None,
            message,
            Permission::ReadMessages,
        )
        .await
    }
}
