//! What several use cases check before they act: whether the caller may see, manage or
//! speak in a room, and how a store's failure reads for the resource asked about.
//!
//! One order holds everywhere: **the room first, then the caller's rights**. An id that
//! names no room of the caller's account (another account's room included) is
//! `NotFound(Room)` for every caller, whatever they may or may not do in their own
//! account; only a room of their own account can be `Forbidden`. So nobody learns from a
//! 403 that an id exists elsewhere, and an unknown id reads the same for everyone.
//!
//! A scoped credential (an end user's scoped key or signed token) acts as its user, an
//! agent, narrowed to its permissions: a missing permission is
//! `Forbidden(PermissionDenied)`, checked with the role and membership (after the room
//! is found). `manage_rooms` and `invite_users` extend it to changing the rooms it
//! belongs to, and their members.

use std::collections::HashMap;

use chat_domain::{
    AccountId, Message, MessageRef, Permission, Role, Room, RoomId, RoomRef, UserId,
};

use crate::actor::Actor;
use crate::error::{AppError, Denied, Resource};
use crate::model::Unread;
use crate::ports::{MessageStore, RoomStore, StoreError};

/// A store failure about a room: `NotFound` is `NotFound(Room)`.
pub(crate) fn room_error(error: StoreError) -> AppError {
    error.into_app(Resource::Room)
}

/// What a caller asks to do with a room, for [`crate::Rooms::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomAction {
    /// Read the room, its members or its messages: agents only the rooms they belong to
    /// (else `Forbidden(NotMember)`); a scoped credential needs `read_messages`.
    See,
    /// Change the room: administrators and the API key (else
    /// `Forbidden(NotAdministrator)`), and a scoped credential holding `manage_rooms`
    /// in the rooms it belongs to.
    Manage,
    /// Change the room's members: administrators and the API key (else
    /// `Forbidden(NotAdministrator)`), and a scoped credential holding `invite_users`
    /// in the rooms it belongs to.
    ManageMembers,
    /// Speak in it as oneself, as the account dialect sends: a user who is a member (else
    /// `Forbidden(NotMember)`); the API key is nobody, so never a member. A scoped
    /// credential needs `send_messages`.
    SpeakAsMember,
}

/// The room, if it exists in the actor's account (else `NotFound(Room)`, whoever asks)
/// and the actor may do `action` with it (else `Forbidden`).
pub(crate) async fn admit(
    store: &dyn RoomStore,
    actor: &Actor,
    room: RoomRef,
    action: RoomAction,
) -> Result<Room, AppError> {
    let account = actor.account_id()?;
    let permission = match action {
        RoomAction::See => return visible_room(store, actor, account, room).await,
        RoomAction::Manage => Permission::ManageRooms,
        RoomAction::ManageMembers => Permission::InviteUsers,
        RoomAction::SpeakAsMember => {
            let room = store.find_room(account, room).await.map_err(room_error)?;
            actor.require(Permission::SendMessages)?;
            let user = actor
                .user_id()
                .ok_or(AppError::Forbidden(Denied::NotMember))?;
            require_member(store, account, &room, user, Denied::NotMember).await?;
            return Ok(room);
        }
    };
    managed_room(store, actor, room, permission)
        .await
        .map(|(_, room)| room)
}

/// The room and its account, if it exists in the actor's account (else `NotFound(Room)`,
/// whoever asks) and the actor may change it: administrators and the API key (else
/// `Forbidden(NotAdministrator)`), or a scoped credential holding `permission`
/// (`manage_rooms` for the room itself, `invite_users` for its members; else
/// `Forbidden(PermissionDenied)`) in a room it belongs to (else
/// `Forbidden(NotAdministrator)`, as for any agent).
pub(crate) async fn managed_room(
    store: &dyn RoomStore,
    actor: &Actor,
    room: RoomRef,
    permission: Permission,
) -> Result<(AccountId, Room), AppError> {
    let account = actor.account_id()?;
    let room = store.find_room(account, room).await.map_err(room_error)?;
    match (actor.scope(), actor.user_id()) {
        (Some(_), Some(user)) => {
            actor.require(permission)?;
            require_member(store, account, &room, user, Denied::NotAdministrator).await?;
        }
        _ => {
            actor.require_manager()?;
        }
    }
    Ok((account, room))
}

/// `Ok` when `user` belongs to `room`, else `Forbidden(refusal)`.
pub(crate) async fn require_member(
    store: &dyn RoomStore,
    account: AccountId,
    room: &Room,
    user: UserId,
    refusal: Denied,
) -> Result<(), AppError> {
    let member = store
        .is_member(account, room.id, user)
        .await
        .map_err(room_error)?;
    if member {
        Ok(())
    } else {
        Err(AppError::Forbidden(refusal))
    }
}

/// The room, if it exists in the account (else `NotFound(Room)`, whoever asks) and the
/// actor may read it: agents only see the rooms they belong to (`Forbidden(NotMember)`);
/// a scoped credential needs `read_messages` (`Forbidden(PermissionDenied)`).
pub(crate) async fn visible_room(
    store: &dyn RoomStore,
    actor: &Actor,
    account: AccountId,
    room: RoomRef,
) -> Result<Room, AppError> {
    room_for(store, actor, account, room, Permission::ReadMessages).await
}

/// As [`visible_room`], for an action that needs `permission` of a scoped credential
/// rather than `read_messages` (editing one's own message needs `send_messages`).
pub(crate) async fn room_for(
    store: &dyn RoomStore,
    actor: &Actor,
    account: AccountId,
    room: RoomRef,
    permission: Permission,
) -> Result<Room, AppError> {
    let room = store.find_room(account, room).await.map_err(room_error)?;
    actor.require(permission)?;
    if let Some(agent) = actor.limited_to() {
        require_member(store, account, &room, agent, Denied::NotMember).await?;
    }
    Ok(room)
}

/// The message and its room, if the actor may see the room (a scoped credential also
/// needs `permission`: `read_messages` to read, `send_messages` to change or react).
///
/// Without `room` (the ChatAPI dialect: `/messages/{id}`) the message is looked up first
/// (`NotFound(Message)`), then its room is checked. With `room` (the account dialect's
/// `/chat_rooms/{room}/messages/{id}`) the room comes first, as every path naming a room
/// does (`NotFound(Room)`, then `Forbidden`), and a message of another room is
/// `NotFound(Message)`.
pub(crate) async fn message_for(
    rooms: &dyn RoomStore,
    messages: &dyn MessageStore,
    actor: &Actor,
    room: Option<RoomRef>,
    message: MessageRef,
    permission: Permission,
) -> Result<(Room, Message), AppError> {
    let account = actor.account_id()?;
    match room {
        Some(room) => {
            let room = room_for(rooms, actor, account, room, permission).await?;
            let message = messages
                .find_message(account, message)
                .await
                .map_err(message_error)?;
            if message.room_id != room.id {
                return Err(AppError::NotFound(Resource::Message));
            }
            Ok((room, message))
        }
        None => {
            let message = messages
                .find_message(account, message)
                .await
                .map_err(message_error)?;
            let room = room_for(
                rooms,
                actor,
                account,
                RoomRef::Id(message.room_id),
                permission,
            )
            .await?;
            Ok((room, message))
        }
    }
}

/// Editing, deleting, restoring and pinning a message: its sender, an administrator or
/// the API key (else `Forbidden(NotAuthor)`).
pub(crate) fn require_author(actor: &Actor, message: &Message) -> Result<(), AppError> {
    match actor {
        Actor::Platform => Err(AppError::Unauthenticated),
        Actor::ApiKey(_)
        | Actor::User {
            role: Role::Administrator,
            ..
        } => Ok(()),
        Actor::User { user_id, .. } if message.sender.user_id() == Some(*user_id) => Ok(()),
        Actor::User { .. } => Err(AppError::Forbidden(Denied::NotAuthor)),
    }
}

/// What a viewer has not read in each room: other people's messages after their read
/// position, and the mentions of them among those. Nobody (`None`: the API key) has
/// nothing unread.
pub(crate) async fn unread_counts(
    messages: &dyn MessageStore,
    viewer: Option<UserId>,
    account: AccountId,
    rooms: Vec<RoomId>,
) -> Result<HashMap<RoomId, Unread>, AppError> {
    let Some(user) = viewer else {
        return Ok(HashMap::new());
    };
    if rooms.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(messages
        .unread_counts(account, user, rooms)
        .await
        .map_err(room_error)?
        .into_iter()
        .collect())
}

/// A store failure about a message: `NotFound` is `NotFound(Message)`.
pub(crate) fn message_error(error: StoreError) -> AppError {
    error.into_app(Resource::Message)
}

/// A store failure about a user: `NotFound` is `NotFound(User)`.
pub(crate) fn user_error(error: StoreError) -> AppError {
    error.into_app(Resource::User)
}
