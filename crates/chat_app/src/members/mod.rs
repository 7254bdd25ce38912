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
use time::OffsetDateTime;

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
        // What the join announces should the membership not be read back.
        let join_meta = join.meta.clone();
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
        announce_joined(
            self.rooms.as_ref(),
            self.events.as_ref(),
            &room,
            std::slice::from_ref(&user),
            &join_meta,
        )
        .await;
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
        announce_joined(
            self.rooms.as_ref(),
            self.events.as_ref(),
            &room,
            &added,
            &MemberMeta::default(),
        )
        .await;
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
        announce_joined(
            self.rooms.as_ref(),
            self.events.as_ref(),
            &room,
            &pick(&users, &change.added),
            &MemberMeta::default(),
        )
        .await;
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

    /// Announces that `users` left `room`, at the time of now (the change committed
    /// just before).
    fn publish_left(&self, room: &Room, users: &[User]) {
        let left_at = OffsetDateTime::now_utc();
        for user in users {
            self.events.publish(DomainEvent::Member(MemberEvent::Left {
                room: room.clone(),
                user: user.clone(),
                left_at,
            }));
        }
    }
}

/// The event of `membership` in `room` beginning.
pub(crate) fn joined(room: &Room, membership: Membership) -> DomainEvent {
    DomainEvent::Member(MemberEvent::Joined {
        room: room.clone(),
        user: membership.user,
        joined_at: membership.joined_at,
        meta: membership.meta,
    })
}

/// Announces that `users` joined `room` (committed just before), each with the
/// `joined_at` and meta their membership keeps, read back from `rooms`. Someone whose
/// membership is gone again meanwhile (they left at once, and that is announced) is not
/// announced; a membership that cannot be read is announced all the same, with the time
/// of now and `meta`, the meta the change gave: the change is committed.
pub(crate) async fn announce_joined(
    rooms: &dyn RoomStore,
    events: &dyn EventPublisher,
    room: &Room,
    users: &[User],
    meta: &MemberMeta,
) {
    for user in users {
        let membership = match rooms
            .find_membership(room.account_id, room.id, user.id)
            .await
        {
            Ok(Some(membership)) => membership,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, "a new membership could not be read back; announced as of now");
                Membership {
                    user: user.clone(),
                    joined_at: OffsetDateTime::now_utc(),
                    meta: meta.clone(),
                }
            }
        };
        events.publish(joined(room, membership));
    }
}

/// The users among `users` whose ids are in `ids`, in the order of `ids`.
fn pick(users: &[User], ids: &[UserId]) -> Vec<User> {
    ids.iter()
        .filter_map(|id| users.iter().find(|user| user.id == *id).cloned())
        .collect()
}

#[cfg(test)]
mod tests;
