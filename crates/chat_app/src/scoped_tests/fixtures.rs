//! One account over mocks: rooms 5 (members 20 and 30), 6 (member 30) and 8 (inactive,
//! member 20); users `me` (20, the scoped credential's own), `bob` (30) and `zed` (40,
//! in no room). Message `n` is in room `n % 100`, sent by 20 below 100 and by 30 from
//! 100 on.

use std::sync::Arc;

use chat_domain::{
    AccountId, Availability, Content, ExternalId, Features, Message, MessageId, MessageKind,
    MessageMeta, MessageRef, Permission, Permissions, PersonName, Role, Room, RoomId, RoomMeta,
    RoomName, RoomRef, Sender, Seq, User, UserId, UserMeta,
};
use time::macros::datetime;
use uuid::Uuid;

use crate::actor::{AccountAccess, Actor};
use crate::events::MockEventPublisher;
use crate::live::MockPresenceStore;
use crate::members::Members;
use crate::messages::Messages;
use crate::model::{SendContext, Speaker};
use crate::ports::{
    MemberChange, MockFileStore, MockMemberStore, MockMessageStore, MockRoomStore,
    MockUserDirectory, StoreError,
};
use crate::rooms::Rooms;
use crate::testing::send_with;

pub(super) const ACCOUNT: AccountId = AccountId(1);
/// The scoped credential's own user.
pub(super) const ME: UserId = UserId(20);

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: Uuid::from_u128(1),
        features: Features::default(),
    }
}

/// The scoped credential of user 20 holding `scope`.
pub(super) fn scoped(scope: Permissions) -> Actor {
    Actor::User {
        account: access(),
        user_id: ME,
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

/// `permission` alone.
pub(super) fn only(permission: Permission) -> Permissions {
    Permissions::NONE.with(permission)
}

fn members_of(room: RoomId) -> &'static [UserId] {
    match room.0 {
        5 => &[UserId(20), UserId(30)],
        6 => &[UserId(30)],
        8 => &[UserId(20)],
        _ => &[],
    }
}

pub(super) fn room(id: i64) -> Room {
    Room {
        id: RoomId(id),
        uuid: Uuid::from_u128(id as u128),
        account_id: ACCOUNT,
        name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        meta: RoomMeta::default(),
        is_active: id != 8,
        avatar: None,
        member_count: 2,
        message_count: 0,
        last_message_at: datetime!(2024-01-01 0:00 UTC),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

fn find_room(room: RoomRef) -> Result<Room, StoreError> {
    match room {
        RoomRef::Id(RoomId(id @ 5..=8)) => Ok(self::room(id)),
        _ => Err(StoreError::NotFound),
    }
}

pub(super) fn user(id: i64) -> User {
    let external = match id {
        20 => "me",
        30 => "bob",
        _ => "zed",
    };
    User {
        id: UserId(id),
        account_id: ACCOUNT,
        external_id: ExternalId::parse(external).ok(),
        name: PersonName::parse(external).unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role: Role::Agent,
        availability: Availability::Offline,
        confirmed: true,
        is_active: true,
        meta: UserMeta::default(),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

pub(super) fn message(id: i64) -> Message {
    let sender = if id < 100 { 20 } else { 30 };
    Message {
        id: MessageId(id),
        uuid: Uuid::from_u128(id as u128),
        account_id: ACCOUNT,
        room_id: RoomId(id % 100),
        room_uuid: Uuid::from_u128((id % 100) as u128),
        seq: Seq(1),
        sender: Sender::User {
            id: UserId(sender),
            label: sender.to_string(),
        },
        sender_name: None,
        content: Content::parse("hi").unwrap_or_else(|e| panic!("{e:?}")),
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

/// The rooms, users, memberships and messages of the account, read together for a send.
pub(super) fn send_context(
    _: AccountId,
    reference: RoomRef,
    speaker: Option<Speaker>,
    reply_to: Option<MessageRef>,
) -> Result<SendContext, StoreError> {
    let room = find_room(reference)?;
    let found = speaker
        .and_then(|speaker| match speaker {
            Speaker::Id(id) => Some(user(id.0)),
            Speaker::ChatId(chat_id) => match chat_id.as_str() {
                "me" => Some(user(20)),
                "bob" => Some(user(30)),
                "zed" => Some(user(40)),
                _ => None,
            },
        })
        .map(|user| {
            let member = members_of(room.id).contains(&user.id);
            (user, member)
        });
    let replied = match reply_to {
        Some(MessageRef::Id(id)) => Some((id, message(id.0).room_id)),
        Some(MessageRef::Uuid(_)) | None => None,
    };
    Ok(SendContext {
        room,
        speaker: found,
        replied,
    })
}

/// The ports of the account. With `changes: false`, nothing may be written, listed
/// or published: a refused request touches nothing.
pub(super) struct Stores {
    pub(super) rooms: MockRoomStore,
    pub(super) members: MockMemberStore,
    pub(super) users: MockUserDirectory,
    pub(super) messages: MockMessageStore,
    pub(super) events: MockEventPublisher,
}

impl Stores {
    pub(super) fn new(changes: bool) -> Self {
        let times = usize::from(changes) * 100;
        let mut rooms = MockRoomStore::new();
        rooms
            .expect_find_room()
            .returning(|_, room| find_room(room));
        rooms
            .expect_is_member()
            .returning(|_, room, user| Ok(members_of(room).contains(&user)));
        rooms.expect_members_of().returning(|_, rooms| {
            Ok(rooms
                .into_iter()
                .flat_map(|room| members_of(room).iter().map(move |u| (room, user(u.0))))
                .collect())
        });
        // A membership just made is read back (to announce when it began).
        rooms.expect_find_membership().returning(|_, _, id| {
            Ok(Some(chat_domain::Membership {
                user: user(id.0),
                joined_at: datetime!(2024-01-01 0:00 UTC),
                meta: chat_domain::MemberMeta::default(),
            }))
        });
        rooms
            .expect_list_rooms()
            .times(0..=times)
            .returning(|_, _, _| Ok((vec![crate::testing::listed(room(5))], 1)));
        rooms
            .expect_create_room()
            .times(0..=times)
            .returning(|_, _, _| Ok(room(7)));
        rooms
            .expect_update_room()
            .times(0..=times)
            .returning(|_, id, _| Ok((room(id.0), None)));
        rooms
            .expect_set_room_active()
            .times(0..=times)
            .returning(|_, id, _| Ok(room(id.0)));
        rooms
            .expect_delete_room()
            .times(0..=times)
            .returning(|_, _| Ok(Vec::new()));

        let mut members = MockMemberStore::new();
        members
            .expect_add_members()
            .times(0..=times)
            .returning(|_, _, users, _, _| {
                Ok(MemberChange {
                    added: users,
                    removed: Vec::new(),
                })
            });
        members.expect_add_external_member().never();
        members
            .expect_remove_members()
            .times(0..=times)
            .returning(|_, _, users| {
                Ok(MemberChange {
                    added: Vec::new(),
                    removed: users,
                })
            });
        members
            .expect_replace_members()
            .times(0..=times)
            .returning(|_, _, users, _| {
                Ok(MemberChange {
                    added: users,
                    removed: Vec::new(),
                })
            });
        members
            .expect_list_memberships()
            .times(0..=times)
            .returning(|_, _, _| Ok((Vec::new(), 0)));

        let mut users = MockUserDirectory::new();
        users.expect_find_by_chat_id().returning(|_, chat_id| {
            Ok(match chat_id.as_str() {
                "me" => Some(user(20)),
                "bob" => Some(user(30)),
                "zed" => Some(user(40)),
                _ => None,
            })
        });
        users
            .expect_find_users()
            .returning(|_, ids| Ok(ids.into_iter().map(|id| user(id.0)).collect()));
        users.expect_ensure_external_user().never();

        let mut messages = MockMessageStore::new();
        messages
            .expect_send()
            .returning(send_with(send_context, move |_, room, new| {
                assert!(changes, "a refused request stored a message");
                let mut stored = message(room.0);
                stored.sender = new.sender;
                Ok((stored, true))
            }));
        messages
            .expect_find_message()
            .returning(|_, reference| match reference {
                MessageRef::Id(MessageId(id)) => Ok(message(id)),
                MessageRef::Uuid(_) => Err(StoreError::NotFound),
            });
        messages
            .expect_find_messages()
            .returning(|_, _| Ok(Vec::new()));
        messages.expect_unread_counts().returning(|_, _, rooms| {
            Ok(rooms
                .into_iter()
                .map(|room| (room, crate::model::Unread::default()))
                .collect())
        });
        messages
            .expect_list_messages()
            .times(0..=times)
            .returning(|_, room, _| Ok((vec![message(room.0)], 1)));
        messages
            .expect_edit_message()
            .times(0..=times)
            .returning(|_, id, _, _| Ok(message(id.0)));
        messages
            .expect_set_message_deleted()
            .times(0..=times)
            .returning(|_, id, _, _| Ok((message(id.0), Vec::new())));
        messages
            .expect_mark_read()
            .times(0..=times)
            .returning(|_, _, _, _| Ok(Seq(1)));
        messages
            .expect_mark_delivered()
            .times(0..=times)
            .returning(|_, _| Ok(()));

        let mut events = MockEventPublisher::new();
        events.expect_publish().times(0..=times).return_const(());
        Self {
            rooms,
            members,
            users,
            messages,
            events,
        }
    }

    pub(super) fn build(self) -> App {
        let rooms = Arc::new(self.rooms);
        let members = Arc::new(self.members);
        let users = Arc::new(self.users);
        let messages = Arc::new(self.messages);
        let events = Arc::new(self.events);
        let files = Arc::new(MockFileStore::new());
        let mut presence = MockPresenceStore::new();
        presence
            .expect_online_in_room()
            .returning(|_, _| Ok(Vec::new()));
        App {
            rooms: Rooms::new(
                rooms.clone(),
                messages.clone(),
                users.clone(),
                files.clone(),
                events.clone(),
            ),
            members: Members::new(
                rooms.clone(),
                members,
                users.clone(),
                Arc::new(presence),
                events.clone(),
            ),
            messages: Messages::new(rooms, messages, users, files, events),
        }
    }
}

/// The use cases over [`Stores`].
pub(super) struct App {
    pub(super) rooms: Rooms,
    pub(super) members: Members,
    pub(super) messages: Messages,
}
