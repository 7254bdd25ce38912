//! The live-session use case over mocks of its ports.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_domain::{
    AccountId, Availability, Content, Features, Message, MessageId, MessageKind, MessageMeta,
    MessageRef, PersonName, Role, Room, RoomId, RoomMeta, RoomName, RoomRef, Sender, Seq, User,
    UserId,
};
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::actor::{AccountAccess, Actor};
use crate::error::{AppError, Conflict, Denied, Resource};
use crate::events::{DomainEvent, MessageEvent, MockEventPublisher};
use crate::ports::{
    MockCredentialStore, MockFileStore, MockMessageStore, MockRoomStore, MockUserDirectory,
    StoreError,
};
use crate::{Authenticated, Authenticator, Messages, PlatformToken, Rooms, Sockets};

const ACCOUNT: AccountId = AccountId(1);
const ROOM: RoomId = RoomId(5);
const PLATFORM: &str = "platform-token-of-at-least-32-characters!";

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: Uuid::from_u128(1),
        features: Features::default(),
    }
}

fn room(id: RoomId) -> Room {
    Room {
        id,
        uuid: Uuid::from_u128(id.0 as u128),
        account_id: ACCOUNT,
        name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        meta: RoomMeta::default(),
        is_active: true,
        avatar: None,
        member_count: 2,
        message_count: 0,
        last_message_at: datetime!(2024-01-01 0:00 UTC),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

fn user(id: i64) -> User {
    User {
        id: UserId(id),
        account_id: ACCOUNT,
        external_id: None,
        name: PersonName::parse("Bob").unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role: Role::Agent,
        availability: Availability::Offline,
        confirmed: true,
        is_active: true,
        meta: chat_domain::UserMeta::default(),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

fn message(room: RoomId, seq: i64) -> Message {
    let id = room.0 * 1_000 + seq;
    Message {
        id: MessageId(id),
        uuid: Uuid::from_u128(id as u128),
        account_id: ACCOUNT,
        room_id: room,
        room_uuid: Uuid::from_u128(room.0 as u128),
        seq: Seq(seq),
        sender: Sender::User {
            id: UserId(7),
            label: "7".to_owned(),
        },
        sender_name: None,
        content: Content::parse("hello").unwrap_or_else(|e| panic!("{e:?}")),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: chat_domain::ThreadStats::default(),
        mentions: Vec::new(),
        reactions: chat_domain::Reactions::new(),
        pin: None,
    }
}

/// What `secret` authenticated as, not expiring.
fn credential(secret: &str, actor: Actor) -> SocketCredential {
    SocketCredential::new(
        secret,
        Authenticated {
            actor,
            expires_at: None,
        },
    )
}

/// Bob (user 7) on a socket to room 5, with his user token.
fn room_session(since: Option<Seq>) -> LiveSession {
    let bob = user(7);
    let actor = Actor::User {
        account: access(),
        user_id: bob.id,
        role: bob.role,
        scope: None,
    };
    LiveSession {
        actor,
        account: ACCOUNT,
        participant: Some(bob),
        kind: SessionKind::Room {
            room: room(ROOM),
            since,
        },
        credential: credential("ut_bob", actor),
    }
}

/// The API key listening to room 5.
fn listener(since: Option<Seq>) -> LiveSession {
    LiveSession {
        actor: Actor::ApiKey(access()),
        participant: None,
        credential: credential("ck_key", Actor::ApiKey(access())),
        ..room_session(since)
    }
}

/// Bob's stream of rooms 5 and 6.
fn stream_session() -> LiveSession {
    LiveSession {
        kind: SessionKind::Stream {
            rooms: vec![ROOM, RoomId(6)],
        },
        ..room_session(None)
    }
}

#[derive(Default)]
struct Ports {
    rooms: MockRoomStore,
    messages: MockMessageStore,
    users: MockUserDirectory,
    presence: MockPresenceStore,
    hub: MockLiveHub,
    credentials: MockCredentialStore,
    /// The authenticator's cache, when it has one.
    cache: Option<Arc<crate::CredentialCache>>,
}

/// The credential watcher the live sessions gave the hub.
type Watcher = Arc<Mutex<Option<Arc<dyn CredentialWatcher>>>>;

impl Ports {
    fn sessions(self) -> LiveSessions {
        self.sessions_watched(Watcher::default())
    }

    /// Live sessions whose credential watcher lands in `watcher`.
    fn sessions_watched(mut self, watcher: Watcher) -> LiveSessions {
        self.hub
            .expect_watch_credentials()
            .times(1)
            .returning(move |given| {
                if let Ok(mut slot) = watcher.lock() {
                    *slot = Some(given);
                }
            });
        let rooms = Arc::new(self.rooms);
        let messages = Arc::new(self.messages);
        let users = Arc::new(self.users);
        let files = Arc::new(MockFileStore::new());
        let events = Arc::new(MockEventPublisher::new());
        let platform = PlatformToken::parse(PLATFORM).unwrap_or_else(|e| panic!("{e:?}"));
        let auth = match &self.cache {
            Some(cache) => {
                Authenticator::with_cache(Arc::new(self.credentials), Some(platform), cache.clone())
            }
            None => Authenticator::new(Arc::new(self.credentials), Some(platform)),
        };
        let sessions = LiveSessions::new(
            auth,
            Sockets::new(rooms.clone(), users.clone()),
            Rooms::new(
                rooms.clone(),
                messages.clone(),
                users.clone(),
                files.clone(),
                events.clone(),
            ),
            Messages::new(rooms, messages, users, files, events),
            Arc::new(self.presence),
            Arc::new(self.hub),
        );
        match self.cache {
            Some(cache) => sessions.with_credential_cache(cache),
            None => sessions,
        }
    }
}

/// A hub that records what is published on it.
fn recording_hub(published: Arc<Mutex<Vec<LiveEvent>>>) -> MockLiveHub {
    let mut hub = MockLiveHub::new();
    hub.expect_node().return_const(Uuid::from_u128(99));
    hub.expect_presence_ttl()
        .return_const(Duration::from_secs(30));
    hub.expect_publish_live().returning(move |event| {
        if let Ok(mut published) = published.lock() {
            published.push(event);
        }
    });
    hub
}

fn published() -> Arc<Mutex<Vec<LiveEvent>>> {
    Arc::new(Mutex::new(Vec::new()))
}

fn taken(published: &Arc<Mutex<Vec<LiveEvent>>>) -> Vec<LiveEvent> {
    published
        .lock()
        .map(|mut events| std::mem::take(&mut *events))
        .unwrap_or_default()
}

fn presence_of(online: bool) -> LiveEvent {
    LiveEvent::Presence(PresenceChange {
        account: ACCOUNT,
        room: ROOM,
        room_uuid: Uuid::from_u128(ROOM.0 as u128),
        user_key: user(7).chat_user_id(),
        user: Some(UserId(7)),
        online,
    })
}

mod admission;
mod credentials;
mod frames;
mod mentions;
mod presence;
mod replay;
mod scoped;
