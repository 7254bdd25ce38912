//! Unit tests of the conversation use cases, over mocks of the ports.
//!
//! One account: room 5 "General" (members ann 10 and bob 20, agents, and dee 50, an
//! administrator), room 6 "Sales" (member cat 30, an agent); root 40 is an administrator
//! in no room. Messages: 1 by ann and 2 by bob (a reply to 1) in room 5, 3 by ann in room
//! 5 (deleted), 101 by cat in room 6; each message's `seq` is its id.

mod pins;
mod reactions;
mod read;
mod search;
mod threads;
mod unread;

use std::sync::Arc;

use chat_domain::{
    AccountId, Availability, Content, Emoji, ExternalId, Features, FieldErrors, Message, MessageId,
    MessageKind, MessageMeta, MessageRef, Permission, Permissions, Person, PersonName, Role, Room,
    RoomId, RoomMeta, RoomName, RoomRef, Sender, Seq, ThreadStats, User, UserId, UserMeta,
};
use time::macros::datetime;
use uuid::Uuid;

use super::Conversations;
use crate::actor::{AccountAccess, Actor};
use crate::error::AppError;
use crate::events::{DomainEvent, MessageEvent, MockEventPublisher};
use crate::ports::{
    MockConversationStore, MockMessageStore, MockRoomStore, MockUserDirectory, StoreError,
};

pub(super) const ACCOUNT: AccountId = AccountId(1);
pub(super) const ANN: UserId = UserId(10);
pub(super) const BOB: UserId = UserId(20);
pub(super) const CAT: UserId = UserId(30);
pub(super) const ROOT: UserId = UserId(40);
pub(super) const DEE: UserId = UserId(50);
pub(super) const GENERAL: RoomId = RoomId(5);
pub(super) const SALES: RoomId = RoomId(6);

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: Uuid::from_u128(1),
        features: Features::default(),
    }
}

/// The account's API key.
pub(super) fn api_key() -> Actor {
    Actor::ApiKey(access())
}

/// A user's own credential, with the user's role.
pub(super) fn as_user(id: UserId) -> Actor {
    Actor::User {
        account: access(),
        user_id: id,
        role: user(id).map_or(Role::Agent, |u| u.role),
        scope: None,
    }
}

/// Ann's scoped credential holding `scope`.
pub(super) fn scoped(scope: Permissions) -> Actor {
    Actor::User {
        account: access(),
        user_id: ANN,
        role: Role::Agent,
        scope: Some(scope),
    }
}

/// Every permission but `missing`.
pub(super) fn all_but(missing: Permission) -> Permissions {
    Permission::ALL
        .into_iter()
        .filter(|p| *p != missing)
        .fold(Permissions::NONE, Permissions::with)
}

pub(super) fn room(id: RoomId) -> Option<Room> {
    let name = match id {
        GENERAL => "General",
        SALES => "Sales",
        _ => return None,
    };
    Some(Room {
        id,
        uuid: Uuid::from_u128(id.0 as u128),
        account_id: ACCOUNT,
        name: RoomName::parse(name).unwrap_or_else(|e| panic!("{e}")),
        description: None,
        meta: RoomMeta::default(),
        is_active: true,
        avatar: None,
        member_count: 3,
        message_count: 3,
        last_message_at: datetime!(2024-01-01 0:00 UTC),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    })
}

fn members(room: RoomId) -> &'static [UserId] {
    match room {
        GENERAL => &[ANN, BOB, DEE],
        SALES => &[CAT],
        _ => &[],
    }
}

pub(super) fn user(id: UserId) -> Option<User> {
    let (label, role) = match id {
        ANN => ("ann", Role::Agent),
        BOB => ("bob", Role::Agent),
        CAT => ("cat", Role::Agent),
        ROOT => ("root", Role::Administrator),
        DEE => ("dee", Role::Administrator),
        _ => return None,
    };
    Some(User {
        id,
        account_id: ACCOUNT,
        external_id: ExternalId::parse(label).ok(),
        name: PersonName::parse(label).unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role,
        availability: Availability::Offline,
        confirmed: true,
        is_active: true,
        meta: UserMeta::default(),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    })
}

/// How a reaction or a mention names `id`.
pub(super) fn person(id: UserId) -> Person {
    let label = user(id)
        .and_then(|u| u.external_id)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    Person { id, label }
}

pub(super) fn message(id: i64) -> Option<Message> {
    let (room, sender, reply_to, deleted) = match id {
        1 => (GENERAL, ANN, None, false),
        2 => (GENERAL, BOB, Some(MessageId(1)), false),
        3 => (GENERAL, ANN, None, true),
        101 => (SALES, CAT, None, false),
        _ => return None,
    };
    Some(Message {
        id: MessageId(id),
        uuid: Uuid::from_u128(1000 + id as u128),
        account_id: ACCOUNT,
        room_id: room,
        room_uuid: Uuid::from_u128(room.0 as u128),
        seq: Seq(id),
        sender: Sender::User {
            id: sender,
            label: person(sender).label,
        },
        sender_name: None,
        content: Content::parse("hello").unwrap_or_else(|e| panic!("{e:?}")),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to,
        echo_id: None,
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
        edited_at: None,
        deleted_at: deleted.then_some(datetime!(2024-01-02 0:00 UTC)),
        attachments: Vec::new(),
        deleted_by: None,
        thread: ThreadStats::default(),
        mentions: Vec::new(),
        reactions: chat_domain::Reactions::new(),
        pin: None,
    })
}

/// `message(id)`, which the test knows exists.
pub(super) fn known(id: i64) -> Message {
    message(id).unwrap_or_else(|| panic!("no message {id} in the fixtures"))
}

pub(super) fn emoji(raw: &str) -> Emoji {
    Emoji::parse(raw).unwrap_or_else(|e| panic!("{e:?}"))
}

pub(super) fn external(raw: &str) -> Option<ExternalId> {
    Some(ExternalId::parse(raw).unwrap_or_else(|e| panic!("{e:?}")))
}

/// The fields an `Invalid` error names (none for any other outcome).
pub(super) fn invalid_fields<T>(result: &Result<T, AppError>) -> Vec<&'static str> {
    match result {
        Err(AppError::Invalid(errors)) => fields(errors),
        _ => Vec::new(),
    }
}

fn fields(errors: &FieldErrors) -> Vec<&'static str> {
    errors.iter().map(|e| e.field).collect()
}

/// The message event of a published domain event, if it is one.
pub(super) fn message_event(event: &DomainEvent) -> Option<&MessageEvent> {
    match event {
        DomainEvent::Message(event) => Some(event),
        _ => None,
    }
}

/// The ports, with the world above answering every look-up; what a test expects of the
/// conversation store and of events it sets itself (an unexpected call fails the test).
pub(super) struct Ports {
    pub(super) rooms: MockRoomStore,
    pub(super) messages: MockMessageStore,
    pub(super) conversations: MockConversationStore,
    pub(super) users: MockUserDirectory,
    pub(super) events: MockEventPublisher,
}

impl Ports {
    pub(super) fn new() -> Self {
        let mut rooms = MockRoomStore::new();
        rooms.expect_find_room().returning(|account, reference| {
            let id = match reference {
                RoomRef::Id(id) => id,
                RoomRef::Uuid(uuid) => RoomId(uuid.as_u128() as i64),
            };
            match room(id) {
                Some(room) if account == ACCOUNT => Ok(room),
                _ => Err(StoreError::NotFound),
            }
        });
        rooms
            .expect_is_member()
            .returning(|_, room, user| Ok(members(room).contains(&user)));
        let mut messages = MockMessageStore::new();
        messages
            .expect_find_message()
            .returning(|account, reference| match reference {
                MessageRef::Id(MessageId(id)) if account == ACCOUNT => {
                    message(id).ok_or(StoreError::NotFound)
                }
                _ => Err(StoreError::NotFound),
            });
        messages
            .expect_find_messages()
            .returning(|_, ids| Ok(ids.into_iter().filter_map(|id| message(id.0)).collect()));
        messages.expect_positions().returning(|_, _| Ok(Vec::new()));
        let mut users = MockUserDirectory::new();
        users
            .expect_find_users()
            .returning(|_, ids| Ok(ids.into_iter().filter_map(user).collect()));
        users.expect_find_by_chat_id().returning(|_, label| {
            Ok([ANN, BOB, CAT, ROOT, DEE]
                .into_iter()
                .find(|id| person(*id).label == label)
                .and_then(user))
        });
        Self {
            rooms,
            messages,
            conversations: MockConversationStore::new(),
            users,
            events: MockEventPublisher::new(),
        }
    }

    pub(super) fn build(self) -> Conversations {
        Conversations::new(
            Arc::new(self.rooms),
            Arc::new(self.messages),
            Arc::new(self.conversations),
            Arc::new(self.users),
            Arc::new(self.events),
        )
    }
}

/// How a use case failed, as its error's debug form (`"ok"` when it did not), for exact
/// comparisons: `Forbidden(NotMember)`, `NotFound(Message)`, ….
pub(super) fn failure<T>(result: &Result<T, AppError>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("{error:?}"),
    }
}
