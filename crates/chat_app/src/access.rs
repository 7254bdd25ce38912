//! What several use cases check before they act: whether the caller may see a room,
//! and how a store's failure reads for the resource asked about.

use std::collections::HashMap;

use chat_domain::{AccountId, Room, RoomId, RoomRef};

use crate::actor::Actor;
use crate::error::{AppError, Denied, Resource};
use crate::ports::{MessageStore, RoomStore, StoreError};

/// A store failure about a room: `NotFound` is `NotFound(Room)`.
pub(crate) fn room_error(error: StoreError) -> AppError {
    error.into_app(Resource::Room)
}

/// The room, if it exists in the account and the actor may see it: agents only see the
/// rooms they belong to (`Forbidden(NotMember)`).
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
