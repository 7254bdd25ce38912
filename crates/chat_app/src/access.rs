//! What several use cases check before they act: whether the caller may see, manage or
//! speak in a room, and how a store's failure reads for the resource asked about.
//!
//! One order holds everywhere: **the room first, then the caller's rights**. An id that
//! names no room of the caller's account (another account's room included) is
//! `NotFound(Room)` for every caller, whatever they may or may not do in their own
//! account; only a room of their own account can be `Forbidden`. So nobody learns from a
//! 403 that an id exists elsewhere, and an unknown id reads the same for everyone.

use std::collections::HashMap;

use chat_domain::{AccountId, Room, RoomId, RoomRef};

use crate::actor::Actor;
use crate::error::{AppError, Denied, Resource};
use crate::ports::{MessageStore, RoomStore, StoreError};

/// A store failure about a room: `NotFound` is `NotFound(Room)`.
pub(crate) fn room_error(error: StoreError) -> AppError {
    error.into_app(Resource::Room)
}

/// What a caller asks to do with a room, for [`crate::Rooms::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomAction {
    /// Read the room, its members or its messages: agents only the rooms they belong to
    /// (else `Forbidden(NotMember)`).
    See,
    /// Change the room or its members: administrators and the API key (else
    /// `Forbidden(NotAdministrator)`).
    Manage,
    /// Speak in it as oneself, as the account dialect sends: a user who is a member (else
    /// `Forbidden(NotMember)`); the API key is nobody, so never a member.
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
    match action {
        RoomAction::See => visible_room(store, actor, account, room).await,
        RoomAction::Manage => managed_room(store, actor, room).await.map(|(_, room)| room),
        RoomAction::SpeakAsMember => {
            let room = store.find_room(account, room).await.map_err(room_error)?;
            let user = actor
                .user_id()
                .ok_or(AppError::Forbidden(Denied::NotMember))?;
            let member = store
                .is_member(account, room.id, user)
                .await
                .map_err(room_error)?;
            if !member {
                return Err(AppError::Forbidden(Denied::NotMember));
            }
            Ok(room)
        }
    }
}

/// The room and its account, if it exists in the actor's account (else `NotFound(Room)`,
/// whoever asks) and the actor may manage it: administrators and the API key (else
/// `Forbidden(NotAdministrator)`).
pub(crate) async fn managed_room(
    store: &dyn RoomStore,
    actor: &Actor,
    room: RoomRef,
) -> Result<(AccountId, Room), AppError> {
    let account = actor.account_id()?;
    let room = store.find_room(account, room).await.map_err(room_error)?;
    actor.require_manager()?;
    Ok((account, room))
}

/// The room, if it exists in the account (else `NotFound(Room)`, whoever asks) and the
/// actor may see it: agents only see the rooms they belong to (`Forbidden(NotMember)`).
pub(crate) async fn visible_room(
    store: &dyn RoomStore,
    actor: &Actor,
    account: AccountId,
    room: RoomRef,
) -> Result<Room, AppError> {
    let room = store.find_room(account, room).await.map_err(room_error)?;
    if let Some(agent) = actor.limited_to() {
        let member = store
            .is_member(account, room.id, agent)
            .await
            .map_err(room_error)?;
        if !member {
            return Err(AppError::Forbidden(Denied::NotMember));
        }
    }
    Ok(room)
}

/// The unread count of each room for a viewer: other people's messages after their read
/// position. Nobody (the API key) has nothing unread.
pub(crate) async fn unread_counts(
    messages: &dyn MessageStore,
    actor: &Actor,
    account: AccountId,
    rooms: Vec<RoomId>,
) -> Result<HashMap<RoomId, i64>, AppError> {
    let Some(user) = actor.user_id() else {
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
