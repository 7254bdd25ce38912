//! A live connection's life: presence opened (online when first), the subscription,
//! the replay of what it missed, which deliveries it shows, and the close (offline when
//! last, retried: a session left open would stay online for good).

use std::time::Duration;

use chat_domain::{AccountId, Message, Person, RoomId, RoomRef, Seq};
use uuid::Uuid;

use crate::events::{DomainEvent, MessageEvent};
use crate::live::events::{LiveEvent, PresenceChange};
use crate::live::hub::{Connection, Delivery};
use crate::live::presence::PresenceSession;
use crate::live::session::{LiveSession, Presence, SessionKind};
use crate::live::sessions::LiveSessions;
use crate::{AppError, MessageFilter, MessageOrder, MessageView, Resource, Window};

/// Tries at closing a socket's presence session.
pub const PRESENCE_CLOSE_ATTEMPTS: u32 = 5;

/// The wait after the first failed try at closing a presence session; it doubles.
pub const PRESENCE_CLOSE_BACKOFF: Duration = Duration::from_millis(250);

/// A replay in progress: a room's messages after `since`, up to where the connection's
/// deliveries start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    room: RoomId,
    since: Seq,
    after: Seq,
    start: Seq,
    done: bool,
}

impl LiveSessions {
    /// Records the connection in presence, and announces the person online in a room
    /// where it is their first socket. `None` without a participant, or when presence
    /// could not be written (logged: the connection goes on without it).
    pub async fn open_presence(&self, session: &LiveSession) -> Option<Presence> {
        let user = session.participant.as_ref()?;
        let room = session.room().map(|room| (room.id, room.uuid));
        let presence = Presence {
            id: Uuid::new_v4(),
            account: session.account,
            room,
            user_key: user.chat_user_id(),
            user: Some(user.id),
        };
        let record = PresenceSession {
            id: presence.id,
            node: self.hub.node(),
            account: session.account,
            room: room.map(|(id, _)| id),
            user_key: presence.user_key.clone(),
            user: presence.user,
        };
        match self
            .presence
            .open_session(record, self.hub.presence_ttl())
            .await
        {
            Ok(live) => {
                if live == 1 {
                    self.announce(&presence, true);
                }
                Some(presence)
            }
            Err(error) => {
                tracing::warn!(%error, "a presence session could not be opened");
                None
            }
        }
    }

    /// Subscribes the connection to the hub. `None` scope (a stream without its user)
    /// is `Unauthenticated`.
    pub async fn subscribe(&self, session: &LiveSession) -> Result<Connection, AppError> {
        let scope = session.scope().ok_or(AppError::Unauthenticated)?;
        self.hub
            .subscribe(scope, session.user_key())
            .await
            .map_err(|error| error.into_app(Resource::Room))
    }

    /// The ChatAPI `user_id`s online in `room` (empty, and logged, when presence cannot
    /// be read).
    pub async fn online(&self, account: AccountId, room: RoomId) -> Vec<String> {
        match self.presence.online_in_room(account, room).await {
            Ok(users) => users,
            Err(error) => {
                tracing::warn!(%error, "online users could not be read");
                Vec::new()
            }
        }
    }

    /// The replay a room socket asked for with `since_seq`, if any.
    pub fn replay(&self, session: &LiveSession, connection: &Connection) -> Option<Replay> {
        let SessionKind::Room {
            room,
            since: Some(since),
        } = &session.kind
        else {
            return None;
        };
        let start = connection.start.get(&room.id).copied()?;
        Some(Replay {
            room: room.id,
            since: *since,
            after: *since,
            start,
            done: false,
        })
    }

    /// The replay's next page of messages, oldest first, deleted ones included; `None`
    /// once it is complete.
    pub async fn replay_page(
        &self,
        session: &LiveSession,
        replay: &mut Replay,
    ) -> Result<Option<Vec<MessageView>>, AppError> {
        if replay.done || replay.after >= replay.start {
            return Ok(None);
        }
        let mut filter = MessageFilter::newest(Window {
            offset: 0,
            limit: Window::MAX_LIMIT,
        });
        filter.order = MessageOrder::OldestFirst;
        filter.include_deleted = true;
        filter.after_seq = Some(replay.after);
        filter.before_seq = Some(Seq(replay.start.0 + 1));
        let page = self
            .messages
            .list(
                &session.actor,
                RoomRef::Id(replay.room),
                filter,
                session.detail(),
            )
            .await?;
        let Some(last) = page.items.last().map(|view| view.message.seq) else {
            replay.done = true;
            return Ok(None);
        };
        replay.after = last;
        Ok(Some(page.items))
    }

    /// Ends a replay: live messages up to where the client already is are not sent
    /// again.
    pub fn replayed(&self, replay: Replay, connection: &mut Connection) {
        if replay.since > replay.start {
            connection.start.insert(replay.room, replay.since);
        }
    }

    /// Whether the connection shows `delivery`: a new message the replay sent already
    /// is skipped. A new message shown to a participant counts as delivered to them.
    pub fn shows(
        &self,
        session: &LiveSession,
        connection: &Connection,
        delivery: &Delivery,
    ) -> bool {
        if let LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(m))) = &delivery.event {
            if connection
                .start
                .get(&m.room_id)
                .is_some_and(|start| m.seq <= *start)
            {
                return false; // sent by the replay already
            }
            if let Some(user) = &session.participant {
                self.hub.delivered(m.account_id, m.room_id, user.id, m.seq);
            }
        }
        true
    }

    /// Whether a delivery the connection shows is a new message naming its person: the
    /// message and that mention, for a `mention` frame after the message's own. Only a
    /// message with mentions costs more than a look at the event.
    pub fn mentioned<'d>(
        &self,
        session: &LiveSession,
        delivery: &'d Delivery,
    ) -> Option<(&'d Message, &'d Person)> {
        let LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(message))) =
            &delivery.event
        else {
            return None;
        };
        if message.mentions.is_empty() {
            return None;
        }
        let user = session.participant.as_ref()?;
        let person = message
            .mentions
            .iter()
            .find(|person| person.id == user.id)?;
        Some((message, person))
    }

    /// Ends a connection: unsubscribes it and closes its presence session, announcing
    /// the person offline where it was their last socket. A failed close is retried
    /// ([`PRESENCE_CLOSE_ATTEMPTS`] tries, waiting from [`PRESENCE_CLOSE_BACKOFF`],
    /// doubling): the node's heartbeat renews every session it has, so one left open
    /// would stay online for good.
    pub async fn close(&self, subscription: Option<Uuid>, presence: Option<Presence>) {
        if let Some(id) = subscription {
            self.hub.unsubscribe(id);
        }
        let Some(presence) = presence else {
            return;
        };
        let mut wait = PRESENCE_CLOSE_BACKOFF;
        for attempt in 1..=PRESENCE_CLOSE_ATTEMPTS {
            match self.presence.close_session(presence.id).await {
                Ok(0) => self.announce(&presence, false),
                Ok(_) => {}
                Err(error) if attempt < PRESENCE_CLOSE_ATTEMPTS => {
                    tracing::debug!(%error, attempt, "closing a presence session failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    continue;
                }
                Err(error) => tracing::warn!(%error, "a presence session could not be closed"),
            }
            return;
        }
    }

    fn announce(&self, presence: &Presence, online: bool) {
        if let Some((room, room_uuid)) = presence.room {
            self.hub.publish_live(LiveEvent::Presence(PresenceChange {
                account: presence.account,
                room,
                room_uuid,
                user_key: presence.user_key.clone(),
                user: presence.user,
                online,
            }));
        }
    }
}
