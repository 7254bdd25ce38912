//! The end-user use cases, and the people they are about: creating, listing, reading
//! and changing users (API key; a user's own scoped credential reads itself).

use std::fmt;
use std::sync::Arc;

use chat_domain::{AccountId, Permissions, Role, User, UserId};

use crate::actor::{AccountAccess, Actor};
use crate::auth::{CredentialCache, SigningMaster};
use crate::error::{AppError, Conflict, Denied, Resource};
use crate::events::{CredentialEvent, DomainEvent, EventPublisher};
use crate::model::{EndUserPatch, NewEndUser, Page, UserQuery};
use crate::ports::{EndUserStore, StoreError, UserDirectory};

/// Who a user's credential is ([`EndUsers::me`]).
#[derive(Debug, Clone)]
pub struct Me {
    /// The user.
    pub user: User,
    /// Its account.
    pub account: AccountAccess,
    /// Its role in the account (end users are agents).
    pub role: Role,
    /// A scoped key's or signed token's permissions; `None` for a user access token.
    pub scope: Option<Permissions>,
}

/// The end-user use cases.
#[derive(Clone)]
pub struct EndUsers {
    pub(super) store: Arc<dyn EndUserStore>,
    pub(super) directory: Arc<dyn UserDirectory>,
    cache: Arc<CredentialCache>,
    events: Arc<dyn EventPublisher>,
    pub(super) master: Option<SigningMaster>,
}

impl fmt::Debug for EndUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndUsers").finish_non_exhaustive()
    }
}

/// A store failure about an end user: a taken `user_id` is `Conflict(UserExists)`, a
/// taken e-mail address a validation error on `email`, `NotFound` the user's absence.
pub(super) fn user_error(error: StoreError) -> AppError {
    match error {
        StoreError::Duplicate("user_id" | "external_id") => {
            AppError::Conflict(Conflict::UserExists)
        }
        other => other.into_app(Resource::User),
    }
}

/// Acting on another user with a scoped credential. No permission grants it (only the
/// API key may), so the refusal names none.
fn not_own_user() -> AppError {
    AppError::Forbidden(Denied::OtherUser)
}

/// Who may act on one user: the API key (`None`), or a scoped credential of that user
/// (`Some(its user)`, checked once the user is found). Every other credential is
/// `Unauthenticated`.
pub(super) fn api_key_or_own(actor: &Actor) -> Result<(AccountId, Option<UserId>), AppError> {
    match actor {
        Actor::ApiKey(access) => Ok((access.id, None)),
        Actor::User {
            account,
            user_id,
            scope: Some(_),
            ..
        } => Ok((account.id, Some(*user_id))),
        Actor::Platform | Actor::User { scope: None, .. } => Err(AppError::Unauthenticated),
    }
}

impl EndUsers {
    /// End-user use cases. Changes to credentials empty `cache` and publish a
    /// [`crate::CredentialEvent`] on `events`; without `master` (no `CHAT_SECRET_KEY`)
    /// no signing secret can be made ([`AppError::SigningUnavailable`]).
    pub fn new(
        store: Arc<dyn EndUserStore>,
        directory: Arc<dyn UserDirectory>,
        cache: Arc<CredentialCache>,
        events: Arc<dyn EventPublisher>,
        master: Option<SigningMaster>,
    ) -> Self {
        Self {
            store,
            directory,
            cache,
            events,
            master,
        }
    }

    /// `POST /api/v1/users/` (API key): `Conflict(UserExists)` for a taken `user_id`, a
    /// validation error on `email` for a taken e-mail address.
    pub async fn create(&self, actor: &Actor, new: NewEndUser) -> Result<User, AppError> {
        let account = actor.require_api_key()?.id;
        self.store
            .create_end_user(account, new)
            .await
            .map_err(user_error)
    }

    /// `GET /api/v1/users/` (API key): a window of the account's users, oldest first.
    pub async fn list(&self, actor: &Actor, query: UserQuery) -> Result<Page<User>, AppError> {
        let account = actor.require_api_key()?.id;
        let (items, total) = self
            .store
            .list_end_users(account, query)
            .await
            .map_err(user_error)?;
        Ok(Page { items, total })
    }

    /// `GET /api/v1/users/{user_id}` (API key, or that user's own scoped credential).
    /// `NotFound(User)` for the API key when nobody has this `user_id`; a scoped
    /// credential asking about anyone but its own user is refused alike whether that
    /// user exists or not.
    pub async fn get(&self, actor: &Actor, user_id: &str) -> Result<User, AppError> {
        let (account, own) = api_key_or_own(actor)?;
        self.find_for(account, own, user_id).await
    }

    /// `GET /api/v1/me`: the person a user's credential (a scoped key, a signed token or
    /// a user access token) acts as, with what the credential lets it do, so that a
    /// client handed only the credential learns who it is. The API key is nobody
    /// (`Denied::NotAUser`).
    pub async fn me(&self, actor: &Actor) -> Result<Me, AppError> {
        let (account, user_id, role, scope) = match actor {
            Actor::User {
                account,
                user_id,
                role,
                scope,
            } => (*account, *user_id, *role, *scope),
            Actor::ApiKey(_) => return Err(AppError::Forbidden(Denied::NotAUser)),
            Actor::Platform => return Err(AppError::Unauthenticated),
        };
        // The credential was just found for this user: gone since, it names nobody.
        let user = self
            .directory
            .find_users(account.id, vec![user_id])
            .await
            .map_err(user_error)?
            .into_iter()
            .next()
            .ok_or(AppError::Unauthenticated)?;
        Ok(Me {
            user,
            account,
            role,
            scope,
        })
    }

    /// `PUT /api/v1/users/{user_id}` (API key). Deactivating (or reactivating) forgets
    /// the user's remembered credentials and re-checks its open sockets everywhere.
    pub async fn update(
        &self,
        actor: &Actor,
        user_id: &str,
        patch: EndUserPatch,
    ) -> Result<User, AppError> {
        let account = actor.require_api_key()?.id;
        let user = self.find(account, user_id).await?;
        if patch.is_empty() {
            return Ok(user);
        }
        let activity = patch.is_active.is_some();
        let updated = self
            .store
            .update_end_user(account, user.id, patch)
            .await
            .map_err(user_error)?;
        if activity {
            self.credentials_changed(account, Some(user.id));
        }
        Ok(updated)
    }

    /// The user a ChatAPI `user_id` names in the account: its external id, or its
    /// integer id when it has none. Deleted users are never found (`NotFound(User)`).
    pub(super) async fn find(&self, account: AccountId, user_id: &str) -> Result<User, AppError> {
        self.directory
            .find_by_chat_id(account, user_id.to_owned())
            .await
            .map_err(user_error)?
            .ok_or(AppError::NotFound(Resource::User))
    }

    /// The user `user_id` names, for the API key (`own` is `None`: `NotFound(User)` when
    /// nobody) or for a scoped credential of user `own`, who may only ever name itself
    /// (anyone else, existing or not, is refused alike).
    pub(super) async fn find_for(
        &self,
        account: AccountId,
        own: Option<UserId>,
        user_id: &str,
    ) -> Result<User, AppError> {
        match (own, self.find(account, user_id).await) {
            (None, found) => found,
            (Some(own), Ok(user)) if user.id == own => Ok(user),
            (Some(_), Err(error @ (AppError::Unavailable(_) | AppError::Unexpected(_)))) => {
                Err(error)
            }
            (Some(_), _) => Err(not_own_user()),
        }
    }

    /// After a committed change that may stop credentials of `account` (of `user`
    /// only, when given) from working: forget them here, tell every node.
    pub(super) fn credentials_changed(&self, account: AccountId, user: Option<UserId>) {
        self.cache.clear();
        self.events
            .publish(DomainEvent::Credentials(CredentialEvent { account, user }));
    }
}
