//! Membership under two vocabularies: ChatAPI participants (join, leave, list, online)
//! and account-dialect members (add, replace, remove, list).
//!
//! | actor | joins / leaves | adds, replaces, removes | reads members |
//! |---|---|---|---|
//! | API key | anyone (an unknown `user_id` becomes a user) | yes | every room |
//! | administrator | anyone (likewise) | yes | every room |
//! | agent | only itself (else `Forbidden(NotAdministrator)`) | no (`Forbidden(NotAdministrator)`) | its rooms (else `Forbidden(NotMember)`) |
//! | scoped credential | itself with `join_rooms`; others with `invite_users`, in its rooms | with `invite_users`, in its rooms | with `read_messages`, its rooms |
//!
//! The room comes first: another account's room (or none) is `NotFound(Room)` for every
//! caller, before any right is checked; the rights come before the state of things. Joining
//! an inactive room is `Conflict(RoomInactive)`; administrators may still
//! change an inactive room's members. A room with `meta.max_participants` refuses any
//! change past it with `Conflict(RoomFull)`, checked atomically in the store.

use std::fmt;
use std::sync::Arc;

use chat_domain::{
    AccountId, ExternalId, MemberMeta, Membership, Permission, PersonName, Room, RoomRef, User,
    UserId,
};

use crate::access::{managed_room, require_member, room_error, visible_room};
use crate::actor::Actor;
use crate::error::{AppError, Conflict, Denied, Resource};
use crate::events::{DomainEvent, EventPublisher, MemberEvent};
use crate::live::PresenceStore;
use crate::model::{Join, Page, UserIds, Window};
use crate::ports::{MemberChange, MemberStore, RoomStore, UserDirectory};

/// The online users of a room (`GET /api/v1/rooms/{room_id}/online`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Online {
    /// Their ChatAPI `user_id`s, sorted, without duplicates.
    pub user_ids: Vec<String>,
}

/// The membership use cases.
#[derive(Clone)]
pub struct Members {
    rooms: Arc<dyn RoomStore>,
    members: Arc<dyn MemberStore>,
    users: Arc<dyn UserDirectory>,
    presence: Arc<dyn PresenceStore>,
    events: Arc<dyn EventPublisher>,
}

impl fmt::Debug for Members {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Members").finish_non_exhaustive()
    }
}

fn store_error(resource: Resource) -> impl Fn(crate::ports::StoreError) -> AppError {
    move |error| error.into_app(resource)
}

impl Members {
    /// Membership use cases over these ports, publishing to `events`.
    pub fn new(
        rooms: Arc<dyn RoomStore>,
        members: Arc<dyn MemberStore>,
        users: Arc<dyn UserDirectory>,
        presence: Arc<dyn PresenceStore>,
        events: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            rooms,
            members,
            users,
            presence,
            events,
        }
    }

    /// Puts a user in a room. An unknown `user_id` becomes a user of the account (an
    /// agent named `user_name`), except for an agent, who only ever joins as itself.
    pub async fn join(&self, actor: &Actor, room: RoomRef, join: Join) -> Result<User, AppError> {
        let account = actor.account_id()?;
        let room = self.find_room(account, room).await?;
        let known = self
            .users
            .find_by_chat_id(account, join.user_id.as_str().to_owned())
            .await
            .map_err(store_error(Resource::User))?;
        self.may_change_membership(actor, account, &room, known.as_ref())
            .await?;
        if !room.is_active {
            return Err(AppError::Conflict(Conflict::RoomInactive));
        }
        let limit = room.meta.max_participants();
        let (user, change) = match known {
            Some(user) => {
                let change = self
                    .members
                    .add_members(account, room.id, vec![user.id], join.meta, limit)
                    .await
                    .map_err(room_error)?;
                (user, change)
            }
            // Only the API key and administrators make users by joining them.
            None if actor.limited_to().is_some() => {
                return Err(AppError::NotFound(Resource::User));
            }
            None => {
                let name = match join.user_name {
                    Some(name) => name,
                    None => PersonName::parse(join.user_id.as_str())?,
                };
                // Creating the user and joining are one transaction: a refused join
                // leaves no user behind.
                self.members
                    .add_external_member(account, room.id, join.user_id, name, join.meta, limit)
                    .await
                    .map_err(room_error)?
            }
        };
        if change.added.is_empty() {
            return Err(AppError::Conflict(Conflict::AlreadyInRoom));
        }
        self.publish_joined(&room, std::slice::from_ref(&user));
        Ok(user)
    }

    /// Takes a user out of a room; an agent only ever leaves as itself.
    pub async fn leave(
        &self,
        actor: &Actor,
        room: RoomRef,
        user_id: ExternalId,
    ) -> Result<(), AppError> {
        let account = actor.account_id()?;
        let room = self.find_room(account, room).await?;
        let user = self
            .users
            .find_by_chat_id(account, user_id.as_str().to_owned())
            .await
            .map_err(store_error(Resource::User))?;
        self.may_change_membership(actor, account, &room, user.as_ref())
            .await?;
        let user = user.ok_or(AppError::Conflict(Conflict::NotInRoom))?;
        let change = self
            .members
            .remove_members(account, room.id, vec![user.id])
            .await
            .map_err(room_error)?;
        if change.removed.is_empty() {
            return Err(AppError::Conflict(Conflict::NotInRoom));
        }
        self.publish_left(&room, std::slice::from_ref(&user));
        Ok(())
    }

    /// One page of a room's participants, in join order.
    pub async fn participants(
        &self,
        actor: &Actor,
        room: RoomRef,
        window: Window,
    ) -> Result<Page<Membership>, AppError> {
        let account = actor.account_id()?;
        let room = visible_room(self.rooms.as_ref(), actor, account, room).await?;
        let (items, total) = self
            .members
            .list_memberships(account, room.id, window)
            .await
            .map_err(room_error)?;
        Ok(Page { items, total })
    }

    /// Who has a live connection to the room.
    pub async fn online(&self, actor: &Actor, room: RoomRef) -> Result<Online, AppError> {
        let account = actor.account_id()?;
        let room = visible_room(self.rooms.as_ref(), actor, account, room).await?;
        let user_ids = self
            .presence
            .online_in_room(account, room.id)
            .await
            .map_err(room_error)?;
        Ok(Online { user_ids })
    }

    /// Every member of a room, in join order.
    pub async fn list(&self, actor: &Actor, room: RoomRef) -> Result<Vec<User>, AppError> {
        let account = actor.account_id()?;
        let room = visible_room(self.rooms.as_ref(), actor, account, room).await?;
        self.members_of(account, &room).await
    }

    /// Adds users to a room; answers the users who were not members before.
    pub async fn add(
        &self,
        actor: &Actor,
        room: RoomRef,
        ids: UserIds,
    ) -> Result<Vec<User>, AppError> {
        let (account, room) =
            managed_room(self.rooms.as_ref(), actor, room, Permission::InviteUsers).await?;
        let users = self.users_of(account, &ids).await?;
        let change = self
            .members
            .add_members(
                account,
                room.id,
                ids.as_slice().to_vec(),
                MemberMeta::default(),
                room.meta.max_participants(),
            )
            .await
            .map_err(room_error)?;
        let added = pick(&users, &change.added);
        self.publish_joined(&room, &added);
        Ok(added)
    }

    /// Makes `ids` the room's exact member set; answers the full list.
    pub async fn replace(
        &self,
        actor: &Actor,
        room: RoomRef,
        ids: UserIds,
    ) -> Result<Vec<User>, AppError> {
        let (account, room) =
            managed_room(self.rooms.as_ref(), actor, room, Permission::InviteUsers).await?;
        let users = self.users_of(account, &ids).await?;
        let before = self.members_of(account, &room).await?;
        let change: MemberChange = self
            .members
            .replace_members(
                account,
                room.id,
                ids.as_slice().to_vec(),
                room.meta.max_participants(),
            )
            .await
            .map_err(room_error)?;
        self.publish_joined(&room, &pick(&users, &change.added));
        self.publish_left(&room, &pick(&before, &change.removed));
        self.members_of(account, &room).await
    }

    /// Removes users from a room; users who were not members are ignored.
    pub async fn remove(&self, actor: &Actor, room: RoomRef, ids: UserIds) -> Result<(), AppError> {
        let (account, room) =
            managed_room(self.rooms.as_ref(), actor, room, Permission::InviteUsers).await?;
        let users = self.users_of(account, &ids).await?;
        let change = self
            .members
            .remove_members(account, room.id, ids.as_slice().to_vec())
            .await
            .map_err(room_error)?;
        self.publish_left(&room, &pick(&users, &change.removed));
        Ok(())
    }

    /// Whether `actor` may put `target` (a user, or nobody known) in `room` or take them
    /// out (ChatAPI join and leave). The API key and administrators: anyone. An agent's
    /// own token: only itself (`Forbidden(NotAdministrator)`). A scoped credential:
    /// itself with `join_rooms`; anyone else with `invite_users`
    /// (`Forbidden(PermissionDenied)`) in a room it belongs to
    /// (`Forbidden(NotAdministrator)`).
    async fn may_change_membership(
        &self,
        actor: &Actor,
        account: AccountId,
        room: &Room,
        target: Option<&User>,
    ) -> Result<(), AppError> {
        let Some(me) = actor.limited_to() else {
            return Ok(());
        };
        let itself = target.is_some_and(|user| user.id == me);
        match actor.scope() {
            None if itself => Ok(()),
            None => Err(AppError::Forbidden(Denied::NotAdministrator)),
            Some(_) if itself => actor.require(Permission::JoinRooms),
            Some(_) => {
                actor.require(Permission::InviteUsers)?;
                require_member(
                    self.rooms.as_ref(),
                    account,
                    room,
                    me,
                    Denied::NotAdministrator,
                )
                .await
            }
        }
    }

    async fn find_room(&self, account: AccountId, room: RoomRef) -> Result<Room, AppError> {
        self.rooms
            .find_room(account, room)
            .await
            .map_err(room_error)
    }

    async fn members_of(&self, account: AccountId, room: &Room) -> Result<Vec<User>, AppError> {
        Ok(self
            .rooms
            .members_of(account, vec![room.id])
            .await
            .map_err(room_error)?
            .into_iter()
            .map(|(_, user)| user)
            .collect())
    }

    /// The users `ids` name; any id that is not a user of the account is `NotFound(User)`.
    async fn users_of(&self, account: AccountId, ids: &UserIds) -> Result<Vec<User>, AppError> {
        let users = self
            .users
            .find_users(account, ids.as_slice().to_vec())
            .await
            .map_err(store_error(Resource::User))?;
        if users.len() != ids.as_slice().len() {
            return Err(AppError::NotFound(Resource::User));
        }
        Ok(users)
    }

    fn publish_joined(&self, room: &Room, users: &[User]) {
        for user in users {
            self.events
                .publish(DomainEvent::Member(MemberEvent::Joined {
                    room: room.clone(),
                    user: user.clone(),
                }));
        }
    }

    fn publish_left(&self, room: &Room, users: &[User]) {
        for user in users {
            self.events.publish(DomainEvent::Member(MemberEvent::Left {
                room: room.clone(),
                user: user.clone(),
            }));
        }
    }
}

/// The users among `users` whose ids are in `ids`, in the order of `ids`.
fn pick(users: &[User], ids: &[UserId]) -> Vec<User> {
    ids.iter()
        .filter_map(|id| users.iter().find(|user| user.id == *id).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
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
        ports
            .events
            .expect_publish()
            .withf(|e| matches!(e, DomainEvent::Member(MemberEvent::Joined { user, .. }) if user.id == UserId(7)))
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
        let denied = |r: Result<(), AppError>| {
            matches!(r, Err(AppError::Forbidden(Denied::NotAdministrator)))
        };
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
}
