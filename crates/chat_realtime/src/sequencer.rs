//! The sequencer: each room's new messages delivered in `seq` order, each once; what
//! was missed is read from the tables.

use chat_app::{DomainEvent, LiveEvent, MessageEvent, MessageFilter, StoreError, Window};
use chat_domain::{AccountId, Message, RoomId, Seq};

use crate::dispatcher::{Dispatcher, RoomKey};
use crate::reads::read_after;

impl Dispatcher {
    pub(crate) async fn newest_seq(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Seq, StoreError> {
        let mut filter = MessageFilter::newest(Window {
            offset: 0,
            limit: 1,
        });
        filter.include_deleted = true;
        let (newest, _) = self
            .stores
            .messages
            .list_messages(account, room, filter)
            .await?;
        Ok(newest.first().map_or(Seq(0), |m| m.seq))
    }

    pub(crate) async fn local(&mut self, event: LiveEvent) {
        match event {
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(message))) => {
                let (account, room, seq) = (message.account_id, message.room_id, message.seq);
                self.committed(account, room, seq, Some(message)).await;
            }
            LiveEvent::Domain(DomainEvent::Credentials(event)) => self.credentials_changed(event),
            other => self.fan_out(other).await,
        }
    }

    /// The room's messages up to `seq` are committed: deliver those not delivered yet,
    /// in order.
    pub(crate) async fn committed(
        &mut self,
        account: AccountId,
        room: RoomId,
        seq: Seq,
        message: Option<Message>,
    ) {
        let key = (account, room);
        if !self.by_room.contains_key(&key) {
            return;
        }
        let last = self.last_seq.get(&key).copied().unwrap_or(Seq(0));
        if seq <= last {
            return; // delivered already (a late local event, or a duplicate notice)
        }
        let messages = match message {
            Some(message) if seq.0 == last.0 + 1 => vec![message],
            _ => match self.read_range(account, room, last, seq).await {
                Ok(messages) => messages,
                Err(error) => {
                    tracing::warn!(%error, room = room.0, "missing messages could not be read");
                    return;
                }
            },
        };
        self.deliver_created(key, messages).await;
    }

    /// Delivers new messages of one room in order, remembering the last one delivered
    /// — for as long as anyone here still listens to the room (a delivery may drop its
    /// last socket).
    pub(crate) async fn deliver_created(&mut self, key: RoomKey, messages: Vec<Message>) {
        for message in messages {
            let seq = message.seq;
            self.fan_out(LiveEvent::Domain(DomainEvent::Message(
                MessageEvent::Created(message),
            )))
            .await;
            if !self.by_room.contains_key(&key) {
                return;
            }
            self.last_seq.insert(key, seq);
        }
    }

    /// The room's messages after `after` up to `upto`, oldest first.
    pub(crate) async fn read_range(
        &self,
        account: AccountId,
        room: RoomId,
        after: Seq,
        upto: Seq,
    ) -> Result<Vec<Message>, StoreError> {
        read_after(
            self.stores.messages.as_ref(),
            account,
            room,
            after,
            Some(upto),
        )
        .await
    }

    pub(crate) async fn resync(&mut self) {
        let rooms: Vec<(RoomKey, Seq)> = self.last_seq.iter().map(|(k, s)| (*k, *s)).collect();
        for ((account, room), last) in rooms {
            match read_after(self.stores.messages.as_ref(), account, room, last, None).await {
                Ok(messages) => self.deliver_created((account, room), messages).await,
                Err(error) => tracing::warn!(%error, room = room.0, "resync failed"),
            }
        }
    }
}
