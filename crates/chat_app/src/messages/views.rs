//! Messages as one caller sees them: with their senders, the messages they reply to and
//! their delivery statuses, read with one query each for a whole page.

use std::collections::HashMap;

use chat_domain::{AccountId, DeliveryStatus, Message, MessageId, Position, Room, User, UserId};

use crate::access::{message_error, room_error, user_error};
use crate::error::AppError;
use crate::model::MessageDetail;
use crate::ports::{MessageStore, UserDirectory};

/// The message a reply answers, with its sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Replied {
    /// The message replied to.
    pub message: Message,
    /// Its sender, with [`MessageDetail::Rich`] (none for system messages).
    pub sender: Option<User>,
}

/// A message as one caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    /// The message.
    pub message: Message,
    /// The name of its room.
    pub room_name: String,
    /// With [`MessageDetail::Rich`]: the sending user (none for system messages).
    pub sender: Option<User>,
    /// The message replied to (its sender only with [`MessageDetail::Rich`]).
    pub in_reply_to: Option<Replied>,
    /// With [`MessageDetail::Rich`]: its delivery status.
    pub status: Option<DeliveryStatus>,
}

/// Reads what the views of a room's messages need, from the stores it borrows.
pub(crate) struct Views<'a> {
    pub(crate) messages: &'a dyn MessageStore,
    pub(crate) users: &'a dyn UserDirectory,
}

impl Views<'_> {
    /// The view of one message of `room`.
    pub(crate) async fn one(
        &self,
        room: &Room,
        message: Message,
        detail: MessageDetail,
    ) -> Result<MessageView, AppError> {
        self.of(room.account_id, room, vec![message], detail)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("a message view went missing")))
    }

    /// Views of messages of one room: with `Rich`, their senders, the messages they reply
    /// to and their statuses, with one query each for the whole page.
    pub(crate) async fn of(
        &self,
        account: AccountId,
        room: &Room,
        messages: Vec<Message>,
        detail: MessageDetail,
    ) -> Result<Vec<MessageView>, AppError> {
        let room_name = room.name.as_str().to_owned();
        let reply_ids: Vec<MessageId> = messages.iter().filter_map(|m| m.reply_to).collect();
        let replied: HashMap<MessageId, Message> = if reply_ids.is_empty() {
            HashMap::new()
        } else {
            self.messages
                .find_messages(account, reply_ids)
                .await
                .map_err(message_error)?
                .into_iter()
                .map(|m| (m.id, m))
                .collect()
        };
        if detail == MessageDetail::Summary {
            return Ok(messages
                .into_iter()
                .map(|message| MessageView {
                    in_reply_to: message.reply_to.and_then(|id| replied.get(&id)).map(|m| {
                        Replied {
                            message: m.clone(),
                            sender: None,
                        }
                    }),
                    message,
                    room_name: room_name.clone(),
                    sender: None,
                    status: None,
                })
                .collect());
        }
        let mut sender_ids: Vec<UserId> = messages
            .iter()
            .chain(replied.values())
            .filter_map(|m| m.sender.user_id())
            .collect();
        sender_ids.sort();
        sender_ids.dedup();
        let users: HashMap<UserId, User> = self
            .users
            .find_users(account, sender_ids)
            .await
            .map_err(user_error)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let positions: Vec<Position> = self
            .messages
            .positions(account, room.id)
            .await
            .map_err(room_error)?;
        let user_of = |m: &Message| m.sender.user_id().and_then(|id| users.get(&id).cloned());
        Ok(messages
            .into_iter()
            .map(|message| {
                let status = DeliveryStatus::of(message.seq, message.sender.user_id(), &positions);
                let in_reply_to =
                    message
                        .reply_to
                        .and_then(|id| replied.get(&id))
                        .map(|m| Replied {
                            sender: user_of(m),
                            message: m.clone(),
                        });
                MessageView {
                    sender: user_of(&message),
                    message,
                    room_name: room_name.clone(),
                    in_reply_to,
                    status: Some(status),
                }
            })
            .collect())
    }
}
