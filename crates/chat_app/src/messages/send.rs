//! Sending: who speaks, what the reply names, and the files that come along.

use chat_domain::{
    AccountId, FieldError, Message, MessageKind, Permission, Problem, Room, RoomRef, Sender,
    StorageKey, StoredUpload,
};

use super::Messages;
use super::views::MessageView;
use crate::access::{message_error, room_error, user_error};
use crate::actor::Actor;
use crate::error::{AppError, Conflict, Denied};
use crate::events::{DomainEvent, MessageEvent};
use crate::files::discard;
use crate::model::{MessageDetail, NewMessage, Outgoing};
use crate::ports::StoreError;

/// A reply must name a message of the same room.
fn bad_reply() -> AppError {
    FieldError::new(
        "reply_to",
        Problem::Invalid("must name a message of this room".to_owned()),
    )
    .into()
}

impl Messages {
    /// Sends a message with the files received for it (stored already, see
    /// [`crate::Files::receive`]). A retry with the same `echo_id` from the same sender
    /// in the same room answers the first message and stores nothing (`false`). Files
    /// that end up attached to nothing — the send was refused, or was a retry — are
    /// removed.
    pub async fn send(
        &self,
        actor: &Actor,
        room: RoomRef,
        out: Outgoing,
        attachments: Vec<StoredUpload>,
        detail: MessageDetail,
    ) -> Result<(MessageView, bool), AppError> {
        let keys: Vec<StorageKey> = attachments.iter().map(|file| file.key.clone()).collect();
        // Until the message is stored the files belong to nothing; once it is, they
        // belong to it, whatever happens next.
        let (room, message, created) = match self.store(actor, room, out, attachments).await {
            Ok(stored) => stored,
            Err(error) => {
                discard(self.files.as_ref(), keys).await;
                return Err(error);
            }
        };
        if created {
            self.events
                .publish(DomainEvent::Message(MessageEvent::Created(message.clone())));
        } else {
            discard(self.files.as_ref(), keys).await;
        }
        let view = self.views().one(&room, message, detail).await?;
        Ok((view, created))
    }

    /// Checks the send and stores the message: the room, the message, and whether it
    /// is new (`false` for a retried `echo_id`).
    async fn store(
        &self,
        actor: &Actor,
        room: RoomRef,
        out: Outgoing,
        attachments: Vec<StoredUpload>,
    ) -> Result<(Room, Message, bool), AppError> {
        let account = actor.account_id()?;
        let room = self
            .rooms
            .find_room(account, room)
            .await
            .map_err(room_error)?;
        actor.require(Permission::SendMessages)?;
        let (sender, sender_name) = self.speaker(actor, account, &room, &out).await?;
        if !room.is_active {
            return Err(AppError::Conflict(Conflict::RoomInactive));
        }
        let reply_to = match out.reply_to {
            None => None,
            Some(reference) => {
                let replied = match self.messages.find_message(account, reference).await {
                    Ok(message) => message,
                    Err(StoreError::NotFound) => return Err(bad_reply()),
                    Err(other) => return Err(message_error(other)),
                };
                if replied.room_id != room.id {
                    return Err(bad_reply());
                }
                Some(replied.id)
            }
        };
        let new = NewMessage {
            sender,
            sender_name,
            content: out.content,
            kind: out.kind,
            meta: out.meta,
            reply_to,
            echo_id: out.echo_id,
            attachments,
            mentions: out.mentions,
        };
        let (message, created) = self
            .messages
            .append(account, room.id, new)
            .await
            .map_err(room_error)?;
        Ok((room, message, created))
    }

    /// Who speaks, and under which name.
    async fn speaker(
        &self,
        actor: &Actor,
        account: AccountId,
        room: &Room,
        out: &Outgoing,
    ) -> Result<(Sender, Option<String>), AppError> {
        let given_name = out.sender_name.as_ref().map(|n| n.as_str().to_owned());
        let user = match actor {
            Actor::Platform => return Err(AppError::Unauthenticated),
            Actor::User { user_id, .. } => {
                if out.kind == MessageKind::System {
                    return Err(FieldError::new(
                        "message_type",
                        Problem::Invalid("only the API key sends system messages".to_owned()),
                    )
                    .into());
                }
                self.users
                    .find_users(account, vec![*user_id])
                    .await
                    .map_err(user_error)?
                    .into_iter()
                    .next()
                    .ok_or(AppError::Unauthenticated)?
            }
            Actor::ApiKey(_) if out.kind == MessageKind::System => {
                return Ok((Sender::System, given_name));
            }
            Actor::ApiKey(_) => {
                let sender_id = out
                    .sender_id
                    .as_ref()
                    .ok_or_else(|| FieldError::new("sender_id", Problem::Blank))?;
                self.users
                    .find_by_chat_id(account, sender_id.as_str().to_owned())
                    .await
                    .map_err(user_error)?
                    .ok_or(AppError::Forbidden(Denied::NotMember))?
            }
        };
        let member = self
            .rooms
            .is_member(account, room.id, user.id)
            .await
            .map_err(room_error)?;
        if !member {
            return Err(AppError::Forbidden(Denied::NotMember));
        }
        let name = match actor {
            // A user's credential speaks under the user's own name, whatever the body says.
            Actor::User { .. } => user.name.as_str().to_owned(),
            Actor::ApiKey(_) | Actor::Platform => {
                given_name.unwrap_or_else(|| user.name.as_str().to_owned())
            }
        };
        let sender = Sender::User {
            id: user.id,
            label: user.chat_user_id(),
        };
        Ok((sender, Some(name)))
    }
}
