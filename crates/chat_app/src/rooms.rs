//! Rooms: create, list, read, change, (de)activate and delete, under the same rules in
//! both dialects.
//!
//! | actor | sees | creates, changes, deletes |
//! |---|---|---|
//! | API key | every room of its account | yes |
//! | administrator | every room of its account | yes |
//! | agent | the rooms it belongs to (others: `Forbidden(NotMember)`) | no (`Forbidden(NotAdministrator)`) |
//! | platform token | nothing (`Unauthenticated`) | no |
//! | scoped credential | with `read_messages`, the rooms it belongs to | with `manage_rooms`: creates (as first member), changes the rooms it belongs to |
//!
//! The room is looked up before the rights are checked: another account's room (or
//! none) is `NotFound(Room)` for every caller, agents included.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chat_domain::{
    AccountId, ExternalId, Permission, Room, RoomId, RoomRef, StorageKey, User, UserId,
};

use crate::access::{
    RoomAction, admit, managed_room, room_error, unread_counts, user_error, visible_room,
};
use crate::actor::Actor;
use crate::error::{AppError, Resource};
use crate::events::{DomainEvent, EventPublisher, RoomEvent};
use crate::files::discard;
use crate::model::{Along, Detail, NewRoom, Page, RoomFilter, RoomPatch, RoomQuery};
use crate::ports::{FileStore, MessageStore, RoomStore, UserDirectory};

/// A room as one caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomView {
    /// The room.
    pub room: Room,
    /// In join order; loaded with [`Detail::WithMembers`].
    pub members: Option<Vec<User>>,
    /// Other people's messages after the viewer's read position: a user credential's own
    /// user, or the user a list names for the API key ([`RoomQuery::viewer`]). Filled in
    /// lists whenever there is a viewer, and in single rooms with [`Detail::WithMembers`];
    /// 0 without a viewer and for rooms the viewer does not belong to.
    pub unread_count: i64,
    /// Of those, the ones that mention the viewer.
    pub unread_mentions: i64,
}

impl RoomView {
    /// Whether the caller is a member: always false for the API key, which is nobody.
    pub fn is_member(&self, actor: &Actor) -> bool {
        match (actor, &self.members) {
            (Actor::User { user_id, .. }, Some(members)) => {
                members.iter().any(|member| member.id == *user_id)
            }
            _ => false,
        }
    }
}

/// The room use cases.
#[derive(Clone)]
pub struct Rooms {
    store: Arc<dyn RoomStore>,
    messages: Arc<dyn MessageStore>,
    users: Arc<dyn UserDirectory>,
    files: Arc<dyn FileStore>,
    events: Arc<dyn EventPublisher>,
}

impl fmt::Debug for Rooms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rooms").finish_non_exhaustive()
    }
}

impl Rooms {
    /// Room use cases over these ports, publishing to `events`.
    pub fn new(
        store: Arc<dyn RoomStore>,
        messages: Arc<dyn MessageStore>,
        users: Arc<dyn UserDirectory>,
        files: Arc<dyn FileStore>,
        events: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            store,
            messages,
            users,
            files,
            events,
        }
    }

    /// Creates a room; a user who creates it becomes its first member. An avatar that
    /// came with a refused request is removed.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewRoom,
        detail: Detail,
    ) -> Result<RoomView, AppError> {
        let avatar = new.avatar.as_ref().map(|file| file.key.clone());
        let created = self.create_room(actor, new).await;
        if created.is_err() {
            discard(self.files.as_ref(), avatar.into_iter().collect()).await;
        }
        let (account, room) = created?;
        self.view(actor, account, room, detail).await
    }

    async fn create_room(
        &self,
        actor: &Actor,
        new: NewRoom,
    ) -> Result<(AccountId, Room), AppError> {
        let account = match actor.scope() {
            // A scoped credential with `manage_rooms` creates rooms (it is their first
            // member); any other credential must manage the account.
            Some(_) => {
                actor.require(Permission::ManageRooms)?;
                actor.account_id()?
            }
            None => actor.require_manager()?,
        };
        let creator = actor.user_id();
        let room = self
            .store
            .create_room(account, new, creator)
            .await
            .map_err(room_error)?;
        self.events
            .publish(DomainEvent::Room(RoomEvent::Created(room.clone())));
        if let Some(creator) = creator {
            // The creator is the first member: their live stream follows them in.
            match self.store.find_membership(account, room.id, creator).await {
                Ok(Some(membership)) => self
                    .events
                    .publish(crate::members::joined(&room, membership)),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "the creator's joining could not be announced");
                }
            }
        }
        Ok((account, room))
    }

    /// The rooms the actor may see that match `query`, each with what the viewer has not
    /// read: a user credential's own user; for the API key, the user `query.viewer`
    /// names (an unknown one is `NotFound(User)`), else nobody.
    pub async fn list(
        &self,
        actor: &Actor,
        query: RoomQuery,
        detail: Detail,
    ) -> Result<Page<RoomView>, AppError> {
        let account = actor.account_id()?;
        actor.require(Permission::ReadMessages)?;
        let viewer = self.viewer(actor, account, query.viewer).await?;
        let filter = RoomFilter {
            search: query.search,
            is_active: query.is_active,
            member: actor.limited_to(),
            sort: query.sort,
            window: query.window,
        };
        let along = Along {
            unread_of: viewer,
            members: detail == Detail::WithMembers,
        };
        let (rooms, total) = self
            .store
            .list_rooms(account, filter, along)
            .await
            .map_err(room_error)?;
        let items = rooms
            .into_iter()
            .map(|listed| RoomView {
                room: listed.room,
                members: listed.members,
                unread_count: listed.unread.messages,
                unread_mentions: listed.unread.mentions,
            })
            .collect();
        Ok(Page { items, total })
    }

    /// Whose unread counts a list shows: a user credential's own user (whatever `named`
    /// says); for the API key, the user `named` names (`NotFound(User)` when nobody),
    /// else nobody.
    async fn viewer(
        &self,
        actor: &Actor,
        account: AccountId,
        named: Option<ExternalId>,
    ) -> Result<Option<UserId>, AppError> {
        if let Some(own) = actor.user_id() {
            return Ok(Some(own));
        }
        let Some(named) = named else {
            return Ok(None);
        };
        let user = self
            .users
            .find_by_chat_id(account, named.as_str().to_owned())
            .await
            .map_err(user_error)?
            .ok_or(AppError::NotFound(Resource::User))?;
        Ok(Some(user.id))
    }

    /// Whether `actor` may do `action` with `room`: `NotFound(Room)` when the room is not
    /// in the actor's account, whoever asks, then `Forbidden` when the actor's rights do
    /// not allow it. For adapters that refuse a caller before reading the request's body
    /// (each use case checks again, in the same order).
    pub async fn admit(
        &self,
        actor: &Actor,
        room: RoomRef,
        action: RoomAction,
    ) -> Result<(), AppError> {
        admit(self.store.as_ref(), actor, room, action)
            .await
            .map(drop)
    }

    /// One room, if the actor may see it.
    pub async fn get(
        &self,
        actor: &Actor,
        room: RoomRef,
        detail: Detail,
    ) -> Result<RoomView, AppError> {
        let account = actor.account_id()?;
        let room = visible_room(self.store.as_ref(), actor, account, room).await?;
        self.view(actor, account, room, detail).await
    }

    /// Changes the fields given in `patch`. The avatar it replaces or removes is
    /// deleted once the change commits; a new avatar that came with a refused request
    /// is removed.
    pub async fn update(
        &self,
        actor: &Actor,
        room: RoomRef,
        patch: RoomPatch,
        detail: Detail,
    ) -> Result<RoomView, AppError> {
        let new_avatar = match &patch.avatar {
            Some(Some(file)) => Some(file.key.clone()),
            _ => None,
        };
        let updated = self.update_room(actor, room, patch).await;
        match updated {
            Ok((account, room, replaced)) => {
                discard(self.files.as_ref(), replaced.into_iter().collect()).await;
                self.view(actor, account, room, detail).await
            }
            Err(error) => {
                discard(self.files.as_ref(), new_avatar.into_iter().collect()).await;
                Err(error)
            }
        }
    }

    async fn update_room(
        &self,
        actor: &Actor,
        room: RoomRef,
        patch: RoomPatch,
    ) -> Result<(AccountId, Room, Option<StorageKey>), AppError> {
        let (account, found) =
            managed_room(self.store.as_ref(), actor, room, Permission::ManageRooms).await?;
        if patch.is_empty() {
            return Ok((account, found, None));
        }
        let (updated, replaced) = self
            .store
            .update_room(account, found.id, patch)
            .await
            .map_err(room_error)?;
        self.events
            .publish(DomainEvent::Room(RoomEvent::Updated(updated.clone())));
        Ok((account, updated, replaced))
    }

    /// Removes a room's avatar (and its file, once the change commits). A room without
    /// one is left as it is.
    pub async fn remove_avatar(
        &self,
        actor: &Actor,
        room: RoomRef,
        detail: Detail,
    ) -> Result<RoomView, AppError> {
        let (account, found) =
            managed_room(self.store.as_ref(), actor, room, Permission::ManageRooms).await?;
        if found.avatar.is_none() {
            return self.view(actor, account, found, detail).await;
        }
        let patch = RoomPatch {
            avatar: Some(None),
            ..RoomPatch::default()
        };
        self.update(actor, RoomRef::Id(found.id), patch, detail)
            .await
    }

    /// Activates or deactivates a room. An inactive room keeps everything it has and
    /// refuses new messages.
    pub async fn set_active(
        &self,
        actor: &Actor,
        room: RoomRef,
        active: bool,
    ) -> Result<Room, AppError> {
        let (account, found) =
            managed_room(self.store.as_ref(), actor, room, Permission::ManageRooms).await?;
        let room = self
            .store
            .set_room_active(account, found.id, active)
            .await
            .map_err(room_error)?;
        let event = if active {
            RoomEvent::Activated(room.clone())
        } else {
            RoomEvent::Deactivated(room.clone())
        };
        self.events.publish(DomainEvent::Room(event));
        Ok(room)
    }

    /// Deletes a room and everything in it; its files (avatar, attachments) are removed
    /// once the database commits.
    pub async fn delete(&self, actor: &Actor, room: RoomRef) -> Result<(), AppError> {
        let (account, found) =
            managed_room(self.store.as_ref(), actor, room, Permission::ManageRooms).await?;
        let files = self
            .store
            .delete_room(account, found.id)
            .await
            .map_err(room_error)?;
        discard(self.files.as_ref(), files).await;
        self.events.publish(DomainEvent::Room(RoomEvent::Deleted {
            account,
            id: found.id,
            uuid: found.uuid,
        }));
        Ok(())
    }

    async fn view(
        &self,
        actor: &Actor,
        account: AccountId,
        room: Room,
        detail: Detail,
    ) -> Result<RoomView, AppError> {
        match detail {
            Detail::Summary => Ok(RoomView {
                room,
                members: None,
                unread_count: 0,
                unread_mentions: 0,
            }),
            Detail::WithMembers => {
                let mut views = self
                    .with_members(actor.user_id(), account, vec![room])
                    .await?;
                views.pop().ok_or_else(|| {
                    AppError::Unexpected(anyhow::anyhow!("a room view went missing"))
                })
            }
        }
    }

    /// Attaches each room's members and the viewer's unread counts, with one query each
    /// for all of them.
    async fn with_members(
        &self,
        viewer: Option<UserId>,
        account: AccountId,
        rooms: Vec<Room>,
    ) -> Result<Vec<RoomView>, AppError> {
        let ids: Vec<RoomId> = rooms.iter().map(|room| room.id).collect();
        let unread = unread_counts(self.messages.as_ref(), viewer, account, ids.clone()).await?;
        let mut members: HashMap<RoomId, Vec<User>> = HashMap::new();
        for (room, user) in self
            .store
            .members_of(account, ids)
            .await
            .map_err(room_error)?
        {
            members.entry(room).or_default().push(user);
        }
        Ok(rooms
            .into_iter()
            .map(|room| {
                let list = members.remove(&room.id).unwrap_or_default();
                RoomView {
                    unread_count: unread.get(&room.id).map_or(0, |u| u.messages),
                    unread_mentions: unread.get(&room.id).map_or(0, |u| u.mentions),
                    room,
                    members: Some(list),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::AccountAccess;
    use crate::error::{Denied, Resource};
    use crate::events::{MemberEvent, MockEventPublisher};
    use crate::model::{ListedRoom, RoomSort, Window};
    use crate::ports::{
        MockFileStore, MockMessageStore, MockRoomStore, MockUserDirectory, StoreError,
    };
    use chat_domain::{
        Availability, Features, PersonName, Role, RoomMeta, RoomName, StoredUpload, UserId,
    };
    use time::macros::datetime;
    use uuid::Uuid;

    const ACCOUNT: AccountId = AccountId(1);

    fn access() -> AccountAccess {
        AccountAccess {
            id: ACCOUNT,
            uuid: Uuid::from_u128(1),
            features: Features::default(),
        }
    }

    fn api_key() -> Actor {
        Actor::ApiKey(access())
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

    fn room(id: i64) -> Room {
        Room {
            id: RoomId(id),
            uuid: Uuid::from_u128(id as u128),
            account_id: ACCOUNT,
            name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
            description: None,
            meta: RoomMeta::default(),
            is_active: true,
            avatar: None,
            member_count: 0,
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

    fn new_room() -> NewRoom {
        NewRoom::parse(Some("General"), None, None).unwrap_or_else(|e| panic!("{e}"))
    }

    fn quiet_events() -> MockEventPublisher {
        let mut events = MockEventPublisher::new();
        events.expect_publish().never();
        events
    }

    fn rooms(store: MockRoomStore, events: MockEventPublisher) -> Rooms {
        let mut messages = MockMessageStore::new();
        messages.expect_unread_counts().returning(|_, _, rooms| {
            Ok(rooms
                .into_iter()
                .map(|room| (room, crate::model::Unread::default()))
                .collect())
        });
        Rooms::new(
            Arc::new(store),
            Arc::new(messages),
            Arc::new(MockUserDirectory::new()),
            Arc::new(MockFileStore::new()),
            Arc::new(events),
        )
    }

    fn query() -> RoomQuery {
        let window = Window::new(0, 50, 100).unwrap_or_else(|e| panic!("{e}"));
        RoomQuery::new(None, None, RoomSort::CreatedDesc, window).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn a_user_who_creates_a_room_becomes_its_member_and_the_api_key_does_not() {
        for (actor, creator) in [(admin(), Some(UserId(10))), (api_key(), None)] {
            let mut store = MockRoomStore::new();
            store
                .expect_create_room()
                .withf(move |account, _, who| *account == ACCOUNT && *who == creator)
                .times(1)
                .returning(|_, _, _| Ok(room(1)));
            store
                .expect_find_membership()
                .withf(|account, room, user| {
                    (*account, *room, *user) == (ACCOUNT, RoomId(1), UserId(10))
                })
                .times(usize::from(creator.is_some()))
                .returning(|_, _, _| {
                    Ok(Some(chat_domain::Membership {
                        user: user(10),
                        joined_at: datetime!(2024-01-02 3:04 UTC),
                        meta: chat_domain::MemberMeta::default(),
                    }))
                });
            let mut events = MockEventPublisher::new();
            events
                .expect_publish()
                .withf(
                    |e| matches!(e, DomainEvent::Room(RoomEvent::Created(r)) if r.id == RoomId(1)),
                )
                .times(1)
                .return_const(());
            // The creator's stream learns of the room as a join.
            events
                .expect_publish()
                .withf(|e| {
                    matches!(e, DomainEvent::Member(MemberEvent::Joined { room, user, joined_at, .. })
                        if room.id == RoomId(1) && user.id == UserId(10)
                            && *joined_at == datetime!(2024-01-02 3:04 UTC))
                })
                .times(usize::from(creator.is_some()))
                .return_const(());
            let view = rooms(store, events)
                .create(&actor, new_room(), Detail::Summary)
                .await;
            assert!(view.is_ok(), "{actor:?}: {view:?}");
        }
    }

    #[tokio::test]
    async fn agents_may_not_create_change_or_delete_rooms() {
        let mut store = MockRoomStore::new();
        store.expect_create_room().never();
        store.expect_find_room().returning(|_, _| Ok(room(1)));
        store.expect_update_room().never();
        store.expect_set_room_active().never();
        store.expect_delete_room().never();
        let rooms = rooms(store, quiet_events());
        let denied = |r: Result<(), AppError>| {
            matches!(r, Err(AppError::Forbidden(Denied::NotAdministrator)))
        };
        let any = RoomRef::Id(RoomId(1));
        assert!(denied(
            rooms
                .create(&agent(), new_room(), Detail::Summary)
                .await
                .map(drop)
        ));
        assert!(denied(
            rooms
                .update(&agent(), any, RoomPatch::default(), Detail::Summary)
                .await
                .map(drop)
        ));
        assert!(denied(
            rooms.set_active(&agent(), any, false).await.map(drop)
        ));
        assert!(denied(rooms.delete(&agent(), any).await));
    }

    #[tokio::test]
    async fn the_platform_token_works_in_no_account() {
        let mut store = MockRoomStore::new();
        store.expect_list_rooms().never();
        store.expect_create_room().never();
        let rooms = rooms(store, quiet_events());
        let list = rooms.list(&Actor::Platform, query(), Detail::Summary).await;
        assert!(matches!(list, Err(AppError::Unauthenticated)));
        let create = rooms
            .create(&Actor::Platform, new_room(), Detail::Summary)
            .await;
        assert!(matches!(create, Err(AppError::Unauthenticated)));
    }

    #[tokio::test]
    async fn agents_list_only_their_rooms_and_managers_every_room() {
        for (actor, member) in [
            (agent(), Some(UserId(20))),
            (admin(), None),
            (api_key(), None),
        ] {
            let mut store = MockRoomStore::new();
            store
                .expect_list_rooms()
                .withf(move |account, filter, _| *account == ACCOUNT && filter.member == member)
                .times(1)
                .returning(|_, _, _| Ok((vec![listed(room(1), None)], 1)));
            let page = rooms(store, quiet_events())
                .list(&actor, query(), Detail::Summary)
                .await;
            assert!(
                matches!(&page, Ok(p) if p.total == 1 && p.items.len() == 1),
                "{actor:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_agent_sees_a_room_only_as_a_member() {
        for (member, allowed) in [(true, true), (false, false)] {
            let mut store = MockRoomStore::new();
            store.expect_find_room().returning(|_, _| Ok(room(1)));
            store
                .expect_is_member()
                .withf(|_, room, user| *room == RoomId(1) && *user == UserId(20))
                .times(1)
                .returning(move |_, _, _| Ok(member));
            let result = rooms(store, quiet_events())
                .get(&agent(), RoomRef::Id(RoomId(1)), Detail::Summary)
                .await;
            if allowed {
                assert!(result.is_ok(), "{result:?}");
            } else {
                assert!(
                    matches!(result, Err(AppError::Forbidden(Denied::NotMember))),
                    "{result:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn managers_see_any_room_without_a_membership_check() {
        for actor in [admin(), api_key()] {
            let mut store = MockRoomStore::new();
            store.expect_find_room().returning(|_, _| Ok(room(1)));
            store.expect_is_member().never();
            let result = rooms(store, quiet_events())
                .get(&actor, RoomRef::Uuid(Uuid::from_u128(1)), Detail::Summary)
                .await;
            assert!(result.is_ok(), "{actor:?}");
        }
    }

    #[tokio::test]
    async fn another_accounts_room_is_not_found() {
        let mut store = MockRoomStore::new();
        store
            .expect_find_room()
            .returning(|_, _| Err(StoreError::NotFound));
        store.expect_delete_room().never();
        let rooms = rooms(store, quiet_events());
        let get = rooms
            .get(&admin(), RoomRef::Id(RoomId(9)), Detail::Summary)
            .await;
        assert!(matches!(get, Err(AppError::NotFound(Resource::Room))));
        let delete = rooms.delete(&admin(), RoomRef::Id(RoomId(9))).await;
        assert!(matches!(delete, Err(AppError::NotFound(Resource::Room))));
    }

    #[tokio::test]
    async fn a_room_outside_the_account_is_not_found_for_every_caller_before_any_right() {
        for actor in [agent(), admin(), api_key()] {
            let mut store = MockRoomStore::new();
            store
                .expect_find_room()
                .returning(|_, _| Err(StoreError::NotFound));
            store.expect_is_member().never();
            store.expect_update_room().never();
            store.expect_set_room_active().never();
            store.expect_delete_room().never();
            let rooms = rooms(store, quiet_events());
            let any = RoomRef::Id(RoomId(9));
            let rename =
                RoomPatch::parse(Some(Some("New")), None, None).unwrap_or_else(|e| panic!("{e}"));
            let mut results = vec![
                (
                    "get",
                    rooms.get(&actor, any, Detail::Summary).await.map(drop),
                ),
                (
                    "update",
                    rooms
                        .update(&actor, any, rename, Detail::Summary)
                        .await
                        .map(drop),
                ),
                (
                    "remove_avatar",
                    rooms
                        .remove_avatar(&actor, any, Detail::Summary)
                        .await
                        .map(drop),
                ),
                (
                    "set_active",
                    rooms.set_active(&actor, any, false).await.map(drop),
                ),
                ("delete", rooms.delete(&actor, any).await),
            ];
            for action in [
                RoomAction::See,
                RoomAction::Manage,
                RoomAction::ManageMembers,
                RoomAction::SpeakAsMember,
            ] {
                results.push(("admit", rooms.admit(&actor, any, action).await));
            }
            for (what, result) in results {
                assert!(
                    matches!(result, Err(AppError::NotFound(Resource::Room))),
                    "{actor:?} {what}: {result:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn admit_checks_the_room_first_then_the_callers_rights() {
        use Denied::{NotAdministrator, NotMember};
        // (caller, action, is the caller a member, the refusal if any)
        let cases = [
            (agent(), RoomAction::Manage, true, Some(NotAdministrator)),
            (
                agent(),
                RoomAction::ManageMembers,
                true,
                Some(NotAdministrator),
            ),
            (admin(), RoomAction::ManageMembers, false, None),
            (api_key(), RoomAction::ManageMembers, false, None),
            (agent(), RoomAction::See, false, Some(NotMember)),
            (agent(), RoomAction::See, true, None),
            (agent(), RoomAction::SpeakAsMember, false, Some(NotMember)),
            (agent(), RoomAction::SpeakAsMember, true, None),
            (admin(), RoomAction::Manage, false, None),
            (admin(), RoomAction::See, false, None),
            (admin(), RoomAction::SpeakAsMember, false, Some(NotMember)),
            (admin(), RoomAction::SpeakAsMember, true, None),
            (api_key(), RoomAction::Manage, false, None),
            (api_key(), RoomAction::See, false, None),
            // The API key is nobody: no member of any room, and no membership to ask about.
            (api_key(), RoomAction::SpeakAsMember, false, Some(NotMember)),
        ];
        for (actor, action, member, refusal) in cases {
            let mut store = MockRoomStore::new();
            store
                .expect_find_room()
                .times(1)
                .returning(|_, _| Ok(room(1)));
            store
                .expect_is_member()
                .returning(move |_, _, _| Ok(member));
            let result = rooms(store, quiet_events())
                .admit(&actor, RoomRef::Id(RoomId(1)), action)
                .await;
            let context = format!("{actor:?} {action:?} member={member}");
            match refusal {
                None => assert!(result.is_ok(), "{context}: {result:?}"),
                Some(denied) => assert!(
                    matches!(result, Err(AppError::Forbidden(d)) if d == denied),
                    "{context}: {result:?}"
                ),
            }
        }
        let mut store = MockRoomStore::new();
        store.expect_find_room().never();
        let platform = rooms(store, quiet_events())
            .admit(&Actor::Platform, RoomRef::Id(RoomId(1)), RoomAction::See)
            .await;
        assert!(matches!(platform, Err(AppError::Unauthenticated)));
    }

    #[tokio::test]
    async fn each_change_publishes_its_event_after_the_store_succeeds() {
        let mut store = MockRoomStore::new();
        store.expect_find_room().returning(|_, _| Ok(room(1)));
        store
            .expect_update_room()
            .returning(|_, _, _| Ok((room(1), None)));
        store.expect_set_room_active().returning(|_, _, active| {
            Ok(Room {
                is_active: active,
                ..room(1)
            })
        });
        store.expect_delete_room().returning(|_, _| Ok(Vec::new()));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let mut events = MockEventPublisher::new();
        events.expect_publish().returning(move |event| {
            let name = match event {
                DomainEvent::Room(RoomEvent::Created(_)) => "created",
                DomainEvent::Room(RoomEvent::Updated(_)) => "updated",
                DomainEvent::Room(RoomEvent::Deactivated(_)) => "deactivated",
                DomainEvent::Room(RoomEvent::Activated(_)) => "activated",
                DomainEvent::Room(RoomEvent::Deleted { .. }) => "deleted",
                DomainEvent::Member(_) => "member",
                DomainEvent::Message(_) => "message",
                DomainEvent::Credentials(_) => "credentials",
            };
            log.lock().unwrap_or_else(|e| e.into_inner()).push(name);
        });
        let rooms = rooms(store, events);
        let id = RoomRef::Id(RoomId(1));
        let rename =
            RoomPatch::parse(Some(Some("New")), None, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            rooms
                .update(&admin(), id, rename, Detail::Summary)
                .await
                .is_ok()
        );
        assert!(
            rooms
                .update(&admin(), id, RoomPatch::default(), Detail::Summary)
                .await
                .is_ok()
        );
        assert!(rooms.set_active(&admin(), id, false).await.is_ok());
        assert!(rooms.set_active(&admin(), id, true).await.is_ok());
        assert!(rooms.delete(&admin(), id).await.is_ok());
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // An empty patch changes nothing and publishes nothing.
        assert_eq!(seen, ["updated", "deactivated", "activated", "deleted"]);
    }

    #[tokio::test]
    async fn members_come_with_the_page_and_mark_the_viewer() {
        for detail in [Detail::Summary, Detail::WithMembers] {
            let mut store = MockRoomStore::new();
            store
                .expect_list_rooms()
                .withf(move |_, _, along| along.members == (detail == Detail::WithMembers))
                .times(1)
                .returning(|_, _, along| {
                    let members = |ids: &[i64]| {
                        along
                            .members
                            .then(|| ids.iter().map(|&id| user(id)).collect())
                    };
                    Ok((
                        vec![
                            listed(room(1), members(&[10, 30])),
                            listed(room(2), members(&[30])),
                        ],
                        2,
                    ))
                });
            store.expect_members_of().never();
            let page = rooms(store, quiet_events())
                .list(&admin(), query(), detail)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let first = &page.items[0];
            let second = &page.items[1];
            if detail == Detail::Summary {
                assert_eq!(first.members, None);
                assert!(!first.is_member(&admin()));
                continue;
            }
            assert_eq!(first.members.as_ref().map(Vec::len), Some(2));
            assert!(first.is_member(&admin()));
            assert!(!second.is_member(&admin()));
            assert!(!first.is_member(&api_key()));
        }
    }

    fn listed(room: Room, members: Option<Vec<User>>) -> ListedRoom {
        ListedRoom {
            members,
            ..crate::testing::listed(room)
        }
    }

    // --- avatars and files -----------------------------------------------------------

    fn avatar_key(n: u128) -> StorageKey {
        StorageKey::for_avatar(ACCOUNT, Uuid::from_u128(n), "png").unwrap_or_else(|e| panic!("{e}"))
    }

    fn attachment_key(n: u128) -> StorageKey {
        StorageKey::for_attachment(ACCOUNT, Uuid::from_u128(n), "png")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn avatar_upload(n: u128) -> StoredUpload {
        StoredUpload {
            uuid: Uuid::from_u128(n),
            key: avatar_key(n),
            kind: chat_domain::Sniffed::PNG,
            size: 321,
            dimensions: Some((64, 64)),
        }
    }

    fn room_with_avatar(id: i64, avatar: Option<StorageKey>) -> Room {
        Room { avatar, ..room(id) }
    }

    fn any_events() -> MockEventPublisher {
        let mut events = MockEventPublisher::new();
        events.expect_publish().return_const(());
        events
    }

    /// The file store expects each of `keys` deleted exactly once, and nothing else.
    fn deleting(keys: Vec<StorageKey>) -> MockFileStore {
        let mut files = MockFileStore::new();
        for key in keys {
            files
                .expect_delete()
                .withf(move |k| *k == key)
                .times(1)
                .returning(|_| Ok(()));
        }
        files
    }

    fn rooms_with_files(
        store: MockRoomStore,
        files: MockFileStore,
        events: MockEventPublisher,
    ) -> Rooms {
        Rooms::new(
            Arc::new(store),
            Arc::new(MockMessageStore::new()),
            Arc::new(MockUserDirectory::new()),
            Arc::new(files),
            Arc::new(events),
        )
    }

    fn with_avatar(avatar: Option<StoredUpload>) -> RoomPatch {
        RoomPatch {
            avatar: Some(avatar),
            ..RoomPatch::default()
        }
    }

    #[tokio::test]
    async fn deleting_a_room_deletes_every_file_the_store_answers_after_it_commits() {
        let keys = vec![attachment_key(1), attachment_key(2), avatar_key(3)];
        let mut order = mockall::Sequence::new();
        let mut store = MockRoomStore::new();
        store
            .expect_find_room()
            .returning(|_, _| Ok(room_with_avatar(1, Some(avatar_key(3)))));
        let answered = keys.clone();
        store
            .expect_delete_room()
            .withf(|account, room| *account == ACCOUNT && *room == RoomId(1))
            .times(1)
            .in_sequence(&mut order)
            .returning(move |_, _| Ok(answered.clone()));
        let mut files = MockFileStore::new();
        for key in keys {
            files
                .expect_delete()
                .withf(move |k| *k == key)
                .times(1)
                .in_sequence(&mut order)
                .returning(|_| Ok(()));
        }
        let rooms = rooms_with_files(store, files, any_events());
        let deleted = rooms.delete(&admin(), RoomRef::Id(RoomId(1))).await;
        assert!(deleted.is_ok(), "{deleted:?}");
    }

    #[tokio::test]
    async fn a_room_the_store_fails_to_delete_keeps_its_files() {
        let mut store = MockRoomStore::new();
        store.expect_find_room().returning(|_, _| Ok(room(1)));
        store
            .expect_delete_room()
            .times(1)
            .returning(|_, _| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
        let mut files = MockFileStore::new();
        files.expect_delete().never();
        let deleted = rooms_with_files(store, files, quiet_events())
            .delete(&admin(), RoomRef::Id(RoomId(1)))
            .await;
        assert!(
            matches!(deleted, Err(AppError::Unavailable(_))),
            "{deleted:?}"
        );
    }

    #[tokio::test]
    async fn a_new_avatar_is_kept_and_the_one_it_replaces_is_deleted() {
        let mut store = MockRoomStore::new();
        store
            .expect_find_room()
            .returning(|_, _| Ok(room_with_avatar(1, Some(avatar_key(1)))));
        store
            .expect_update_room()
            .withf(|account, room, patch| {
                *account == ACCOUNT
                    && *room == RoomId(1)
                    && patch.avatar == Some(Some(avatar_upload(2)))
            })
            .times(1)
            .returning(|_, _, _| {
                Ok((
                    room_with_avatar(1, Some(avatar_key(2))),
                    Some(avatar_key(1)),
                ))
            });
        // Only the replaced file goes (the new one would panic: no expectation).
        let files = deleting(vec![avatar_key(1)]);
        let view = rooms_with_files(store, files, any_events())
            .update(
                &api_key(),
                RoomRef::Id(RoomId(1)),
                with_avatar(Some(avatar_upload(2))),
                Detail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.room.avatar, Some(avatar_key(2)));
    }

    #[tokio::test]
    async fn a_first_avatar_replaces_nothing_and_deletes_nothing() {
        let mut store = MockRoomStore::new();
        store.expect_find_room().returning(|_, _| Ok(room(1)));
        store
            .expect_update_room()
            .times(1)
            .returning(|_, _, _| Ok((room_with_avatar(1, Some(avatar_key(2))), None)));
        let mut files = MockFileStore::new();
        files.expect_delete().never();
        let view = rooms_with_files(store, files, any_events())
            .update(
                &admin(),
                RoomRef::Id(RoomId(1)),
                with_avatar(Some(avatar_upload(2))),
                Detail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.room.avatar, Some(avatar_key(2)));
    }

    #[tokio::test]
    async fn a_refused_update_deletes_the_new_avatar() {
        // (why, actor, find_room answers, update_room answers)
        type Answer = fn() -> Result<Room, StoreError>;
        let found: Answer = || Ok(room_with_avatar(1, Some(avatar_key(1))));
        let missing: Answer = || Err(StoreError::NotFound);
        let cases: [(&str, Actor, Answer, Option<Answer>); 4] = [
            ("room not found", admin(), missing, None),
            ("agent", agent(), found, None),
            ("platform token", Actor::Platform, found, None),
            ("store refuses", api_key(), found, Some(missing)),
        ];
        for (why, actor, find, update) in cases {
            let mut store = MockRoomStore::new();
            store.expect_find_room().returning(move |_, _| find());
            match update {
                Some(update) => {
                    store
                        .expect_update_room()
                        .times(1)
                        .returning(move |_, _, _| update().map(|room| (room, None)));
                }
                None => {
                    store.expect_update_room().never();
                }
            }
            // The new avatar goes; the current one stays.
            let files = deleting(vec![avatar_key(2)]);
            let result = rooms_with_files(store, files, quiet_events())
                .update(
                    &actor,
                    RoomRef::Id(RoomId(1)),
                    with_avatar(Some(avatar_upload(2))),
                    Detail::Summary,
                )
                .await;
            assert!(result.is_err(), "{why}: {result:?}");
        }
    }

    #[tokio::test]
    async fn a_refused_update_without_a_new_avatar_deletes_nothing() {
        let mut store = MockRoomStore::new();
        store
            .expect_find_room()
            .returning(|_, _| Err(StoreError::NotFound));
        let mut files = MockFileStore::new();
        files.expect_delete().never();
        let rename =
            RoomPatch::parse(Some(Some("New")), None, None).unwrap_or_else(|e| panic!("{e}"));
        for patch in [rename, with_avatar(None)] {
            let mut found = MockRoomStore::new();
            found.expect_find_room().returning(|_, _| Ok(room(1)));
            found.expect_update_room().never();
            let result = rooms_with_files(found, MockFileStore::new(), quiet_events())
                .update(
                    &agent(),
                    RoomRef::Id(RoomId(1)),
                    patch.clone(),
                    Detail::Summary,
                )
                .await;
            assert!(
                matches!(result, Err(AppError::Forbidden(Denied::NotAdministrator))),
                "{result:?}"
            );
        }
        let result = rooms_with_files(store, files, quiet_events())
            .update(
                &admin(),
                RoomRef::Id(RoomId(1)),
                with_avatar(None),
                Detail::Summary,
            )
            .await;
        assert!(
            matches!(result, Err(AppError::NotFound(Resource::Room))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn removing_the_avatar_of_a_room_without_one_changes_nothing() {
        let mut store = MockRoomStore::new();
        store.expect_find_room().returning(|_, _| Ok(room(1)));
        store.expect_update_room().never();
        let mut files = MockFileStore::new();
        files.expect_delete().never();
        let view = rooms_with_files(store, files, quiet_events())
            .remove_avatar(&admin(), RoomRef::Id(RoomId(1)), Detail::Summary)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.room.avatar, None);
    }

    #[tokio::test]
    async fn removing_an_avatar_clears_it_and_deletes_its_file() {
        let mut store = MockRoomStore::new();
        store
            .expect_find_room()
            .returning(|_, _| Ok(room_with_avatar(1, Some(avatar_key(1)))));
        store
            .expect_update_room()
            .withf(|_, room, patch| *room == RoomId(1) && *patch == with_avatar(None))
            .times(1)
            .returning(|_, _, _| Ok((room(1), Some(avatar_key(1)))));
        let files = deleting(vec![avatar_key(1)]);
        let view = rooms_with_files(store, files, any_events())
            .remove_avatar(&admin(), RoomRef::Uuid(Uuid::from_u128(1)), Detail::Summary)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.room.avatar, None);
        // Agents may not.
        let mut store = MockRoomStore::new();
        store.expect_find_room().returning(|_, _| Ok(room(1)));
        store.expect_update_room().never();
        let mut files = MockFileStore::new();
        files.expect_delete().never();
        let denied = rooms_with_files(store, files, quiet_events())
            .remove_avatar(&agent(), RoomRef::Id(RoomId(1)), Detail::Summary)
            .await;
        assert!(
            matches!(denied, Err(AppError::Forbidden(Denied::NotAdministrator))),
            "{denied:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_room_creation_deletes_its_avatar_and_a_created_room_keeps_it() {
        let with_avatar = || NewRoom {
            avatar: Some(avatar_upload(5)),
            ..new_room()
        };
        let mut store = MockRoomStore::new();
        store.expect_create_room().never();
        let refused = rooms_with_files(store, deleting(vec![avatar_key(5)]), quiet_events())
            .create(&agent(), with_avatar(), Detail::Summary)
            .await;
        assert!(
            matches!(refused, Err(AppError::Forbidden(Denied::NotAdministrator))),
            "{refused:?}"
        );

        let mut store = MockRoomStore::new();
        store
            .expect_create_room()
            .withf(|_, new, _| new.avatar == Some(avatar_upload(5)))
            .times(1)
            .returning(|_, _, _| Ok(room_with_avatar(1, Some(avatar_key(5)))));
        let mut files = MockFileStore::new();
        files.expect_delete().never();
        let created = rooms_with_files(store, files, any_events())
            .create(&api_key(), with_avatar(), Detail::Summary)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(created.room.avatar, Some(avatar_key(5)));
    }
}
