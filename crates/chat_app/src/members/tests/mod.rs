//! The membership use cases over mocked ports.

use super::*;
use crate::actor::AccountAccess;
use crate::events::MockEventPublisher;
use crate::live::MockPresenceStore;
use crate::ports::{MockMemberStore, MockRoomStore, MockUserDirectory, StoreError};
use chat_domain::{Availability, Features, Role, RoomId, RoomMeta, RoomName};
use serde_json::Value;
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

const ACCOUNT: AccountId = AccountId(1);
const ROOM: RoomRef = RoomRef::Id(RoomId(5));

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: Uuid::from_u128(1),
        features: Features::default(),
    }
}

fn admin() -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(10),
        role: Role::Administrator,
        scope: None,
    }
}

fn agent() -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(20),
        role: Role::Agent,
        scope: None,
    }
}

fn room(active: bool, max: Option<u64>) -> Room {
    let meta = match max {
        Some(max) => match json!({ "max_participants": max }) {
            Value::Object(map) => RoomMeta::parse(map).unwrap_or_else(|e| panic!("{e}")),
            _ => RoomMeta::default(),
        },
        None => RoomMeta::default(),
    };
    Room {
        id: RoomId(5),
        uuid: Uuid::from_u128(5),
        account_id: ACCOUNT,
        name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        meta,
        is_active: active,
        avatar: None,
        member_count: 0,
        message_count: 0,
        last_message_at: datetime!(2024-01-01 0:00 UTC),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

fn user(id: i64, external: Option<&str>) -> User {
    User {
        id: UserId(id),
        account_id: ACCOUNT,
        external_id: external.and_then(|e| ExternalId::parse(e).ok()),
        name: PersonName::parse("Someone").unwrap_or_else(|e| panic!("{e}")),
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

fn join(user_id: &str) -> Join {
    Join::parse(Some(user_id), Some("John Doe"), None).unwrap_or_else(|e| panic!("{e}"))
}

struct Ports {
    rooms: MockRoomStore,
    members: MockMemberStore,
    users: MockUserDirectory,
    events: MockEventPublisher,
}

impl Ports {
    fn new(room: Room) -> Self {
        let mut rooms = MockRoomStore::new();
        rooms
            .expect_find_room()
            .returning(move |_, _| Ok(room.clone()));
        Self {
            rooms,
            members: MockMemberStore::new(),
            users: MockUserDirectory::new(),
            events: MockEventPublisher::new(),
        }
    }

    fn build(self) -> Members {
        let mut presence = MockPresenceStore::new();
        presence
            .expect_online_in_room()
            .returning(|_, _| Ok(vec!["user_123".to_owned()]));
        Members::new(
            Arc::new(self.rooms),
            Arc::new(self.members),
            Arc::new(self.users),
            Arc::new(presence),
            Arc::new(self.events),
        )
    }
}

/// When the store says every membership began.
const JOINED_AT: time::OffsetDateTime = datetime!(2024-02-03 4:05:06.789 UTC);

/// The store reads each new membership back: joined at [`JOINED_AT`] with meta
/// `{"read": "back"}`.
fn reads_memberships_back(rooms: &mut MockRoomStore) {
    rooms
        .expect_find_membership()
        .withf(|account, room, _| (*account, *room) == (ACCOUNT, RoomId(5)))
        .returning(|_, _, id| {
            Ok(Some(Membership {
                user: user(id.0, None),
                joined_at: JOINED_AT,
                meta: member_meta(json!({ "read": "back" })),
            }))
        });
}

fn member_meta(value: Value) -> MemberMeta {
    match value {
        Value::Object(map) => MemberMeta::parse(map).unwrap_or_else(|e| panic!("{e}")),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn joining_with_an_unknown_user_id_creates_the_user_with_the_join_and_publishes_it() {
    let mut ports = Ports::new(room(true, Some(10)));
    ports
        .users
        .expect_find_by_chat_id()
        .returning(|_, _| Ok(None));
    ports.users.expect_ensure_external_user().never();
    ports.members.expect_add_members().never();
    ports
        .members
        .expect_add_external_member()
        .withf(|_, room, external, name, _, limit| {
            *room == RoomId(5)
                && external.as_str() == "user_123"
                && name.as_str() == "John Doe"
                && *limit == Some(10)
        })
        .times(1)
        .returning(|_, _, _, _, _, _| {
            Ok((
                user(7, Some("user_123")),
                MemberChange {
                    added: vec![UserId(7)],
                    removed: vec![],
                },
            ))
        });
    reads_memberships_back(&mut ports.rooms);
    ports
        .events
        .expect_publish()
        .withf(|e| {
            matches!(e, DomainEvent::Member(MemberEvent::Joined { user, joined_at, meta, .. })
                if user.id == UserId(7) && *joined_at == JOINED_AT
                    && *meta == member_meta(json!({ "read": "back" })))
        })
        .times(1)
        .return_const(());
    let joined = ports
        .build()
        .join(&Actor::ApiKey(access()), ROOM, join("user_123"))
        .await;
    assert!(matches!(joined, Ok(u) if u.id == UserId(7)));
}

#[tokio::test]
async fn an_inactive_room_refuses_an_unknown_user_without_creating_it() {
    let mut ports = Ports::new(room(false, None));
    ports
        .users
        .expect_find_by_chat_id()
        .returning(|_, _| Ok(None));
    ports.members.expect_add_external_member().never();
    let result = ports.build().join(&admin(), ROOM, join("newcomer")).await;
    assert!(matches!(
        result,
        Err(AppError::Conflict(Conflict::RoomInactive))
    ));
}

#[tokio::test]
async fn joining_twice_is_already_in_room_and_a_full_room_is_room_full() {
    for (outcome, expected) in [
        (Ok(MemberChange::default()), Conflict::AlreadyInRoom),
        (Err(StoreError::LimitReached), Conflict::RoomFull),
    ] {
        let mut ports = Ports::new(room(true, Some(1)));
        ports
            .users
            .expect_find_by_chat_id()
            .returning(|_, _| Ok(Some(user(7, Some("user_123")))));
        let outcome = std::sync::Mutex::new(Some(outcome));
        ports
            .members
            .expect_add_members()
            .returning(move |_, _, _, _, _| {
                outcome
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or(Ok(MemberChange::default()))
            });
        ports.events.expect_publish().never();
        let result = ports.build().join(&admin(), ROOM, join("user_123")).await;
        assert!(
            matches!(result, Err(AppError::Conflict(c)) if c == expected),
            "{expected:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn an_inactive_room_refuses_joins() {
    let mut ports = Ports::new(room(false, None));
    ports
        .users
        .expect_find_by_chat_id()
        .returning(|_, _| Ok(Some(user(7, None))));
    ports.members.expect_add_members().never();
    let result = ports.build().join(&admin(), ROOM, join("7")).await;
    assert!(matches!(
        result,
        Err(AppError::Conflict(Conflict::RoomInactive))
    ));
}

#[tokio::test]
async fn an_agent_joins_and_leaves_only_as_itself() {
    // As someone else, known or not: refused, nothing created or changed.
    for known in [Some(user(99, Some("someone"))), None] {
        let mut ports = Ports::new(room(true, None));
        let found = known.clone();
        ports
            .users
            .expect_find_by_chat_id()
            .returning(move |_, _| Ok(found.clone()));
        ports.users.expect_ensure_external_user().never();
        ports.members.expect_add_members().never();
        ports.members.expect_remove_members().never();
        let members = ports.build();
        let joined = members.join(&agent(), ROOM, join("someone")).await;
        assert!(
            matches!(joined, Err(AppError::Forbidden(Denied::NotAdministrator))),
            "{known:?}"
        );
        let someone = ExternalId::parse("someone").unwrap_or_else(|e| panic!("{e}"));
        let left = members.leave(&agent(), ROOM, someone).await;
        assert!(
            matches!(left, Err(AppError::Forbidden(Denied::NotAdministrator))),
            "{known:?}"
        );
    }
    // As itself: allowed.
    let mut ports = Ports::new(room(true, None));
    ports
        .users
        .expect_find_by_chat_id()
        .returning(|_, _| Ok(Some(user(20, None))));
    ports
        .members
        .expect_add_members()
        .returning(|_, _, users, _, _| {
            Ok(MemberChange {
                added: users,
                removed: vec![],
            })
        });
    reads_memberships_back(&mut ports.rooms);
    ports.events.expect_publish().return_const(());
    let joined = ports.build().join(&agent(), ROOM, join("20")).await;
    assert!(matches!(joined, Ok(u) if u.id == UserId(20)));
}

#[tokio::test]
async fn leaving_when_not_in_the_room_is_not_in_room() {
    for known in [Some(user(7, Some("user_123"))), None] {
        let mut ports = Ports::new(room(true, None));
        let found = known.clone();
        ports
            .users
            .expect_find_by_chat_id()
            .returning(move |_, _| Ok(found.clone()));
        ports
            .members
            .expect_remove_members()
            .returning(|_, _, _| Ok(MemberChange::default()));
        ports.events.expect_publish().never();
        let id = ExternalId::parse("user_123").unwrap_or_else(|e| panic!("{e}"));
        let left = ports.build().leave(&admin(), ROOM, id).await;
        assert!(
            matches!(left, Err(AppError::Conflict(Conflict::NotInRoom))),
            "{known:?}"
        );
    }
}

#[tokio::test]
async fn only_managers_change_members() {
    let ids = UserIds::parse(Some(vec![1, 2])).unwrap_or_else(|e| panic!("{e}"));
    let mut ports = Ports::new(room(true, None));
    ports.members.expect_add_members().never();
    ports.members.expect_replace_members().never();
    ports.members.expect_remove_members().never();
    let members = ports.build();
    let denied =
        |r: Result<(), AppError>| matches!(r, Err(AppError::Forbidden(Denied::NotAdministrator)));
    assert!(denied(
        members.add(&agent(), ROOM, ids.clone()).await.map(drop)
    ));
    assert!(denied(
        members.replace(&agent(), ROOM, ids.clone()).await.map(drop)
    ));
    assert!(denied(members.remove(&agent(), ROOM, ids).await));
}

#[tokio::test]
async fn unknown_user_ids_are_not_found_and_change_nothing() {
    let mut ports = Ports::new(room(true, None));
    ports
        .users
        .expect_find_users()
        .returning(|_, _| Ok(vec![user(1, None)]));
    ports.members.expect_add_members().never();
    let ids = UserIds::parse(Some(vec![1, 999])).unwrap_or_else(|e| panic!("{e}"));
    let result = ports.build().add(&admin(), ROOM, ids).await;
    assert!(matches!(result, Err(AppError::NotFound(Resource::User))));
}

#[tokio::test]
async fn replacing_publishes_one_event_per_added_and_removed_member() {
    let mut ports = Ports::new(room(true, None));
    ports
        .users
        .expect_find_users()
        .returning(|_, _| Ok(vec![user(1, None), user(3, None)]));
    let calls = std::sync::atomic::AtomicUsize::new(0);
    ports.rooms.expect_members_of().returning(move |_, _| {
        // Before: 1 and 2. After: 1 and 3.
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Ok(vec![(RoomId(5), user(1, None)), (RoomId(5), user(2, None))])
        } else {
            Ok(vec![(RoomId(5), user(1, None)), (RoomId(5), user(3, None))])
        }
    });
    ports
        .members
        .expect_replace_members()
        .withf(|_, _, users, _| users == &vec![UserId(1), UserId(3)])
        .times(1)
        .returning(|_, _, _, _| {
            Ok(MemberChange {
                added: vec![UserId(3)],
                removed: vec![UserId(2)],
            })
        });
    reads_memberships_back(&mut ports.rooms);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    ports.events.expect_publish().returning(move |event| {
        let entry = match event {
            DomainEvent::Member(MemberEvent::Joined { user, .. }) => ("joined", user.id),
            DomainEvent::Member(MemberEvent::Left { user, .. }) => ("left", user.id),
            DomainEvent::Room(_) | DomainEvent::Message(_) | DomainEvent::Credentials(_) => {
                ("other", UserId(0))
            }
        };
        log.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    });
    let ids = UserIds::parse(Some(vec![1, 3, 3])).unwrap_or_else(|e| panic!("{e}"));
    let after = ports
        .build()
        .replace(&admin(), ROOM, ids)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        after.iter().map(|u| u.id).collect::<Vec<_>>(),
        [UserId(1), UserId(3)]
    );
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(seen, [("joined", UserId(3)), ("left", UserId(2))]);
}

#[tokio::test]
async fn a_non_member_agent_cannot_read_members_participants_or_presence() {
    let mut ports = Ports::new(room(true, None));
    ports
        .rooms
        .expect_is_member()
        .returning(|_, _, _| Ok(false));
    ports.rooms.expect_members_of().never();
    ports.members.expect_list_memberships().never();
    let members = ports.build();
    let window = Window::new(0, 10, 100).unwrap_or_else(|e| panic!("{e}"));
    let not_member =
        |r: Result<(), AppError>| matches!(r, Err(AppError::Forbidden(Denied::NotMember)));
    assert!(not_member(members.list(&agent(), ROOM).await.map(drop)));
    assert!(not_member(
        members.participants(&agent(), ROOM, window).await.map(drop)
    ));
    assert!(not_member(members.online(&agent(), ROOM).await.map(drop)));
    let online = members.online(&admin(), ROOM).await.map(|o| o.user_ids);
    assert_eq!(online.ok(), Some(vec!["user_123".to_owned()]));
}

#[tokio::test]
async fn a_room_outside_the_account_is_not_found_for_every_caller_before_any_right() {
    let ids = UserIds::parse(Some(vec![1])).unwrap_or_else(|e| panic!("{e}"));
    let window = Window::new(0, 10, 100).unwrap_or_else(|e| panic!("{e}"));
    for actor in [agent(), admin()] {
        let mut rooms = MockRoomStore::new();
        rooms
            .expect_find_room()
            .returning(|_, _| Err(StoreError::NotFound));
        rooms.expect_is_member().never();
        let mut ports = Ports::new(room(true, None));
        ports.rooms = rooms;
        ports.users.expect_find_users().never();
        ports.users.expect_find_by_chat_id().never();
        ports.members.expect_add_members().never();
        ports.members.expect_replace_members().never();
        ports.members.expect_remove_members().never();
        let members = ports.build();
        let join = || join("user_123");
        let user_id = || ExternalId::parse("user_123").unwrap_or_else(|e| panic!("{e}"));
        for (what, result) in [
            (
                "add",
                members.add(&actor, ROOM, ids.clone()).await.map(drop),
            ),
            (
                "replace",
                members.replace(&actor, ROOM, ids.clone()).await.map(drop),
            ),
            ("remove", members.remove(&actor, ROOM, ids.clone()).await),
            ("join", members.join(&actor, ROOM, join()).await.map(drop)),
            ("leave", members.leave(&actor, ROOM, user_id()).await),
            ("list", members.list(&actor, ROOM).await.map(drop)),
            (
                "participants",
                members.participants(&actor, ROOM, window).await.map(drop),
            ),
            ("online", members.online(&actor, ROOM).await.map(drop)),
        ] {
            assert!(
                matches!(result, Err(AppError::NotFound(Resource::Room))),
                "{actor:?} {what}: {result:?}"
            );
        }
    }
}

mod announcements;
