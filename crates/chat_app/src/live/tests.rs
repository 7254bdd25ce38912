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
use crate::{Authenticator, Messages, PlatformToken, Rooms, Sockets};

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
    }
}

/// Bob (user 7) on a socket to room 5.
fn room_session(since: Option<Seq>) -> LiveSession {
    let bob = user(7);
    LiveSession {
        actor: Actor::User {
            account: access(),
            user_id: bob.id,
            role: bob.role,
        },
        account: ACCOUNT,
        participant: Some(bob),
        kind: SessionKind::Room {
            room: room(ROOM),
            since,
        },
    }
}

/// The API key listening to room 5.
fn listener(since: Option<Seq>) -> LiveSession {
    LiveSession {
        actor: Actor::ApiKey(access()),
        participant: None,
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
}

impl Ports {
    fn sessions(self) -> LiveSessions {
        let rooms = Arc::new(self.rooms);
        let messages = Arc::new(self.messages);
        let users = Arc::new(self.users);
        let files = Arc::new(MockFileStore::new());
        let events = Arc::new(MockEventPublisher::new());
        let platform = PlatformToken::parse(PLATFORM).unwrap_or_else(|e| panic!("{e:?}"));
        LiveSessions::new(
            Authenticator::new(Arc::new(MockCredentialStore::new()), Some(platform)),
            Sockets::new(rooms.clone(), users.clone()),
            Rooms::new(
                rooms.clone(),
                messages.clone(),
                files.clone(),
                events.clone(),
            ),
            Messages::new(rooms, messages, users, files, events),
            Arc::new(self.presence),
            Arc::new(self.hub),
        )
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

// ---------------------------------------------------------------------- admission

#[test]
fn use_case_errors_become_refusals() {
    let cases = [
        (AppError::Unauthenticated, "unauthorized"),
        (AppError::WrongAccount, "unauthorized"),
        (AppError::NotFound(Resource::Room), "room not found"),
        (AppError::NotFound(Resource::User), "unauthorized"),
        (AppError::Forbidden(Denied::NotMember), "access denied"),
        (
            AppError::Forbidden(Denied::FeatureDisabled("chat_rooms")),
            "access denied",
        ),
        (
            AppError::Conflict(Conflict::RoomInactive),
            "admission failed: conflict: the room is inactive",
        ),
    ];
    for (error, refusal) in cases {
        assert_eq!(Refusal::from(error).to_string(), refusal);
    }
}

#[tokio::test]
async fn a_socket_without_a_token_or_with_the_platform_token_is_unauthorized() {
    let sessions = Ports::default().sessions();
    let room = Uuid::from_u128(5).to_string();
    for token in [None, Some(""), Some("  ")] {
        let refused = sessions.admit_room(token, &room, None, None).await;
        assert!(matches!(refused, Err(Refusal::Unauthorized)), "{token:?}");
    }
    let refused = sessions.admit_room(Some(PLATFORM), &room, None, None).await;
    assert!(matches!(refused, Err(Refusal::Unauthorized)));
    let refused = sessions.admit_stream(Some(PLATFORM), "1").await;
    assert!(matches!(refused, Err(Refusal::Unauthorized)));
}

#[tokio::test]
async fn a_room_that_is_no_uuid_is_not_found_and_a_bad_since_seq_is_refused() {
    let sessions = Ports::default().sessions();
    let refused = sessions
        .admit_room(Some(PLATFORM), "room-5", None, None)
        .await;
    assert!(matches!(refused, Err(Refusal::RoomNotFound)));
    let room = Uuid::from_u128(5).to_string();
    for since in ["-1", "x", "1.5"] {
        let refused = sessions
            .admit_room(Some(PLATFORM), &room, None, Some(since))
            .await;
        assert!(matches!(refused, Err(Refusal::InvalidSince)), "{since}");
    }
    let refused = sessions.admit_stream(Some(PLATFORM), "one").await;
    assert!(matches!(refused, Err(Refusal::Unauthorized)));
}

// ---------------------------------------------------------------------- presence

#[tokio::test]
async fn a_first_socket_announces_its_person_online_and_a_second_does_not() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    let mut opened = 0;
    ports
        .presence
        .expect_open_session()
        .times(2)
        .returning(move |session, ttl| {
            assert_eq!(session.node, Uuid::from_u128(99));
            assert_eq!(session.room, Some(ROOM));
            assert_eq!(session.user, Some(UserId(7)));
            assert_eq!(ttl, Duration::from_secs(30));
            opened += 1;
            Ok(opened)
        });
    let sessions = ports.sessions();
    assert!(sessions.open_presence(&room_session(None)).await.is_some());
    assert_eq!(taken(&events), vec![presence_of(true)]);
    assert!(sessions.open_presence(&room_session(None)).await.is_some());
    assert_eq!(taken(&events), vec![]);
}

#[tokio::test]
async fn a_listener_has_no_presence_and_a_failed_open_goes_on_without_it() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    ports
        .presence
        .expect_open_session()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable(anyhow::anyhow!("pool busy"))));
    let sessions = ports.sessions();
    assert_eq!(sessions.open_presence(&listener(None)).await, None);
    assert_eq!(sessions.open_presence(&room_session(None)).await, None);
    assert_eq!(taken(&events), vec![]);
}

#[tokio::test(start_paused = true)]
async fn closing_unsubscribes_and_retries_the_presence_close_until_it_goes_through() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    let subscription = Uuid::from_u128(3);
    ports
        .hub
        .expect_unsubscribe()
        .withf(move |id| *id == subscription)
        .times(1)
        .return_const(());
    ports.presence.expect_open_session().returning(|_, _| Ok(2));
    let mut tries = 0;
    ports
        .presence
        .expect_close_session()
        .times(3)
        .returning(move |_| {
            tries += 1;
            match tries {
                1 | 2 => Err(StoreError::Unavailable(anyhow::anyhow!("pool busy"))),
                _ => Ok(0),
            }
        });
    let sessions = ports.sessions();
    let presence = sessions.open_presence(&room_session(None)).await;
    let started = tokio::time::Instant::now();
    sessions.close(Some(subscription), presence).await;
    // 250 ms, then 500 ms between the tries.
    assert_eq!(started.elapsed(), Duration::from_millis(750));
    assert_eq!(taken(&events), vec![presence_of(false)]);
}

#[tokio::test(start_paused = true)]
async fn a_presence_close_that_keeps_failing_gives_up_after_its_attempts() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    ports.presence.expect_open_session().returning(|_, _| Ok(2));
    ports
        .presence
        .expect_close_session()
        .times(PRESENCE_CLOSE_ATTEMPTS as usize)
        .returning(|_| Err(StoreError::Unavailable(anyhow::anyhow!("pool busy"))));
    let sessions = ports.sessions();
    let presence = sessions.open_presence(&room_session(None)).await;
    sessions.close(None, presence).await;
    assert_eq!(taken(&events), vec![]);
}

#[tokio::test]
async fn a_close_that_leaves_other_sockets_open_announces_nothing() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    ports.presence.expect_open_session().returning(|_, _| Ok(2));
    ports
        .presence
        .expect_close_session()
        .times(1)
        .returning(|_| Ok(1));
    let sessions = ports.sessions();
    let presence = sessions.open_presence(&room_session(None)).await;
    sessions.close(None, presence).await;
    assert_eq!(taken(&events), vec![]);
}

// ---------------------------------------------------------------------- subscription, replay

#[tokio::test]
async fn a_socket_subscribes_to_its_room_and_a_stream_to_its_users_rooms() {
    let mut ports = Ports::default();
    ports
        .hub
        .expect_subscribe()
        .times(2)
        .returning(|scope, user_key| {
            assert_eq!(user_key, Some(user(7).chat_user_id()));
            let rooms = match scope {
                Scope::Room { account, room } => {
                    assert_eq!(account, ACCOUNT);
                    vec![room]
                }
                Scope::User {
                    account,
                    user,
                    rooms,
                } => {
                    assert_eq!((account, user), (ACCOUNT, UserId(7)));
                    rooms
                }
            };
            let start = rooms.into_iter().map(|room| (room, Seq(3))).collect();
            Ok(Connection::detached(Uuid::from_u128(3), start))
        });
    let sessions = ports.sessions();
    let socket = sessions.subscribe(&room_session(None)).await;
    let socket = socket.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(socket.start, HashMap::from([(ROOM, Seq(3))]));
    let stream = sessions.subscribe(&stream_session()).await;
    let stream = stream.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stream.start.len(), 2);
}

#[tokio::test]
async fn a_replay_pages_through_the_messages_after_since_up_to_the_start() {
    let mut ports = Ports::default();
    // Pages come newest last; the replay stops at the start without asking again.
    let mut pages = vec![
        vec![message(ROOM, 3)],
        vec![message(ROOM, 1), message(ROOM, 2)],
    ];
    ports
        .messages
        .expect_room_page()
        .times(2)
        .returning(move |account, reference, filter| {
            assert_eq!((account, reference), (ACCOUNT, RoomRef::Id(ROOM)));
            assert_eq!(filter.order, crate::MessageOrder::OldestFirst);
            assert!(filter.include_deleted);
            assert_eq!(filter.before_seq, Some(Seq(4)));
            let page = pages.pop().unwrap_or_default();
            let after = page.first().map_or(0, |m| m.seq.0 - 1);
            assert_eq!(filter.after_seq, Some(Seq(after)));
            Ok((room(ROOM), page, 3))
        });
    let sessions = ports.sessions();
    let session = listener(Some(Seq(0)));
    let mut connection = Connection::detached(Uuid::nil(), HashMap::from([(ROOM, Seq(3))]));
    let Some(mut replay) = sessions.replay(&session, &connection) else {
        panic!("a replay was asked for");
    };
    let mut seqs = Vec::new();
    while let Some(page) = sessions
        .replay_page(&session, &mut replay)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    {
        seqs.extend(page.into_iter().map(|view| view.message.seq.0));
    }
    assert_eq!(seqs, vec![1, 2, 3]);
    sessions.replayed(replay, &mut connection);
    assert_eq!(connection.start[&ROOM], Seq(3));
}

#[tokio::test]
async fn a_client_ahead_of_the_start_replays_nothing_and_skips_what_it_has() {
    let mut ports = Ports::default();
    ports.hub.expect_delivered().times(1).return_const(());
    let sessions = ports.sessions();
    let session = room_session(Some(Seq(5)));
    let mut connection = Connection::detached(Uuid::nil(), HashMap::from([(ROOM, Seq(3))]));
    let Some(mut replay) = sessions.replay(&session, &connection) else {
        panic!("a replay was asked for");
    };
    let page = sessions.replay_page(&session, &mut replay).await;
    assert!(matches!(page, Ok(None)));
    sessions.replayed(replay, &mut connection);
    assert_eq!(connection.start[&ROOM], Seq(5));
    let created = |seq| {
        Delivery::new(
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(message(
                ROOM, seq,
            )))),
            Context::default(),
        )
    };
    assert!(!sessions.shows(&session, &connection, &created(5)));
    // Shown, and counted as delivered to Bob (the one `delivered` expected).
    assert!(sessions.shows(&session, &connection, &created(6)));
    assert!(sessions.replay(&room_session(None), &connection).is_none());
}

#[tokio::test]
async fn a_listener_is_shown_new_messages_without_delivered_positions() {
    let sessions = Ports::default().sessions();
    let connection = Connection::detached(Uuid::nil(), HashMap::from([(ROOM, Seq(3))]));
    let delivery = Delivery::new(
        LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(message(
            ROOM, 4,
        )))),
        Context::default(),
    );
    assert!(sessions.shows(&listener(None), &connection, &delivery));
}

// ---------------------------------------------------------------------- client frames

#[tokio::test]
async fn ping_is_answered_with_pong() {
    let sessions = Ports::default().sessions();
    let reply = sessions.handle(&listener(None), LiveCommand::Ping).await;
    assert_eq!(reply.ok(), Some(Reply::Pong));
}

#[tokio::test]
async fn typing_publishes_the_participants_typing_in_the_sockets_room() {
    let events = published();
    let sessions = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    }
    .sessions();
    let command = LiveCommand::Typing {
        room: Some(RoomId(99)), // a room socket speaks of its own room only
        is_typing: Ok(false),
    };
    let reply = sessions.handle(&room_session(None), command).await;
    assert_eq!(reply.ok(), Some(Reply::Nothing));
    assert_eq!(
        taken(&events),
        vec![LiveEvent::Typing(Typing {
            account: ACCOUNT,
            room: ROOM,
            room_uuid: Uuid::from_u128(ROOM.0 as u128),
            user_key: user(7).chat_user_id(),
            user: Some(UserId(7)),
            user_name: "Bob".to_owned(),
            is_typing: false,
        })]
    );
}

#[tokio::test]
async fn a_listener_cannot_type_or_read_and_that_comes_before_its_fields() {
    let sessions = Ports::default().sessions();
    let typing = LiveCommand::Typing {
        room: None,
        is_typing: Err(FrameError::InvalidData("is_typing".to_owned())),
    };
    let refused = sessions.handle(&listener(None), typing).await;
    assert!(matches!(refused, Err(FrameError::Listener)));
    let read = LiveCommand::Read {
        message: Err(FrameError::InvalidData("message_id".to_owned())),
    };
    let refused = sessions.handle(&listener(None), read).await;
    assert!(matches!(refused, Err(FrameError::Listener)));
}

#[tokio::test]
async fn a_bad_is_typing_publishes_nothing() {
    let sessions = Ports::default().sessions();
    let typing = LiveCommand::Typing {
        room: None,
        is_typing: Err(FrameError::InvalidData("is_typing".to_owned())),
    };
    let refused = sessions.handle(&room_session(None), typing).await;
    assert!(matches!(refused, Err(FrameError::InvalidData(_))));
}

#[tokio::test]
async fn a_frame_on_a_stream_must_name_its_room() {
    let sessions = Ports::default().sessions();
    for command in [
        LiveCommand::OnlineUsers { room: None },
        LiveCommand::Typing {
            room: None,
            is_typing: Ok(true),
        },
        LiveCommand::Message {
            room: None,
            draft: Ok(MessageDraft::default()),
        },
    ] {
        let refused = sessions.handle(&stream_session(), command).await;
        assert!(
            matches!(&refused, Err(FrameError::InvalidData(m)) if m == "room_id is required on this socket"),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn online_users_of_a_room_socket_are_its_rooms() {
    let mut ports = Ports::default();
    ports
        .presence
        .expect_online_in_room()
        .withf(|account, room| (*account, *room) == (ACCOUNT, ROOM))
        .returning(|_, _| Ok(vec!["alice".to_owned(), "bob".to_owned()]));
    let sessions = ports.sessions();
    let command = LiveCommand::OnlineUsers { room: None };
    let reply = sessions.handle(&listener(None), command).await;
    assert_eq!(
        reply.ok(),
        Some(Reply::OnlineUsers {
            room: room(ROOM),
            online: vec!["alice".to_owned(), "bob".to_owned()],
        })
    );
}

#[tokio::test]
async fn a_read_of_a_message_of_another_room_is_not_found_on_a_room_socket() {
    let mut ports = Ports::default();
    ports
        .messages
        .expect_find_message()
        .returning(|_, _| Ok(message(RoomId(6), 2)));
    ports
        .rooms
        .expect_find_room()
        .returning(|_, _| Ok(room(RoomId(6))));
    ports.rooms.expect_is_member().returning(|_, _, _| Ok(true));
    ports
        .messages
        .expect_find_messages()
        .returning(|_, _| Ok(Vec::new()));
    let sessions = ports.sessions();
    let read = LiveCommand::Read {
        message: Ok(MessageRef::Id(MessageId(6_002))),
    };
    let refused = sessions.handle(&room_session(None), read).await;
    assert!(matches!(refused, Err(FrameError::NotInRoom)), "{refused:?}");
}

#[tokio::test]
async fn a_message_frame_reports_its_fields_after_its_room_and_sends_nothing() {
    let sessions = Ports::default().sessions();
    let command = LiveCommand::Message {
        room: None,
        draft: Err(FrameError::InvalidData("data must be an object".to_owned())),
    };
    let refused = sessions.handle(&room_session(None), command).await;
    assert!(
        matches!(&refused, Err(FrameError::InvalidData(m)) if m == "data must be an object"),
        "{refused:?}"
    );
    let command = LiveCommand::Message {
        room: None,
        draft: Ok(MessageDraft {
            content: Some("hi".to_owned()),
            reply_to: Some(Err(FrameError::InvalidData(
                "message_id is required".to_owned(),
            ))),
            ..MessageDraft::default()
        }),
    };
    let refused = sessions.handle(&room_session(None), command).await;
    assert!(
        matches!(&refused, Err(FrameError::InvalidData(m)) if m == "message_id is required"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_empty_message_is_refused_by_the_use_case_before_anything_is_stored() {
    let sessions = Ports::default().sessions();
    let command = LiveCommand::Message {
        room: None,
        draft: Ok(MessageDraft::default()),
    };
    let refused = sessions.handle(&room_session(None), command).await;
    assert!(
        matches!(refused, Err(FrameError::Refused(AppError::Invalid(_)))),
        "{refused:?}"
    );
}
