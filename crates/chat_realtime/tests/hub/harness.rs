//! The hub under test, over mocked ports: domain values, the message table the mock
//! serves, a recording relay, and helpers to subscribe and wait for deliveries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_app::live::MockPresenceStore;
use chat_app::ports::{MockMessageStore, MockRoomStore, MockUserDirectory};
use chat_app::{Connection, Context, Delivery, Scope};
use chat_app::{
    DomainEvent, EventRelay, LiveEvent, MessageEvent, MessageFilter, MessageOrder, Notice,
    StoreError, Typing, Window,
};
use chat_domain::{
    AccountId, Availability, Content, MemberMeta, Membership, Message, MessageId, MessageKind,
    MessageMeta, MessageRef, PersonName, Role, Room, RoomId, RoomMeta, RoomName, RoomRef, Sender,
    Seq, User, UserId,
};
use chat_realtime::{Hub, HubConfig, HubStores};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::time::timeout;
use uuid::Uuid;

pub const ACCOUNT: AccountId = AccountId(1);
pub const OTHER_ACCOUNT: AccountId = AccountId(2);
pub const ROOM: RoomId = RoomId(5);
pub const ROOM_B: RoomId = RoomId(6);
pub const ROOM_C: RoomId = RoomId(7);

/// How long a delivery that should come may take.
pub const WAIT: Duration = Duration::from_secs(2);
/// How long to listen to be sure nothing comes.
pub const QUIET: Duration = Duration::from_millis(100);
pub const FLUSH: Duration = Duration::from_millis(10);

// ---------------------------------------------------------------- domain values

pub fn when() -> OffsetDateTime {
    datetime!(2024-01-01 0:00 UTC)
}

pub fn room_name(id: RoomId) -> String {
    format!("Room {}", id.0)
}

pub fn room(account: AccountId, id: RoomId) -> Room {
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

pub fn user(account: AccountId, id: i64) -> User {
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
pub fn message(account: AccountId, room: RoomId, seq: i64, sender: i64) -> Message {
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
        reactions: chat_domain::Reactions::new(),
        pin: None,
    }
}

pub fn created(message: &Message) -> DomainEvent {
    DomainEvent::Message(MessageEvent::Created(message.clone()))
}

/// What the sockets of a room receive for a new message when only room sockets listen:
/// the message itself (room sockets render the ChatAPI dialect, which needs no more).
pub fn created_delivery(message: &Message) -> Delivery {
    Delivery::new(LiveEvent::Domain(created(message)), Context::default())
}

/// What they receive when a user's stream listens too: also the room's name and the
/// sender, which the account dialect shows.
pub fn created_delivery_full(message: &Message) -> Delivery {
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

pub fn bare(event: LiveEvent) -> Delivery {
    Delivery::new(event, Context::default())
}

pub fn typing(room: RoomId, user_key: &str, user_id: i64) -> Typing {
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

pub fn room_scope(account: AccountId, room: RoomId) -> Scope {
    Scope::Room { account, room }
}

pub fn user_scope(user: i64, rooms: &[RoomId]) -> Scope {
    Scope::User {
        account: ACCOUNT,
        user: UserId(user),
        rooms: rooms.to_vec(),
    }
}

/// The read that answers where a room stands: its newest message, deleted or not.
pub fn newest_filter() -> MessageFilter {
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
pub struct ListCall {
    pub account: AccountId,
    pub room: RoomId,
    pub filter: MessageFilter,
}

impl ListCall {
    pub fn is_newest(&self, account: AccountId, room: RoomId) -> bool {
        self.account == account && self.room == room && self.filter == newest_filter()
    }

    /// A read of the room's messages after `after` (up to `upto` when given), oldest
    /// first, deleted ones included.
    pub fn is_range(
        &self,
        account: AccountId,
        room: RoomId,
        after: Seq,
        upto: Option<Seq>,
    ) -> bool {
        self.account == account
            && self.room == room
            && self.filter.order == MessageOrder::OldestFirst
            && self.filter.include_deleted
            && self.filter.after_seq == Some(after)
            && self.filter.before_seq == upto.map(|upto| Seq(upto.0 + 1))
    }
}

pub type Mark = (AccountId, RoomId, UserId, Seq);

/// A membership: of whom, in which room.
pub type MemberKey = (AccountId, RoomId, UserId);

/// The message table the mock serves, and what was asked of it.
#[derive(Debug, Default)]
pub struct Tables {
    pub messages: Mutex<HashMap<(AccountId, RoomId), Vec<Message>>>,
    /// Memberships the room store's mock answers `find_membership` from.
    pub memberships: Mutex<HashMap<MemberKey, (OffsetDateTime, MemberMeta)>>,
    pub lists: Mutex<Vec<ListCall>>,
    pub marks: Mutex<Vec<Mark>>,
}

impl Tables {
    /// Stores messages 1..=`upto` of a room (sent by user 10).
    pub fn fill(&self, account: AccountId, room: RoomId, upto: i64) {
        for seq in 1..=upto {
            self.commit(message(account, room, seq, 10));
        }
    }

    /// Stores a message (as the use case does before publishing it).
    pub fn commit(&self, message: Message) -> Message {
        self.messages
            .lock()
            .expect("tables")
            .entry((message.account_id, message.room_id))
            .or_default()
            .push(message.clone());
        message
    }

    /// Replaces a stored message by its id (an edit, a pin, a reaction committed).
    pub fn update(&self, message: Message) -> Message {
        let mut tables = self.messages.lock().expect("tables");
        let room = tables
            .entry((message.account_id, message.room_id))
            .or_default();
        match room.iter_mut().find(|m| m.id == message.id) {
            Some(stored) => *stored = message.clone(),
            None => room.push(message.clone()),
        }
        message
    }

    /// A stored message of the account, by id.
    pub fn find(&self, account: AccountId, id: MessageId) -> Option<Message> {
        self.messages
            .lock()
            .expect("tables")
            .iter()
            .filter(|((a, _), _)| *a == account)
            .flat_map(|(_, messages)| messages.iter())
            .find(|m| m.id == id)
            .cloned()
    }

    /// Stores a membership (as the use case does before publishing the join).
    pub fn join(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
        joined_at: OffsetDateTime,
        meta: MemberMeta,
    ) {
        self.memberships
            .lock()
            .expect("tables")
            .insert((account, room, user), (joined_at, meta));
    }

    fn membership(&self, account: AccountId, room: RoomId, user: UserId) -> Option<Membership> {
        let (joined_at, meta) = self
            .memberships
            .lock()
            .expect("tables")
            .get(&(account, room, user))
            .cloned()?;
        Some(Membership {
            user: crate::harness::user(account, user.0),
            joined_at,
            meta,
        })
    }

    pub fn list(
        &self,
        account: AccountId,
        room: RoomId,
        filter: MessageFilter,
    ) -> (Vec<Message>, i64) {
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

    pub fn lists(&self) -> Vec<ListCall> {
        self.lists.lock().expect("tables").clone()
    }

    pub fn list_count(&self) -> usize {
        self.lists.lock().expect("tables").len()
    }

    pub fn marks(&self) -> Vec<Mark> {
        let mut marks = self.marks.lock().expect("tables").clone();
        marks.sort();
        marks
    }
}

/// A relay that keeps what it is given.
#[derive(Debug, Default)]
pub struct RecordingRelay(pub Mutex<Vec<Notice>>);

impl EventRelay for RecordingRelay {
    fn relay(&self, notice: Notice) {
        self.0.lock().expect("relay").push(notice);
    }
}

impl RecordingRelay {
    pub fn notices(&self) -> Vec<Notice> {
        self.0.lock().expect("relay").clone()
    }
}

pub struct Harness {
    pub hub: Hub,
    pub tables: Arc<Tables>,
    pub relay: Arc<RecordingRelay>,
}

pub fn config() -> HubConfig {
    HubConfig {
        queue_capacity: 16,
        delivered_flush: FLUSH,
        presence_ttl: Duration::from_secs(30),
        presence_heartbeat: Duration::from_secs(10),
    }
}

/// A hub whose message store serves `tables` for every room.
pub fn start(config: HubConfig, tables: Arc<Tables>) -> Harness {
    start_with(config, tables, MockMessageStore::new(), |_, _| true)
}

/// A hub whose message store answers `list_messages` only for the rooms `readable`
/// accepts, after the expectations `messages` already has (matched first).
pub fn start_with(
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
    let found = tables.clone();
    messages
        .expect_find_message()
        .returning(move |account, reference| match reference {
            MessageRef::Id(id) => found.find(account, id).ok_or(StoreError::NotFound),
            MessageRef::Uuid(_) => Err(StoreError::NotFound),
        });
    let marked = tables.clone();
    messages
        .expect_mark_delivered()
        .returning(move |account, marks| {
            marked
                .marks
                .lock()
                .expect("tables")
                .extend(marks.iter().map(|m| (account, m.room, m.user, m.upto)));
            Ok(())
        });

    let mut rooms = MockRoomStore::new();
    rooms
        .expect_find_room()
        .returning(|account, reference| match reference {
            RoomRef::Id(id) => Ok(room(account, id)),
            _ => Err(StoreError::NotFound),
        });
    let members = tables.clone();
    rooms
        .expect_find_membership()
        .returning(move |account, room, user| Ok(members.membership(account, room, user)));

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

pub async fn subscribe(hub: &Hub, scope: Scope, user_key: Option<&str>) -> Connection {
    hub.subscribe(scope, user_key.map(str::to_owned))
        .await
        .expect("subscribed")
}

/// The next delivery, which must come.
pub async fn next(connection: &mut Connection) -> Delivery {
    let delivery = timeout(WAIT, connection.deliveries.recv())
        .await
        .expect("a delivery in time")
        .expect("the queue is open");
    Delivery::clone(&delivery)
}

/// Nothing arrives for a while, and the queue stays open.
pub async fn quiet(connection: &mut Connection) {
    match timeout(QUIET, connection.deliveries.recv()).await {
        Err(_) => {}
        Ok(Some(delivery)) => panic!("nothing should have arrived, got {delivery:?}"),
        Ok(None) => panic!("the queue should still be open"),
    }
}

/// The queue has closed (after what it still held, which must be nothing).
pub async fn closed(connection: &mut Connection) {
    let got = timeout(WAIT, connection.deliveries.recv())
        .await
        .expect("the queue closes in time");
    assert!(got.is_none(), "the queue should be closed, got {got:?}");
}
