//! Fan-out: an event handed to every connection of its room, with the context its
//! renderings need read once; a connection that does not keep up is dropped.

use std::sync::Arc;

use chat_app::{
    Context, Delivery, DomainEvent, LiveEvent, MemberEvent, MessageEvent, Replied, RoomEvent,
    Scope, StoreError,
};
use chat_domain::{AccountId, MessageId, Seq};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::dispatcher::{Dispatcher, RoomKey};
use crate::reads::read_after;

impl Dispatcher {
    /// Hands `event` to every connection of its room.
    pub(crate) async fn fan_out(&mut self, event: LiveEvent) {
        let Some(key) = event.room() else {
            return;
        };
        // A user's stream follows them into a room they join, before the event.
        if let LiveEvent::Domain(DomainEvent::Member(MemberEvent::Joined { user, .. })) = &event {
            let streams: Vec<Uuid> = self
                .by_user
                .get(&(key.0, user.id))
                .map(|ids| ids.iter().copied().collect())
                .unwrap_or_default();
            for id in streams {
                if !self.by_room.contains_key(&key) {
                    match self.newest_seq(key.0, key.1).await {
                        Ok(seq) => {
                            self.last_seq.insert(key, seq);
                        }
                        Err(error) => {
                            tracing::warn!(%error, "a joined room could not be followed");
                            continue;
                        }
                    }
                }
                self.by_room.entry(key).or_default().insert(id);
            }
        }
        let targets: Vec<Uuid> = match self.by_room.get(&key) {
            Some(ids) => ids.iter().copied().collect(),
            None => return,
        };
        // Room sockets render what the event carries; only users' streams (the account
        // dialect) show room names and senders, which cost reads.
        let full = targets.iter().any(|id| {
            self.connections
                .get(id)
                .is_some_and(|s| matches!(s.scope, Scope::User { .. }))
        });
        let context = match self.context(&event, full).await {
            Ok(context) => context,
            Err(error) => {
                tracing::warn!(%error, "an event's context could not be read; delivered without it");
                Context::default()
            }
        };
        let typist = match &event {
            LiveEvent::Typing(typing) => Some(typing.user_key.clone()),
            _ => None,
        };
        let delivery = Arc::new(Delivery::new(event, context));
        let mut dropped = Vec::new();
        for id in targets {
            let Some(subscriber) = self.connections.get(&id) else {
                continue;
            };
            if typist.is_some() && subscriber.user_key == typist {
                continue; // typing is not echoed to the typist
            }
            match subscriber.sender.try_send(delivery.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    subscriber.state.mark_too_slow();
                    dropped.push(id);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => dropped.push(id),
            }
        }
        for id in dropped {
            self.remove(id);
        }
        self.after(&delivery.event, key);
    }

    /// Subscriptions that change with the event, once it is delivered.
    pub(crate) fn after(&mut self, event: &LiveEvent, key: RoomKey) {
        match event {
            LiveEvent::Domain(DomainEvent::Member(MemberEvent::Left { user, .. })) => {
                let streams: Vec<Uuid> = self
                    .by_user
                    .get(&(key.0, user.id))
                    .map(|ids| ids.iter().copied().collect())
                    .unwrap_or_default();
                for id in streams {
                    self.leave_room(key, id);
                }
                // The person's own room sockets end with their membership; access was
                // checked when they opened.
                let key_of_user = user.chat_user_id();
                let sockets: Vec<Uuid> = self
                    .by_room
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter(|id| {
                        self.connections.get(id).is_some_and(|s| {
                            matches!(s.scope, Scope::Room { .. })
                                && s.user_key.as_deref() == Some(key_of_user.as_str())
                        })
                    })
                    .copied()
                    .collect();
                for id in sockets {
                    if let Some(subscriber) = self.connections.get(&id) {
                        subscriber.state.mark_removed();
                    }
                    self.remove(id);
                }
            }
            LiveEvent::Domain(DomainEvent::Room(RoomEvent::Deleted { .. })) => {
                let ids: Vec<Uuid> = self
                    .by_room
                    .get(&key)
                    .map(|ids| ids.iter().copied().collect())
                    .unwrap_or_default();
                for id in ids {
                    let room_socket = self
                        .connections
                        .get(&id)
                        .is_some_and(|s| matches!(s.scope, Scope::Room { .. }));
                    if room_socket {
                        // Its queue closes after the room_deleted delivery.
                        self.remove(id);
                    } else {
                        self.leave_room(key, id);
                    }
                }
            }
            _ => {}
        }
    }

    /// What renderings of `event` need, read once.
    pub(crate) async fn context(
        &self,
        event: &LiveEvent,
        full: bool,
    ) -> Result<Context, StoreError> {
        let mut context = Context::default();
        match event {
            // Reactions render ids only; every other message event, the message.
            LiveEvent::Domain(DomainEvent::Message(
                MessageEvent::Created(message)
                | MessageEvent::Updated(message)
                | MessageEvent::Deleted(message)
                | MessageEvent::Restored(message)
                | MessageEvent::Pinned(message)
                | MessageEvent::Unpinned(message),
            )) => {
                let account = message.account_id;
                if full {
                    context.room_name = Some(
                        self.room(account, message.room_id)
                            .await?
                            .name
                            .as_str()
                            .to_owned(),
                    );
                    if let Some(sender) = message.sender.user_id() {
                        context.sender = self.user(account, sender).await?;
                    }
                }
                if let Some(replied) = message.reply_to {
                    context.replied = self.replied(account, replied, full).await?;
                }
            }
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Read { room, seq, user })) => {
                context.reader = self.user(room.account_id, *user).await?;
                let around = read_after(
                    self.stores.messages.as_ref(),
                    room.account_id,
                    room.id,
                    Seq(seq.0 - 1),
                    Some(*seq),
                )
                .await?;
                context.read_message = around.into_iter().find(|m| m.seq == *seq);
            }
            _ => {}
        }
        Ok(context)
    }

    pub(crate) async fn replied(
        &self,
        account: AccountId,
        id: MessageId,
        with_sender: bool,
    ) -> Result<Option<Replied>, StoreError> {
        let Some(message) = self
            .stores
            .messages
            .find_messages(account, vec![id])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let sender = match message.sender.user_id() {
            Some(user) if with_sender => self.user(account, user).await?,
            _ => None,
        };
        Ok(Some(Replied { message, sender }))
    }
}
