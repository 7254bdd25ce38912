//! End users and their own credentials (CONTRACT §7, ChatAPI `/api/v1/users/*`):
//! the integration (its API key) makes and changes users, logs them in with scoped
//! keys, revokes their credentials, and replaces the account's JWT signing secret.

use std::fmt;
use std::sync::Arc;

use chat_domain::{Permissions, SecretToken, User};
use time::OffsetDateTime;

use crate::actor::Actor;
use crate::auth::{CredentialCache, SigningMaster, SigningSecret};
use crate::error::AppError;
use crate::events::EventPublisher;
use crate::model::{EndUserPatch, Login, NewEndUser, Page, UserQuery};
use crate::ports::{EndUserStore, UserDirectory};

/// A scoped key, the only time it is seen in clear.
#[derive(Debug, Clone)]
pub struct IssuedScopedKey {
    /// Whose key it is.
    pub user: User,
    /// The key (`sk_…`): shown once, stored only as a hash.
    pub key: SecretToken,
    /// What it may do.
    pub permissions: Permissions,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A new signing secret, the only time it is seen in clear.
#[derive(Debug, Clone)]
pub struct IssuedSigningSecret {
    /// The secret (HMAC key of HS256 tokens).
    pub secret: SigningSecret,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// The end-user use cases.
#[derive(Clone)]
pub struct EndUsers {
    store: Arc<dyn EndUserStore>,
    directory: Arc<dyn UserDirectory>,
    cache: Arc<CredentialCache>,
    events: Arc<dyn EventPublisher>,
    master: Option<SigningMaster>,
}

impl fmt::Debug for EndUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndUsers").finish_non_exhaustive()
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

    /// `POST /api/v1/users/` (API key): `Conflict(UserExists)` for a taken `user_id`.
    pub async fn create(&self, actor: &Actor, new: NewEndUser) -> Result<User, AppError> {
        let _ = (
            actor,
            new,
            &self.store,
            &self.directory,
            &self.cache,
            &self.events,
        );
        todo!("issue 14: EndUsers::create")
    }

    /// `GET /api/v1/users/` (API key).
    pub async fn list(&self, actor: &Actor, query: UserQuery) -> Result<Page<User>, AppError> {
        let _ = (actor, query);
        todo!("issue 14: EndUsers::list")
    }

    /// `GET /api/v1/users/{user_id}` (API key, or that user's own credential).
    pub async fn get(&self, actor: &Actor, user_id: &str) -> Result<User, AppError> {
        let _ = (actor, user_id);
        todo!("issue 14: EndUsers::get")
    }

    /// `PUT /api/v1/users/{user_id}` (API key). Deactivating closes the user's sockets.
    pub async fn update(
        &self,
        actor: &Actor,
        user_id: &str,
        patch: EndUserPatch,
    ) -> Result<User, AppError> {
        let _ = (actor, user_id, patch);
        todo!("issue 14: EndUsers::update")
    }

    /// `POST /api/v1/users/login` (API key): a scoped key for the user, made if unknown.
    pub async fn login(&self, actor: &Actor, login: Login) -> Result<IssuedScopedKey, AppError> {
        let _ = (actor, login);
        todo!("issue 14: EndUsers::login")
    }

    /// `POST /api/v1/users/logout` (API key, or the user's own scoped credential):
    /// every scoped key of the user stops working at once.
    pub async fn logout(&self, actor: &Actor, user_id: &str) -> Result<(), AppError> {
        let _ = (actor, user_id);
        todo!("issue 14: EndUsers::logout")
    }

    /// `POST /api/v1/users/{user_id}/revoke-tokens` (API key): signed tokens issued
    /// before now and every scoped key of the user are refused from now on.
    pub async fn revoke_tokens(&self, actor: &Actor, user_id: &str) -> Result<(), AppError> {
        let _ = (actor, user_id);
        todo!("issue 14: EndUsers::revoke_tokens")
    }

    /// `POST /api/v1/clients/signing-secret` (API key): a new signing secret; the
    /// previous one keeps working 24 hours.
    pub async fn replace_signing_secret(
        &self,
        actor: &Actor,
    ) -> Result<IssuedSigningSecret, AppError> {
        let _ = (actor, &self.master);
        todo!("issue 14: EndUsers::replace_signing_secret")
    }
}
