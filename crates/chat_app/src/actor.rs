//! Who is calling.

use chat_domain::{AccountId, Features, Permission, Permissions, Role, UserId};

use crate::error::Denied;
use uuid::Uuid;

use crate::error::AppError;

/// The account a credential belongs to, as needed to authorise a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountAccess {
    /// The account's id.
    pub id: AccountId,
    /// The account's UUID.
    pub uuid: Uuid,
    /// The features switched on for the account.
    pub features: Features,
}

/// The authenticated caller of a use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The operator's platform token: manages accounts and users, nothing else.
    Platform,
    /// An account's API key: administrator rights in its account, no user identity.
    ApiKey(AccountAccess),
    /// A user's credential: that user, with that user's role. An end user's scoped
    /// key or signed token is always [`Role::Agent`] and carries its `scope`.
    User {
        /// The user's account.
        account: AccountAccess,
        /// The user.
        user_id: UserId,
        /// The user's role in the account.
        role: Role,
        /// `None` for a user's own access token (its role decides); the permissions of a
        /// scoped key or signed token, which narrow (and, for `manage_rooms` and
        /// `invite_users`, extend to the rooms it belongs to) what an agent may do.
        scope: Option<Permissions>,
    },
}

impl Actor {
    /// The account the actor acts in; `None` for the platform.
    pub fn account(&self) -> Option<&AccountAccess> {
        match self {
            Actor::Platform => None,
            Actor::ApiKey(account) | Actor::User { account, .. } => Some(account),
        }
    }

    /// The account the actor works in; the platform token works in none (`Unauthenticated`).
    pub fn account_id(&self) -> Result<AccountId, AppError> {
        self.account()
            .map(|access| access.id)
            .ok_or(AppError::Unauthenticated)
    }

    /// Managing rooms and their members: the API key and administrators.
    pub fn require_manager(&self) -> Result<AccountId, AppError> {
        match self {
            Actor::Platform => Err(AppError::Unauthenticated),
            Actor::ApiKey(access)
            | Actor::User {
                account: access,
                role: Role::Administrator,
                ..
            } => Ok(access.id),
            Actor::User {
                role: Role::Agent, ..
            } => Err(AppError::Forbidden(Denied::NotAdministrator)),
        }
    }

    /// The agent whose view is limited to its own rooms, if the actor is one.
    pub fn limited_to(&self) -> Option<UserId> {
        match self {
            Actor::User {
                user_id,
                role: Role::Agent,
                ..
            } => Some(*user_id),
            Actor::Platform | Actor::ApiKey(_) | Actor::User { .. } => None,
        }
    }

    /// The user behind the actor; the API key and the platform are nobody.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { user_id, .. } => Some(*user_id),
            Actor::Platform | Actor::ApiKey(_) => None,
        }
    }

    /// The permissions of a scoped credential; `None` for every other credential.
    pub fn scope(&self) -> Option<Permissions> {
        match self {
            Actor::User { scope, .. } => *scope,
            Actor::Platform | Actor::ApiKey(_) => None,
        }
    }

    /// `Ok` unless the actor is a scoped credential without `permission`
    /// (`Forbidden(PermissionDenied)`). Every other credential passes: its role decides.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        match self.scope() {
            Some(scope) if !scope.contains(permission) => {
                Err(AppError::Forbidden(Denied::PermissionDenied(permission)))
            }
            _ => Ok(()),
        }
    }

    /// Platform-only actions refuse every other credential as unauthenticated.
    pub fn require_platform(&self) -> Result<(), AppError> {
        match self {
            Actor::Platform => Ok(()),
            Actor::ApiKey(_) | Actor::User { .. } => Err(AppError::Unauthenticated),
        }
    }

    /// Actions of an account's integration (the ChatAPI client routes) need its API key.
    pub fn require_api_key(&self) -> Result<&AccountAccess, AppError> {
        match self {
            Actor::ApiKey(account) => Ok(account),
            Actor::Platform | Actor::User { .. } => Err(AppError::Unauthenticated),
        }
    }
}
