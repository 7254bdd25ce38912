//! Who may open a live connection, and as whom.
//!
//! | credential | room socket (`/ws/{room}`) | user stream (`/accounts/{id}/ws`) |
//! |---|---|---|
//! | user token | rooms the user may see (agents: their rooms), as the user | the user's rooms |
//! | API key + `user_id` | as that participant, who must be an active member | no (`Forbidden`) |
//! | API key alone | any room of the account, as an observer (no presence) | no |
//! | scoped key or signed token | rooms the user belongs to, as the user; `user_id`, if given, must be the user's own (`Forbidden`); needs `read_messages` | the user's rooms; needs `read_messages` |
//! | platform token | no (`Unauthenticated`) | no |
//!
//! An open socket then follows its credential (`crate::live`): it is closed when the
//! credential stops authenticating as the same actor, or when an API key's participant
//! is deactivated.

use std::fmt;
use std::sync::Arc;

use chat_domain::{AccountId, Permission, Room, RoomId, RoomRef, User, UserId};

use crate::access::{room_error, visible_room};
use crate::actor::Actor;
use crate::error::{AppError, Denied, Resource};
use crate::model::{Along, RoomFilter, RoomSort, Window};
use crate::ports::{RoomStore, UserDirectory};

/// A room socket, allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSocket {
    /// The room.
    pub room: Room,
    /// Who the socket acts as: the user, the participant the API key named (acting
    /// as that user), or the API key itself (an observer).
    pub actor: Actor,
    /// The connected person, when there is one (presence, typing, `read`).
    pub participant: Option<User>,
}

/// A user's stream of all their rooms, allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct UserStream {
    /// The user.
    pub user: User,
    /// The rooms they belong to.
    pub rooms: Vec<RoomId>,
}

/// The live-connection use cases.
#[derive(Clone)]
pub struct Sockets {
    rooms: Arc<dyn RoomStore>,
    users: Arc<dyn UserDirectory>,
}

impl fmt::Debug for Sockets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sockets").finish_non_exhaustive()
    }
}

impl Sockets {
    /// Admission over these ports.
    pub fn new(rooms: Arc<dyn RoomStore>, users: Arc<dyn UserDirectory>) -> Self {
        Self { rooms, users }
    }

    /// May `actor` open a socket to `room`, as the participant `user_id` names (API key
    /// only; ignored for a user token; for a scoped credential, it must name the
    /// credential's own user)? A scoped credential needs `read_messages`, checked once
    /// the room is known to exist (not found before forbidden).
    pub async fn room(
        &self,
        actor: &Actor,
        room: RoomRef,
        user_id: Option<&str>,
    ) -> Result<RoomSocket, AppError> {
        let account = actor.account_id()?;
        let room = visible_room(self.rooms.as_ref(), actor, account, room).await?;
        match actor {
            Actor::Platform => Err(AppError::Unauthenticated),
            Actor::User {
                user_id: id, scope, ..
            } => {
                actor.require(Permission::ReadMessages)?;
                let user = self.user(account, *id).await?;
                let named = user_id.map(str::trim).filter(|named| !named.is_empty());
                if scope.is_some() && named.is_some_and(|named| named != user.chat_user_id()) {
                    // A scoped credential speaks for its own user only.
                    return Err(AppError::Forbidden(Denied::NotMember));
                }
                Ok(RoomSocket {
                    room,
                    actor: *actor,
                    participant: Some(user),
                })
            }
            Actor::ApiKey(access) => {
                let Some(chat_id) = user_id.map(str::trim).filter(|id| !id.is_empty()) else {
                    return Ok(RoomSocket {
                        room,
                        actor: *actor,
                        participant: None,
                    });
                };
                let user = self
                    .users
                    .find_by_chat_id(account, chat_id.to_owned())
                    .await
                    .map_err(|e| e.into_app(Resource::User))?
                    .ok_or(AppError::Forbidden(Denied::NotMember))?;
                if !user.is_active {
                    return Err(AppError::Forbidden(Denied::UserInactive));
                }
                let member = self
                    .rooms
                    .is_member(account, room.id, user.id)
                    .await
                    .map_err(room_error)?;
                if !member {
                    return Err(AppError::Forbidden(Denied::NotMember));
                }
                Ok(RoomSocket {
                    room,
                    actor: Actor::User {
                        account: *access,
                        user_id: user.id,
                        role: user.role,
                        scope: None,
                    },
                    participant: Some(user),
                })
            }
        }
    }

    /// May `actor` open the stream of all their rooms in `account`? A user's credential
    /// only (a scoped one needs `read_messages`).
    pub async fn stream(&self, actor: &Actor, account: AccountId) -> Result<UserStream, AppError> {
        let (access, user_id) = match actor {
            Actor::Platform => return Err(AppError::Unauthenticated),
            Actor::ApiKey(_) => return Err(AppError::Forbidden(Denied::NotMember)),
            Actor::User {
                account, user_id, ..
            } => (account, *user_id),
        };
        if access.id != account {
            return Err(AppError::WrongAccount);
        }
        if !access.features.chat_rooms {
            return Err(AppError::Forbidden(Denied::FeatureDisabled("chat_rooms")));
        }
        actor.require(Permission::ReadMessages)?;
        let user = self.user(account, user_id).await?;
        let mut rooms = Vec::new();
        let mut offset = 0;
        loop {
            let filter = RoomFilter {
                search: None,
                is_active: None,
                member: Some(user_id),
                sort: RoomSort::CreatedAsc,
                window: Window {
                    offset,
                    limit: Window::MAX_LIMIT,
                },
            };
            let (page, _) = self
                .rooms
                .list_rooms(account, filter, Along::default())
                .await
                .map_err(room_error)?;
            let full = page.len() as i64 == Window::MAX_LIMIT;
            rooms.extend(page.into_iter().map(|listed| listed.room.id));
            if !full {
                break;
            }
            offset += Window::MAX_LIMIT;
        }
        Ok(UserStream { user, rooms })
    }

    /// Whether `user` of `account` still exists and is active (an open socket that
    /// speaks for them ends when not).
    pub(crate) async fn is_active(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<bool, AppError> {
        let found = self
            .users
            .find_users(account, vec![user])
            .await
            .map_err(|e| e.into_app(Resource::User))?;
        Ok(found.first().is_some_and(|user| user.is_active))
    }

    async fn user(&self, account: AccountId, id: UserId) -> Result<User, AppError> {
        self.users
            .find_users(account, vec![id])
            .await
            .map_err(|e| e.into_app(Resource::User))?
            .into_iter()
            .next()
            .ok_or(AppError::Unauthenticated)
    }
}
