//! Read state in the ChatAPI dialect: a member marks a room read.

use chat_domain::{AccountId, ExternalId, Message, MessageRef, Permission, RoomId, RoomRef, Seq};

use super::{Conversations, ReadState};
use crate::access::{message_error, room_error, room_for, unread_counts};
use crate::actor::Actor;
use crate::error::{AppError, Resource};
use crate::events::{DomainEvent, MessageEvent};
use crate::model::{MessageFilter, MessageOrder, Window};

impl Conversations {
    /// Marks a room read up to `upto` (else its newest message) for a member: the
    /// caller's user with a user credential, the participant `user_id` (required) with
    /// the API key.
    ///
    /// The room first (`NotFound(Room)`), then the caller's right to read it; the member
    /// as for reactions; `upto` must be a message of the room (else
    /// `NotFound(Message)`). A read position never moves backwards: marking an older
    /// message answers the position as it stays.
    pub async fn read(
        &self,
        actor: &Actor,
        room: RoomRef,
        user_id: Option<ExternalId>,
        upto: Option<MessageRef>,
    ) -> Result<ReadState, AppError> {
        let account = actor.account_id()?;
        let room = room_for(
            self.rooms.as_ref(),
            actor,
            account,
            room,
            Permission::ReadMessages,
        )
        .await?;
        let user = self.participant(actor, &room, user_id).await?;
        let upto = match upto {
            None => None,
            Some(reference) => {
                let message = self
                    .messages
                    .find_message(account, reference)
                    .await
                    .map_err(message_error)?;
                if message.room_id != room.id {
                    return Err(AppError::NotFound(Resource::Message));
                }
                Some(message)
            }
        };
        let seq = self
            .messages
            .mark_read(account, room.id, user.id, upto.as_ref().map(|m| m.seq))
            .await
            .map_err(room_error)?;
        self.events
            .publish(DomainEvent::Message(MessageEvent::Read {
                room: room.clone(),
                user: user.id,
                seq,
            }));
        let unread = unread_counts(
            self.messages.as_ref(),
            Some(user.id),
            account,
            vec![room.id],
        )
        .await?
        .remove(&room.id)
        .unwrap_or_default();
        let last_read_message = self.message_at(account, room.id, seq, upto).await?;
        Ok(ReadState {
            room,
            user,
            last_read_seq: seq,
            last_read_message,
            unread,
        })
    }

    /// The message at `seq` in the room (deleted or not): `known` when it is that one,
    /// else one indexed look-up by `seq`; none at 0 (before the first message).
    async fn message_at(
        &self,
        account: AccountId,
        room: RoomId,
        seq: Seq,
        known: Option<Message>,
    ) -> Result<Option<Message>, AppError> {
        if seq.0 <= 0 {
            return Ok(None);
        }
        if let Some(message) = known.filter(|m| m.seq == seq) {
            return Ok(Some(message));
        }
        let filter = MessageFilter {
            include_deleted: true,
            after_seq: Some(Seq(seq.0 - 1)),
            before_seq: Some(Seq(seq.0.saturating_add(1))),
            order: MessageOrder::OldestFirst,
            ..MessageFilter::newest(Window {
                offset: 0,
                limit: 1,
            })
        };
        let (messages, _) = self
            .messages
            .list_messages(account, room, filter)
            .await
            .map_err(room_error)?;
        Ok(messages.into_iter().next())
    }
}
