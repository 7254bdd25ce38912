//! Who may call `/api/v1/accounts/{account_id}/…`, checked before anything else.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chat_app::{Actor, AppError, Denied, RoomAction};
use chat_domain::RoomRef;
use futures_util::future::LocalBoxFuture;

use super::path::{account_id, room_ref};
use super::{Authenticated, Error};
use crate::extract::caller::state_of;
use crate::extract::{Admitted, Caller, Rule};

/// A caller of `/api/v1/accounts/{account_id}/…`: authenticated (401), working in its
/// own account (401 for another account's id, 404 for an id that names none), with the
/// `chat_rooms` feature on (403) — checked in that order, before anything else.
#[derive(Debug)]
pub struct ChatRoomsCaller {
    pub actor: Actor,
}

impl FromRequest for ChatRoomsCaller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::from_request(req, payload);
        let account = req.match_info().get("account_id").map(str::to_owned);
        let state = state_of(req);
        Box::pin(async move {
            let actor = authenticated.await?.actor;
            let state = state?;
            let account = account_id(account.as_deref().unwrap_or_default())?;
            state.app.accounts.enter_chat_rooms(&actor, account).await?;
            Ok(Self { actor })
        })
    }
}

impl Caller for ChatRoomsCaller {
    fn into_actor(self) -> Actor {
        self.actor
    }

    /// The room of `/api/v1/accounts/{account_id}/chat_rooms/{id}/…` (named
    /// `{chat_room_id}` on some routes), an integer.
    fn room_in_path(req: &HttpRequest) -> Option<Result<RoomRef, AppError>> {
        let info = req.match_info();
        info.get("chat_room_id")
            .or_else(|| info.get("id"))
            .map(room_ref)
    }
}

/// Admits a user: the account dialect speaks as one, and the API key, which is nobody,
/// is no member (403; 404 for a room that is not in its account).
#[derive(Debug)]
pub struct IsUser;

impl Rule for IsUser {
    fn check(actor: &Actor) -> Result<(), AppError> {
        match actor.user_id() {
            Some(_) => Ok(()),
            None => Err(AppError::Forbidden(Denied::NotMember)),
        }
    }

    const ROOM_ACTION: Option<RoomAction> = Some(RoomAction::SpeakAsMember);
}

/// A [`ChatRoomsCaller`] who is a user, else 403 before the body is read.
pub type ChatUser = Admitted<ChatRoomsCaller, IsUser>;

/// A [`ChatRoomsCaller`] who may create or change rooms (an administrator, the API key,
/// or a scoped credential with `manage_rooms`), else 403, before the body is read.
pub type Manager = crate::extract::RoomManager<ChatRoomsCaller>;

/// A [`ChatRoomsCaller`] who may change rooms' members (an administrator, the API key,
/// or a scoped credential with `invite_users`), else 403, before the body is read.
pub type MemberManager = crate::extract::MemberManager<ChatRoomsCaller>;
