//! Accounts (tenants), their API keys, and the look-up of any issued credential.

use async_trait::async_trait;
use chat_domain::{Account, AccountId, CredentialKind, Permissions, Role, TokenHash, UserId};
use time::OffsetDateTime;

use super::error::StoreError;
use crate::actor::AccountAccess;
use crate::model::{AccountPatch, NewAccount};

/// Accounts (tenants) and their API keys.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Stores a new account together with the hash of its API key, in one transaction.
    async fn create_account(
        &self,
        new: NewAccount,
        api_key: TokenHash,
    ) -> Result<Account, StoreError>;

    /// The account with this id. `NotFound` when there is none.
    async fn get_account(&self, id: AccountId) -> Result<Account, StoreError>;

    /// Applies the fields present in `patch` and bumps `updated_at`. `NotFound` when
    /// there is no such account.
    async fn update_account(
        &self,
        id: AccountId,
        patch: AccountPatch,
    ) -> Result<Account, StoreError>;

    /// Replaces the account's API key hash in one transaction; the old key stops
    /// matching when it commits. `NotFound` when there is no such account.
    async fn replace_api_key(
        &self,
        id: AccountId,
        api_key: TokenHash,
    ) -> Result<Account, StoreError>;
}

/// Who owns a stored credential, and the state of their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialOwner {
    /// Which kind of credential it is.
    pub kind: CredentialKind,
    /// The account it belongs to.
    pub account: AccountAccess,
    /// Whether that account is active.
    pub account_active: bool,
    /// The user and role, for a user token or a scoped key.
    pub user: Option<(UserId, Role)>,
    /// Whether that user is active (`true` for an API key).
    pub user_active: bool,
    /// A scoped key's permissions; `None` for every other kind.
    pub scope: Option<Permissions>,
    /// When a scoped key stops working; `None` for every other kind.
    pub expires_at: Option<OffsetDateTime>,
}

/// Look-up of issued credentials by hash.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// The owner of the credential with this hash, or `None` when no credential has it.
    /// Must be one indexed look-up, whatever the number of credentials.
    async fn find_credential(&self, hash: TokenHash)
    -> Result<Option<CredentialOwner>, StoreError>;
}
