//! Messages as one caller sees them: with their room's name, their senders, the messages
//! they reply to and their delivery statuses, read with one query each for a whole page.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chat_domain::{
    AccountId, DeliveryStatus, Message, MessageId, Position, Room, RoomId, User, UserId,
};

use crate::access::{message_error, room_error, user_error};
use crate::error::AppError;
use crate::model::MessageDetail;
use crate::ports::{MessageStore, RoomStore, UserDirectory};

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

/// Reads what the views of messages need, from the stores it borrows.
pub(crate) struct Views<'a> {
    pub(crate) rooms: &'a dyn RoomStore,
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
        let items = messages.into_iter().map(|m| (m, room)).collect();
        self.render(account, items, detail).await
    }

    /// Views of messages of any rooms of the account (a search): their rooms read in one
    /// query for the whole page; with `Rich`, as [`Views::of`], the delivery statuses read
    /// once per room of the page. A message whose room is gone meanwhile is left out.
    pub(crate) async fn across(
        &self,
        account: AccountId,
        messages: Vec<Message>,
        detail: MessageDetail,
    ) -> Result<Vec<MessageView>, AppError> {
        let mut ids: Vec<RoomId> = messages.iter().map(|m| m.room_id).collect();
        ids.sort();
        ids.dedup();
        let rooms: HashMap<RoomId, Room> = if ids.is_empty() {
            HashMap::new()
        } else {
            self.rooms
                .find_rooms(account, ids)
                .await
                .map_err(room_error)?
                .into_iter()
                .map(|room| (room.id, room))
                .collect()
        };
        let items = messages
            .into_iter()
            .filter_map(|m| rooms.get(&m.room_id).map(|room| (m, room)))
            .collect();
        self.render(account, items, detail).await
    }

    /// Views of messages, each with its room.
    async fn render(
        &self,
        account: AccountId,
        items: Vec<(Message, &Room)>,
        detail: MessageDetail,
    ) -> Result<Vec<MessageView>, AppError> {
        let reply_ids: Vec<MessageId> = items.iter().filter_map(|(m, _)| m.reply_to).collect();
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
            return Ok(items
                .into_iter()
                .map(|(message, room)| MessageView {
                    in_reply_to: message.reply_to.and_then(|id| replied.get(&id)).map(|m| {
                        Replied {
                            message: m.clone(),
                            sender: None,
                        }
                    }),
                    message,
                    room_name: room.name.as_str().to_owned(),
                    sender: None,
                    status: None,
                })
                .collect());
        }
        let mut sender_ids: Vec<UserId> = items
            .iter()
            .map(|(m, _)| m)
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
        // One query per room of the page (one for a room's own list).
        let mut positions: HashMap<RoomId, Vec<Position>> = HashMap::new();
        for (_, room) in &items {
            if let Entry::Vacant(slot) = positions.entry(room.id) {
                let of_room = self
                    .messages
                    .positions(account, room.id)
                    .await
                    .map_err(room_error)?;
                slot.insert(of_room);
            }
        }
        let user_of = |m: &Message| m.sender.user_id().and_then(|id| users.get(&id).cloned());
        Ok(items
            .into_iter()
            .map(|(message, room)| {
                let of_room = positions
                    .get(&room.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let status = DeliveryStatus::of(message.seq, message.sender.user_id(), of_room);
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
                    room_name: room.name.as_str().to_owned(),
                    in_reply_to,
                    status: Some(status),
                }
            })
            .collect())
    }
}
