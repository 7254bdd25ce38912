//! The payload's `data` of each event, in the ChatAPI rendering: what the event names,
//! loaded now; what can no longer be loaded, from the event's snapshot.
//!
//! The messages of a claim's message events are loaded and rendered together
//! ([`WebhookDelivery::messages_of`]): per account, one query for the messages and one for
//! their rooms, however many deliveries the claim holds; a message that load did not find
//! is not looked for again. The other events load what they name one by one.
//!
//! A message is read with [`MessageDetail::Summary`], as the ChatAPI dialect's own send
//! answers it: its rendering (`MessageJson`) carries neither the sender's profile nor the
//! delivery status, so their queries (one for the senders, one per room for the statuses)
//! would be read for nothing.

use std::collections::HashMap;

use chat_domain::{
    AccountId, MessageId, MessageRef, Room, RoomId, RoomRef, User, UserId, WebhookEvent,
};
use serde_json::{Map, Value, json};

use super::delivery::{Messages, WebhookDelivery};
use crate::messages::Views;
use crate::model::MessageDetail;
use crate::ports::{Claimed, StoreError};
use crate::rooms::RoomView;

/// The events whose `data` is, or holds, the message they name.
fn names_a_message(event: WebhookEvent) -> bool {
    matches!(
        event,
        WebhookEvent::MessageCreated
            | WebhookEvent::MessageUpdated
            | WebhookEvent::MessageDeleted
            | WebhookEvent::MessageRestored
            | WebhookEvent::MessageUnreadOffline
    )
}

impl WebhookDelivery {
    /// Messages as the use cases read them, on the delivery's read ports.
    fn views(&self) -> Views<'_> {
        Views {
            rooms: self.ports.rooms.as_ref(),
            messages: self.ports.messages.as_ref(),
            users: self.ports.users.as_ref(),
        }
    }

    /// The messages the message events of `claimed` name, rendered, loaded together per
    /// account. A message the load did not find is recorded as gone (`None`): its delivery
    /// sends the snapshot without looking for it again. An account whose load failed is
    /// left out: its deliveries load their messages alone.
    pub(super) async fn messages_of(&self, claimed: &[Claimed]) -> Messages {
        let mut wanted: HashMap<AccountId, Vec<MessageId>> = HashMap::new();
        for claim in claimed {
            if let (true, Some(id)) = (names_a_message(claim.event.event), claim.event.message) {
                wanted.entry(claim.event.account).or_default().push(id);
            }
        }
        let mut rendered = Messages::new();
        for (account, mut ids) in wanted {
            ids.sort();
            ids.dedup();
            let messages = match self
                .ports
                .messages
                .find_messages(account, ids.clone())
                .await
            {
                Ok(messages) => messages,
                Err(error) => {
                    log_load("messages", &error);
                    continue;
                }
            };
            let views = match self
                .views()
                .across(account, messages, MessageDetail::Summary)
                .await
            {
                Ok(views) => views,
                Err(error) => {
                    tracing::debug!(error = %error, "webhooks: message views failed");
                    continue;
                }
            };
            rendered.extend(ids.into_iter().map(|id| (id, None)));
            rendered.extend(
                views
                    .iter()
                    .map(|view| (view.message.id, Some(self.ports.renderer.message(view)))),
            );
        }
        rendered
    }

    /// Message `id` rendered: as the claim's load left it (`messages`), else loaded alone;
    /// `None` when it is gone.
    async fn message_of(
        &self,
        messages: &Messages,
        account: AccountId,
        id: MessageId,
    ) -> Option<Value> {
        match messages.get(&id) {
            Some(loaded) => loaded.clone(),
            None => self.message(account, id).await,
        }
    }

    /// The payload's `data` in the ChatAPI rendering. What can no longer be loaded is
    /// sent from the recorded snapshot, or as its id alone: never dropped.
    pub(super) async fn data(&self, claimed: &Claimed, messages: &Messages) -> Value {
        let mut data = self.rendered(claimed, messages).await;
        // The renderer cannot know the account's client_id: set it where the ChatAPI
        // rendering carries one.
        let client_id = json!(claimed.client_id);
        if let Value::Object(map) = &mut data {
            if let Some(slot) = map.get_mut("client_id") {
                *slot = client_id.clone();
            }
            if let Some(Value::Object(message)) = map.get_mut("message")
                && let Some(slot) = message.get_mut("client_id")
            {
                *slot = client_id;
            }
        }
        data
    }

    async fn rendered(&self, claimed: &Claimed, messages: &Messages) -> Value {
        let event = &claimed.event;
        let account = event.account;
        let snapshot = || event.data.clone();
        match event.event {
            WebhookEvent::MessageCreated
            | WebhookEvent::MessageUpdated
            | WebhookEvent::MessageDeleted
            | WebhookEvent::MessageRestored => match event.message {
                Some(id) => match self.message_of(messages, account, id).await {
                    Some(message) => message,
                    None => snapshot().unwrap_or_else(|| json!({ "id": id.0 })),
                },
                None => snapshot().unwrap_or_else(|| json!({})),
            },
            WebhookEvent::RoomCreated
            | WebhookEvent::RoomUpdated
            | WebhookEvent::RoomActivated
            | WebhookEvent::RoomDeactivated => match event.room {
                Some(id) => match self.room(account, id).await {
                    Some((_, rendered)) => rendered,
                    None => snapshot().unwrap_or_else(|| json!({ "id": id.0 })),
                },
                None => snapshot().unwrap_or_else(|| json!({})),
            },
            WebhookEvent::RoomDeleted => snapshot()
                .unwrap_or_else(|| json!({ "id": event.room.map(|r| r.0), "name": Value::Null })),
            WebhookEvent::RoomJoined | WebhookEvent::RoomLeft => {
                Value::Object(self.room_and_user(claimed).await)
            }
            WebhookEvent::MessageRead => {
                let mut data = self.room_and_user(claimed).await;
                data.remove("user_name");
                if let (Some(id), false) =
                    (event.message, data.contains_key("last_read_message_id"))
                {
                    let found = self
                        .ports
                        .messages
                        .find_message(account, MessageRef::Id(id))
                        .await
                        .map_err(|e| log_load("message", &e));
                    let last = match found {
                        Ok(message) => json!(message.uuid),
                        Err(()) => json!(id.0),
                    };
                    data.insert("last_read_message_id".to_owned(), last);
                }
                for key in ["last_read_message_id", "seq"] {
                    data.entry(key).or_insert(Value::Null);
                }
                Value::Object(data)
            }
            WebhookEvent::MessageUnreadOffline => {
                let mut data = self.room_and_user(claimed).await;
                let message = match event.message {
                    Some(id) => self
                        .message_of(messages, account, id)
                        .await
                        .unwrap_or_else(|| json!({ "id": id.0 })),
                    None => Value::Null,
                };
                data.insert("message".to_owned(), message);
                Value::Object(data)
            }
            WebhookEvent::Test => snapshot().unwrap_or_else(|| {
                json!({
                    "webhook_id": claimed.webhook.uuid,
                    "message": "This is a test delivery.",
                })
            }),
            WebhookEvent::ReactionAdded | WebhookEvent::ReactionRemoved => {
                snapshot().unwrap_or_else(|| json!({}))
            }
        }
    }

    /// `{room_id, user_id, user_name}` over the snapshot's fields (the snapshot's
    /// values stand when the room or the user is gone).
    async fn room_and_user(&self, claimed: &Claimed) -> Map<String, Value> {
        let event = &claimed.event;
        let mut data = match &event.data {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        if let Some(room) = event.room {
            match self.room(event.account, room).await {
                Some((uuid, _)) => {
                    data.insert("room_id".to_owned(), json!(uuid));
                }
                None => {
                    data.entry("room_id").or_insert(json!(room.0));
                }
            }
        }
        if let Some(user) = event.user {
            match self.user(event.account, user).await {
                Some(found) => {
                    data.insert("user_id".to_owned(), self.ports.renderer.user_id(&found));
                    data.insert("user_name".to_owned(), json!(found.name.as_str()));
                }
                None => {
                    data.entry("user_id").or_insert(json!(user.0));
                    data.entry("user_name").or_insert(Value::Null);
                }
            }
        }
        data
    }

    async fn message(&self, account: AccountId, id: MessageId) -> Option<Value> {
        let message = self
            .ports
            .messages
            .find_message(account, MessageRef::Id(id))
            .await
            .map_err(|e| log_load("message", &e))
            .ok()?;
        let room = self.find_room(account, message.room_id).await?;
        let view = self
            .views()
            .one(&room, message, MessageDetail::Summary)
            .await
            .map_err(|e| tracing::debug!(error = %e, "webhooks: a message view failed"))
            .ok()?;
        Some(self.ports.renderer.message(&view))
    }

    async fn find_room(&self, account: AccountId, id: RoomId) -> Option<Room> {
        self.ports
            .rooms
            .find_room(account, RoomRef::Id(id))
            .await
            .map_err(|e| log_load("room", &e))
            .ok()
    }

    async fn room(&self, account: AccountId, id: RoomId) -> Option<(uuid::Uuid, Value)> {
        let room = self.find_room(account, id).await?;
        let uuid = room.uuid;
        let view = RoomView {
            room,
            members: None,
            unread_count: 0,
            unread_mentions: 0,
        };
        Some((uuid, self.ports.renderer.room(&view)))
    }

    async fn user(&self, account: AccountId, id: UserId) -> Option<User> {
        self.ports
            .users
            .find_users(account, vec![id])
            .await
            .map_err(|e| log_load("user", &e))
            .ok()?
            .into_iter()
            .next()
    }
}

fn log_load(what: &str, error: &StoreError) {
    tracing::debug!(error = %error, "webhooks: the {what} of an event could not be loaded");
}
