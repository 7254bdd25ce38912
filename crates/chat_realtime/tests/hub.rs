//! The live-event hub over mocked ports: subscriptions and where they start, ordered
//! fan-out with gap reads, notices from other nodes, resync, typing, slow
//! connections, room deletion, user streams following their user, batched
//! delivered positions and unsubscription.
//!
//! The message store's mock serves a small in-memory table (each test commits the
//! messages it publishes, as the use cases do before publishing) and records every
//! read and every delivered position written; the relay is a recorder.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_app::live::MockPresenceStore;
use chat_app::ports::{MockMessageStore, MockRoomStore, MockUserDirectory};
use chat_app::{Connection, Context, Delivery, Scope};
use chat_app::{
    DomainEvent, EventPublisher, EventRelay, LiveEvent, MemberEvent, MessageEvent, MessageFilter,
    MessageOrder, Notice, RelayInbox, RoomEvent, StoreError, Typing, Window,
};
use chat_domain::{
    AccountId, Availability, Content, Message, MessageId, MessageKind, MessageMeta, PersonName,
    Role, Room, RoomId, RoomMeta, RoomName, RoomRef, Sender, Seq, User, UserId,
};
use chat_realtime::{Hub, HubConfig, HubStores};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::time::{Instant, sleep, timeout};
use uuid::Uuid;

const ACCOUNT: AccountId = AccountId(1);
const OTHER_ACCOUNT: AccountId = AccountId(2);
const ROOM: RoomId = RoomId(5);
const ROOM_B: RoomId = RoomId(6);
const ROOM_C: RoomId = RoomId(7);

/// How long a delivery that should come may take.
const WAIT: Duration = Duration::from_secs(2);
/// How long to listen to be sure nothing comes.
const QUIET: Duration = Duration::from_millis(100);
const FLUSH: Duration = Duration::from_millis(10);

// ---------------------------------------------------------------- domain values

fn when() -> OffsetDateTime {
    datetime!(2024-01-01 0:00 UTC)
}

fn room_name(id: RoomId) -> String {
    format!("Room {}", id.0)
}

fn room(account: AccountId, id: RoomId) -> Room {
    Room {
        id,
        uuid: Uuid::from_u128(id.0 as u128),
        account_id: account,
        name: RoomName::parse(&room_name(id)).expect("a valid room name"),
        description: None,
        meta: RoomMeta::default(),
        is_active: true,
        avatar: None,
        member_count: 2,
        message_count: 0,
        last_message_at: when(),
        created_at: when(),
        updated_at: when(),
    }
}

fn user(account: AccountId, id: i64) -> User {
    User {
        id: UserId(id),
        account_id: account,
        external_id: None,
        name: PersonName::parse(&format!("User {id}")).expect("a valid name"),
        email: None,
        role: Role::Agent,
        availability: Availability::Offline,
        confirmed: true,
        is_active: true,
        meta: chat_domain::UserMeta::default(),
        created_at: when(),
        updated_at: when(),
    }
}

/// Message `seq` of a room, sent by user `sender`.
fn message(account: AccountId, room: RoomId, seq: i64, sender: i64) -> Message {
    let id = account.0 * 1_000_000 + room.0 * 1_000 + seq;
    Message {
        id: MessageId(id),
        uuid: Uuid::from_u128(id as u128),
        account_id: account,
        room_id: room,
        room_uuid: Uuid::from_u128(room.0 as u128),
        seq: Seq(seq),
        sender: Sender::User {
            id: UserId(sender),
            label: sender.to_string(),
        },
        sender_name: None,
        content: Content::parse(&format!("message {seq}")).expect("valid content"),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        created_at: when(),
        updated_at: when(),
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: chat_domain::ThreadStats::default(),
        mentions: Vec::new(),
        reactions: Vec::new(),
        pin: None,
    }
}

fn created(message: &Message) -> DomainEvent {
    DomainEvent::Message(MessageEvent::Created(message.clone()))
}

/// What the sockets of a room receive for a new message when only room sockets listen:
/// the message itself (room sockets render the ChatAPI dialect, which needs no more).
fn created_delivery(message: &Message) -> Delivery {
    Delivery::new(LiveEvent::Domain(created(message)), Context::default())
}

/// What they receive when a user's stream listens too: also the room's name and the
/// sender, which the account dialect shows.
fn created_delivery_full(message: &Message) -> Delivery {
    Delivery::new(
        LiveEvent::Domain(created(message)),
        Context {
            room_name: Some(room_name(message.room_id)),
            sender: message
                .sender
                .user_id()
                .map(|id| user(message.account_id, id.0)),
            ..Context::default()
        },
    )
}

fn bare(event: LiveEvent) -> Delivery {
    Delivery::new(event, Context::default())
}

fn typing(room: RoomId, user_key: &str, user_id: i64) -> Typing {
    Typing {
        account: ACCOUNT,
        room,
        room_uuid: Uuid::from_u128(room.0 as u128),
        user_key: user_key.to_owned(),
        user: Some(UserId(user_id)),
        user_name: format!("User {user_id}"),
        is_typing: true,
    }
}

fn room_scope(account: AccountId, room: RoomId) -> Scope {
    Scope::Room { account, room }
}

fn user_scope(user: i64, rooms: &[RoomId]) -> Scope {
    Scope::User {
        account: ACCOUNT,
        user: UserId(user),
        rooms: rooms.to_vec(),
    }
}

/// The read that answers where a room stands: its newest message, deleted or not.
fn newest_filter() -> MessageFilter {
    let mut filter = MessageFilter::newest(Window {
        offset: 0,
        limit: 1,
    });
    filter.include_deleted = true;
    filter
}

// ---------------------------------------------------------------- the ports

/// One `list_messages` call.
#[derive(Debug, Clone, PartialEq)]
struct ListCall {
    account: AccountId,
    room: RoomId,
    filter: MessageFilter,
}

impl ListCall {
    fn is_newest(&self, account: AccountId, room: RoomId) -> bool {
        self.account == account && self.room == room && self.filter == newest_filter()
    }

    /// A read of the room's messages after `after` (up to `upto` when given), oldest
    /// first, deleted ones included.
    fn is_range(&self, account: AccountId, room: RoomId, after: Seq, upto: Option<Seq>) -> bool {
        self.account == account
            && self.room == room
            && self.filter.order == MessageOrder::OldestFirst
            && self.filter.include_deleted
            && self.filter.after_seq == Some(after)
            && self.filter.before_seq == upto.map(|upto| Seq(upto.0 + 1))
    }
}

type Mark = (AccountId, RoomId, UserId, Seq);

/// The message table the mock serves, and what was asked of it.
#[derive(Debug, Default)]
struct Tables {
    messages: Mutex<HashMap<(AccountId, RoomId), Vec<Message>>>,
    lists: Mutex<Vec<ListCall>>,
    marks: Mutex<Vec<Mark>>,
}

impl Tables {
    /// Stores messages 1..=`upto` of a room (sent by user 10).
    fn fill(&self, account: AccountId, room: RoomId, upto: i64) {
        for seq in 1..=upto {
            self.commit(message(account, room, seq, 10));
        }
    }

    /// Stores a message (as the use case does before publishing it).
    fn commit(&self, message: Message) -> Message {
        self.messages
            .lock()
            .expect("tables")
            .entry((message.account_id, message.room_id))
            .or_default()
            .push(message.clone());
        message
    }

    fn list(&self, account: AccountId, room: RoomId, filter: MessageFilter) -> (Vec<Message>, i64) {
        self.lists.lock().expect("tables").push(ListCall {
            account,
            room,
            filter: filter.clone(),
        });
        let mut passing: Vec<Message> = self
            .messages
            .lock()
            .expect("tables")
            .get(&(account, room))
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| filter.include_deleted || !m.is_deleted())
            .filter(|m| filter.after_seq.is_none_or(|after| m.seq > after))
            .filter(|m| filter.before_seq.is_none_or(|before| m.seq < before))
            .collect();
        passing.sort_by_key(|m| m.seq);
        if filter.order == MessageOrder::NewestFirst {
            passing.reverse();
        }
        let total = passing.len() as i64;
        let page = passing
            .into_iter()
            .skip(usize::try_from(filter.window.offset).unwrap_or(0))
            .take(usize::try_from(filter.window.limit).unwrap_or(0))
            .collect();
        (page, total)
    }

    fn lists(&self) -> Vec<ListCall> {
        self.lists.lock().expect("tables").clone()
    }

    fn list_count(&self) -> usize {
        self.lists.lock().expect("tables").len()
    }

    fn marks(&self) -> Vec<Mark> {
        let mut marks = self.marks.lock().expect("tables").clone();
        marks.sort();
        marks
    }
}

/// A relay that keeps what it is given.
#[derive(Debug, Default)]
struct RecordingRelay(Mutex<Vec<Notice>>);

impl EventRelay for RecordingRelay {
    fn relay(&self, notice: Notice) {
        self.0.lock().expect("relay").push(notice);
    }
}

impl RecordingRelay {
    fn notices(&self) -> Vec<Notice> {
        self.0.lock().expect("relay").clone()
    }
}

struct Harness {
    hub: Hub,
    tables: Arc<Tables>,
    relay: Arc<RecordingRelay>,
}

fn config() -> HubConfig {
    HubConfig {
        queue_capacity: 16,
        delivered_flush: FLUSH,
        presence_ttl: Duration::from_secs(30),
        presence_heartbeat: Duration::from_secs(10),
    }
}

/// A hub whose message store serves `tables` for every room.
fn start(config: HubConfig, tables: Arc<Tables>) -> Harness {
    start_with(config, tables, MockMessageStore::new(), |_, _| true)
}

/// A hub whose message store answers `list_messages` only for the rooms `readable`
/// accepts, after the expectations `messages` already has (matched first).
fn start_with(
    config: HubConfig,
    tables: Arc<Tables>,
    mut messages: MockMessageStore,
    readable: impl Fn(AccountId, RoomId) -> bool + Send + Sync + 'static,
) -> Harness {
    let served = tables.clone();
    messages
        .expect_list_messages()
        .withf(move |account, room, _| readable(*account, *room))
        .returning(move |account, room, filter| Ok(served.list(account, room, filter)));
    let marked = tables.clone();
    messages
        .expect_mark_delivered()
        .returning(move |account, room, user, seq| {
            marked
                .marks
                .lock()
                .expect("tables")
                .push((account, room, user, seq));
            Ok(())
        });

    let mut rooms = MockRoomStore::new();
    rooms
        .expect_find_room()
        .returning(|account, reference| match reference {
            RoomRef::Id(id) => Ok(room(account, id)),
            _ => Err(StoreError::NotFound),
        });

    let mut users = MockUserDirectory::new();
    users
        .expect_find_users()
        .returning(|account, ids| Ok(ids.into_iter().map(|id| user(account, id.0)).collect()));

    let mut presence = MockPresenceStore::new();
    presence.expect_heartbeat().returning(|_, _| Ok(()));

    let relay = Arc::new(RecordingRelay::default());
    let hub = Hub::start(
        HubStores {
            rooms: Arc::new(rooms),
            messages: Arc::new(messages),
            users: Arc::new(users),
            presence: Arc::new(presence),
        },
        relay.clone(),
        Uuid::from_u128(99),
        config,
    );
    Harness { hub, tables, relay }
}

// ---------------------------------------------------------------- connections

async fn subscribe(hub: &Hub, scope: Scope, user_key: Option<&str>) -> Connection {
    hub.subscribe(scope, user_key.map(str::to_owned))
        .await
        .expect("subscribed")
}

/// The next delivery, which must come.
async fn next(connection: &mut Connection) -> Delivery {
    let delivery = timeout(WAIT, connection.deliveries.recv())
        .await
        .expect("a delivery in time")
        .expect("the queue is open");
    Delivery::clone(&delivery)
}

/// Nothing arrives for a while, and the queue stays open.
async fn quiet(connection: &mut Connection) {
    match timeout(QUIET, connection.deliveries.recv()).await {
        Err(_) => {}
        Ok(Some(delivery)) => panic!("nothing should have arrived, got {delivery:?}"),
        Ok(None) => panic!("the queue should still be open"),
    }
}

/// The queue has closed (after what it still held, which must be nothing).
async fn closed(connection: &mut Connection) {
    let got = timeout(WAIT, connection.deliveries.recv())
        .await
        .expect("the queue closes in time");
    assert!(got.is_none(), "the queue should be closed, got {got:?}");
}

// ---------------------------------------------------------------- 1. subscribe

#[tokio::test]
async fn subscribe_starts_at_the_newest_seq_and_reads_it_once_per_room() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(config(), tables);

    let first = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(first.start, HashMap::from([(ROOM, Seq(3))]));
    assert_eq!(
        h.tables.lists(),
        vec![ListCall {
            account: ACCOUNT,
            room: ROOM,
            filter: newest_filter(),
        }],
        "the newest message, deleted ones included, one of them"
    );

    let second = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;
    assert_eq!(second.start, HashMap::from([(ROOM, Seq(3))]));
    assert_eq!(
        h.tables.list_count(),
        1,
        "the second subscriber reads nothing"
    );

    // A user's stream reads only the room nobody listened to yet (an empty one: 0).
    let stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;
    assert_eq!(
        stream.start,
        HashMap::from([(ROOM, Seq(3)), (ROOM_B, Seq(0))])
    );
    let lists = h.tables.lists();
    assert_eq!(lists.len(), 2);
    assert!(lists[1].is_newest(ACCOUNT, ROOM_B), "{:?}", lists[1]);
    assert_ne!(first.id, second.id);
}

// ---------------------------------------------------------------- 2. fan-out

#[tokio::test]
async fn a_new_message_reaches_every_socket_of_its_room_and_no_other() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);

    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;
    let mut other_room = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("10")).await;
    let mut other_account = subscribe(&h.hub, room_scope(OTHER_ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(socket.start[&ROOM], Seq(3));
    assert_eq!(other_account.start[&ROOM], Seq(0));
    let reads = h.tables.list_count();

    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));

    let expected = created_delivery_full(&m4);
    assert_eq!(
        expected.context.sender.as_ref().map(|u| u.id),
        Some(UserId(10))
    );
    assert_eq!(next(&mut socket).await, expected);
    assert_eq!(next(&mut stream).await, expected);
    quiet(&mut other_room).await;
    quiet(&mut other_account).await;
    quiet(&mut socket).await;
    quiet(&mut stream).await;

    assert_eq!(
        h.relay.notices(),
        vec![Notice::MessageCreated {
            account: ACCOUNT,
            room: ROOM,
            seq: Seq(4),
        }]
    );
    assert_eq!(
        h.tables.list_count(),
        reads,
        "the next message in order is delivered as published, without a read"
    );
}

// ---------------------------------------------------------------- 3. ordering, gaps

#[tokio::test]
async fn a_message_ahead_of_a_gap_reads_the_gap_and_delivers_each_message_once_in_order() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let start = socket.start[&ROOM];
    assert_eq!(start, Seq(3));

    // Two sends commit 4 and 5; their events are published out of order.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    let m5 = h.tables.commit(message(ACCOUNT, ROOM, 5, 20));
    let reads = h.tables.list_count();
    h.hub.publish(created(&m5));

    assert_eq!(next(&mut socket).await, created_delivery(&m4));
    assert_eq!(next(&mut socket).await, created_delivery(&m5));
    let lists = h.tables.lists();
    assert_eq!(lists.len(), reads + 1, "one read of the gap: {lists:?}");
    assert!(
        lists[reads].is_range(ACCOUNT, ROOM, start, Some(Seq(5))),
        "after_seq = start, before_seq = start + 3, oldest first: {:?}",
        lists[reads]
    );

    // The late event of 4 is a duplicate now.
    h.hub.publish(created(&m4));
    quiet(&mut socket).await;

    // And the sequence goes on from 5.
    let m6 = h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    h.hub.publish(created(&m6));
    assert_eq!(next(&mut socket).await, created_delivery(&m6));
    quiet(&mut socket).await;
    assert_eq!(h.tables.list_count(), reads + 1);
}

// ---------------------------------------------------------------- 4. notices

#[tokio::test]
async fn a_notice_from_another_node_reads_the_messages_and_delivers_them_in_order() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 2);
    tables.fill(OTHER_ACCOUNT, ROOM, 2);
    // Only ACCOUNT's ROOM may be read: nobody here listens to the others.
    let mut messages = MockMessageStore::new();
    messages
        .expect_list_messages()
        .withf(|account, room, _| (*account, *room) != (ACCOUNT, ROOM))
        .never();
    let h = start_with(config(), tables, messages, |account, room| {
        (account, room) == (ACCOUNT, ROOM)
    });
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(socket.start[&ROOM], Seq(3));
    let reads = h.tables.list_count();

    // Another node committed 4 and 5 and says so once.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    let m5 = h.tables.commit(message(ACCOUNT, ROOM, 5, 20));
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM,
        seq: Seq(5),
    });
    assert_eq!(next(&mut socket).await, created_delivery(&m4));
    assert_eq!(next(&mut socket).await, created_delivery(&m5));
    let lists = h.tables.lists();
    assert_eq!(lists.len(), reads + 1, "{lists:?}");
    assert!(
        lists[reads].is_range(ACCOUNT, ROOM, Seq(3), Some(Seq(5))),
        "{:?}",
        lists[reads]
    );

    // The same notice again: delivered already, nothing read.
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM,
        seq: Seq(5),
    });
    // Rooms nobody here listens to (another room; the same id in another account).
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM_B,
        seq: Seq(2),
    });
    h.hub.received(Notice::MessageCreated {
        account: OTHER_ACCOUNT,
        room: ROOM,
        seq: Seq(2),
    });
    quiet(&mut socket).await;

    // The dispatcher is alive (a read the mock refuses would have killed it).
    let m6 = h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    h.hub.publish(created(&m6));
    assert_eq!(next(&mut socket).await, created_delivery(&m6));
    assert_eq!(h.tables.list_count(), reads + 1, "{:?}", h.tables.lists());
    assert_eq!(
        h.relay.notices(),
        vec![Notice::MessageCreated {
            account: ACCOUNT,
            room: ROOM,
            seq: Seq(6),
        }],
        "what other nodes said is not relayed back"
    );
}

// ---------------------------------------------------------------- 5. resync

#[tokio::test]
async fn resync_reads_every_listened_room_after_its_last_delivered_seq() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;

    // One delivered normally, so the last delivered seq is not the start.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));
    assert_eq!(next(&mut socket).await, created_delivery_full(&m4));
    assert_eq!(next(&mut stream).await, created_delivery_full(&m4));

    // Notices lost while the relay reconnected.
    let m5 = h.tables.commit(message(ACCOUNT, ROOM, 5, 20));
    let m6 = h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    let b2 = h.tables.commit(message(ACCOUNT, ROOM_B, 2, 10));
    let reads = h.tables.list_count();
    h.hub.resync();

    assert_eq!(next(&mut socket).await, created_delivery_full(&m5));
    assert_eq!(next(&mut socket).await, created_delivery_full(&m6));
    let mut got = vec![
        next(&mut stream).await,
        next(&mut stream).await,
        next(&mut stream).await,
    ];
    // Rooms are resynced in any order; each room's messages in order.
    got.sort_by_key(|d| match &d.event {
        LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(m))) => (m.room_id, m.seq),
        other => panic!("unexpected {other:?}"),
    });
    assert_eq!(
        got,
        vec![
            created_delivery_full(&m5),
            created_delivery_full(&m6),
            created_delivery_full(&b2)
        ]
    );
    quiet(&mut socket).await;
    quiet(&mut stream).await;

    let lists = h.tables.lists()[reads..].to_vec();
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM, Seq(4), None)),
        "ROOM read after 4: {lists:?}"
    );
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM_B, Seq(1), None)),
        "ROOM_B read after 1: {lists:?}"
    );

    // Nothing new: a resync reads again and delivers nothing.
    let reads = h.tables.list_count();
    h.hub.resync();
    quiet(&mut socket).await;
    quiet(&mut stream).await;
    let lists = h.tables.lists()[reads..].to_vec();
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM, Seq(6), None)),
        "{lists:?}"
    );
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM_B, Seq(2), None)),
        "{lists:?}"
    );
}

// ---------------------------------------------------------------- 6. typing

#[tokio::test]
async fn typing_reaches_every_socket_of_the_room_but_the_typists() {
    let tables = Arc::new(Tables::default());
    let h = start(config(), tables);
    let mut typist = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("alice")).await;
    let mut typist_stream = subscribe(&h.hub, user_scope(10, &[ROOM]), Some("alice")).await;
    let mut bob = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("bob")).await;
    let mut bob_stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("bob")).await;
    let mut anonymous = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), None).await;
    let mut elsewhere = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("carol")).await;

    let event = typing(ROOM, "alice", 10);
    h.hub.publish_live(LiveEvent::Typing(event.clone()));

    let expected = bare(LiveEvent::Typing(event.clone()));
    assert_eq!(next(&mut bob).await, expected);
    assert_eq!(next(&mut bob_stream).await, expected);
    assert_eq!(next(&mut anonymous).await, expected);
    quiet(&mut typist).await;
    quiet(&mut typist_stream).await;
    quiet(&mut elsewhere).await;
    assert_eq!(h.relay.notices(), vec![Notice::Typing(event)]);

    // The same from another node.
    let event = typing(ROOM, "bob", 20);
    h.hub.received(Notice::Typing(event.clone()));
    let expected = bare(LiveEvent::Typing(event));
    assert_eq!(next(&mut typist).await, expected);
    assert_eq!(next(&mut typist_stream).await, expected);
    assert_eq!(next(&mut anonymous).await, expected);
    quiet(&mut bob).await;
    quiet(&mut bob_stream).await;
    quiet(&mut elsewhere).await;
    assert_eq!(h.relay.notices().len(), 1, "not relayed back");
}

// ---------------------------------------------------------------- 7. slow sockets

#[tokio::test]
async fn a_socket_that_does_not_drain_its_queue_is_dropped_and_the_others_go_on() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(
        HubConfig {
            queue_capacity: 2,
            ..config()
        },
        tables,
    );
    let mut slow = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut fast = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;

    let mut sent = Vec::new();
    for seq in 4..=8 {
        let m = h.tables.commit(message(ACCOUNT, ROOM, seq, 10));
        h.hub.publish(created(&m));
        assert_eq!(next(&mut fast).await, created_delivery(&m));
        sent.push(m);
    }
    quiet(&mut fast).await;
    assert!(!fast.state.was_too_slow());

    assert_eq!(next(&mut slow).await, created_delivery(&sent[0]));
    assert_eq!(next(&mut slow).await, created_delivery(&sent[1]));
    closed(&mut slow).await;
    assert!(slow.state.was_too_slow());

    // The room goes on for the one left.
    let m9 = h.tables.commit(message(ACCOUNT, ROOM, 9, 10));
    h.hub.publish(created(&m9));
    assert_eq!(next(&mut fast).await, created_delivery(&m9));
}

// ---------------------------------------------------------------- 8. room deleted

#[tokio::test]
async fn a_deleted_room_closes_its_sockets_and_leaves_user_streams_in_their_other_rooms() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;
    let mut other = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("10")).await;

    let deleted = DomainEvent::Room(RoomEvent::Deleted {
        account: ACCOUNT,
        id: ROOM,
        uuid: Uuid::from_u128(ROOM.0 as u128),
    });
    h.hub.publish(deleted.clone());
    let expected = bare(LiveEvent::Domain(deleted));

    assert_eq!(next(&mut socket).await, expected);
    closed(&mut socket).await;
    assert!(!socket.state.was_too_slow());

    assert_eq!(next(&mut stream).await, expected);
    quiet(&mut other).await;

    // The stream stays in its other room, and hears nothing more of the deleted one.
    let b2 = h.tables.commit(message(ACCOUNT, ROOM_B, 2, 10));
    h.hub.publish(created(&b2));
    assert_eq!(next(&mut stream).await, created_delivery_full(&b2));
    assert_eq!(next(&mut other).await, created_delivery_full(&b2));
    h.hub
        .publish(DomainEvent::Room(RoomEvent::Updated(room(ACCOUNT, ROOM))));
    quiet(&mut stream).await;
    assert!(!stream.state.was_too_slow());
}

// ---------------------------------------------------------------- 9. user streams

#[tokio::test]
async fn a_user_stream_follows_its_user_into_a_joined_room_and_out_of_a_left_one() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 2);
    tables.fill(ACCOUNT, ROOM_C, 1);
    let h = start(config(), tables);
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM]), Some("20")).await;
    assert_eq!(stream.start, HashMap::from([(ROOM, Seq(3))]));

    // Somebody else joining another room does not concern the stream.
    h.hub.publish(DomainEvent::Member(MemberEvent::Joined {
        room: room(ACCOUNT, ROOM_C),
        user: user(ACCOUNT, 30),
    }));
    let c2 = h.tables.commit(message(ACCOUNT, ROOM_C, 2, 30));
    h.hub.publish(created(&c2));
    quiet(&mut stream).await;

    // The user joins ROOM_B: the stream hears it and that room's messages.
    let reads = h.tables.list_count();
    let joined = DomainEvent::Member(MemberEvent::Joined {
        room: room(ACCOUNT, ROOM_B),
        user: user(ACCOUNT, 20),
    });
    h.hub.publish(joined.clone());
    assert_eq!(next(&mut stream).await, bare(LiveEvent::Domain(joined)));
    let lists = h.tables.lists();
    assert!(
        lists[reads..].iter().any(|c| c.is_newest(ACCOUNT, ROOM_B)),
        "where ROOM_B stands is read: {lists:?}"
    );

    let b3 = h.tables.commit(message(ACCOUNT, ROOM_B, 3, 10));
    h.hub.publish(created(&b3));
    assert_eq!(next(&mut stream).await, created_delivery_full(&b3));

    // The user leaves ROOM_B: the stream hears it, then nothing more of that room.
    let left = DomainEvent::Member(MemberEvent::Left {
        room: room(ACCOUNT, ROOM_B),
        user: user(ACCOUNT, 20),
    });
    h.hub.publish(left.clone());
    assert_eq!(next(&mut stream).await, bare(LiveEvent::Domain(left)));
    let b4 = h.tables.commit(message(ACCOUNT, ROOM_B, 4, 10));
    h.hub.publish(created(&b4));
    quiet(&mut stream).await;

    // Its first room still reaches it.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));
    assert_eq!(next(&mut stream).await, created_delivery_full(&m4));
}

// ---------------------------------------------------------------- 10. delivered

#[tokio::test(start_paused = true)]
async fn delivered_positions_are_written_in_batches_one_per_room_and_user() {
    let tables = Arc::new(Tables::default());
    let h = start(config(), tables);

    let began = Instant::now();
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(3));
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(5));
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(4));
    h.hub.delivered(ACCOUNT, ROOM_B, UserId(10), Seq(2));
    h.hub.delivered(ACCOUNT, ROOM, UserId(20), Seq(1));
    let marks = wait_for_marks(&h.tables, 3).await;
    assert!(began.elapsed() <= FLUSH * 2, "{:?}", began.elapsed());
    assert_eq!(
        marks,
        vec![
            (ACCOUNT, ROOM, UserId(10), Seq(5)),
            (ACCOUNT, ROOM, UserId(20), Seq(1)),
            (ACCOUNT, ROOM_B, UserId(10), Seq(2)),
        ]
    );

    // A later note is written in the next batch, alone.
    sleep(FLUSH / 2).await;
    let began = Instant::now();
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(6));
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(7));
    let marks = wait_for_marks(&h.tables, 4).await;
    assert!(began.elapsed() <= FLUSH * 2, "{:?}", began.elapsed());
    assert!(
        marks.contains(&(ACCOUNT, ROOM, UserId(10), Seq(7))),
        "{marks:?}"
    );

    // Nothing is written twice.
    sleep(FLUSH * 5).await;
    assert_eq!(h.tables.marks().len(), 4, "{:?}", h.tables.marks());
}

async fn wait_for_marks(tables: &Tables, count: usize) -> Vec<Mark> {
    timeout(WAIT, async {
        loop {
            let marks = tables.marks();
            if marks.len() >= count {
                return marks;
            }
            sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("delivered positions written in time")
}

// ---------------------------------------------------------------- 11. unsubscribe

#[tokio::test]
async fn unsubscribe_closes_the_queue_and_stops_deliveries() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(config(), tables);
    let mut leaving = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut staying = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;

    h.hub.unsubscribe(leaving.id);
    closed(&mut leaving).await;

    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));
    assert_eq!(next(&mut staying).await, created_delivery(&m4));
    assert!(!leaving.state.was_too_slow());

    // With its last socket gone the room is forgotten: the next subscriber reads where
    // it stands again.
    h.hub.unsubscribe(staying.id);
    closed(&mut staying).await;
    h.tables.commit(message(ACCOUNT, ROOM, 5, 10));
    h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    let reads = h.tables.list_count();
    let again = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(again.start, HashMap::from([(ROOM, Seq(6))]));
    assert_eq!(h.tables.list_count(), reads + 1);

    // Unsubscribing twice (or an unknown id) is harmless.
    h.hub.unsubscribe(staying.id);
    h.hub.unsubscribe(Uuid::new_v4());
    let again = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("30")).await;
    assert_eq!(again.start[&ROOM], Seq(6));
}

// ---------------------------------------------------------------- found bugs

/// A room whose only socket is dropped while a message is fanned out (too slow, or its
/// receiver gone) keeps its `last_seq`: the next subscriber gets a stale `start` and
/// the messages committed meanwhile are neither replayed nor delivered live.
#[tokio::test]
async fn a_room_whose_last_socket_was_dropped_is_read_again_by_the_next_subscriber() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(
        HubConfig {
            queue_capacity: 2,
            ..config()
        },
        tables,
    );
    let mut slow = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    for seq in 4..=6 {
        let m = h.tables.commit(message(ACCOUNT, ROOM, seq, 10));
        h.hub.publish(created(&m));
    }
    assert_eq!(
        next(&mut slow).await.event,
        LiveEvent::Domain(created(&message(ACCOUNT, ROOM, 4, 10)))
    );
    assert_eq!(
        next(&mut slow).await.event,
        LiveEvent::Domain(created(&message(ACCOUNT, ROOM, 5, 10)))
    );
    closed(&mut slow).await;
    assert!(slow.state.was_too_slow());

    // Another node commits 7 and 8 while nobody here listens to the room.
    h.tables.commit(message(ACCOUNT, ROOM, 7, 10));
    h.tables.commit(message(ACCOUNT, ROOM, 8, 10));
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM,
        seq: Seq(8),
    });

    let reads = h.tables.list_count();
    let mut next_socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;
    assert_eq!(
        next_socket.start[&ROOM],
        Seq(8),
        "the store's newest seq (reads since: {:?})",
        &h.tables.lists()[reads..]
    );
    quiet(&mut next_socket).await;
}
