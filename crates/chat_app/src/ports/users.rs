//! Users of an account: creating them, and finding them the ways the dialects name them.

use async_trait::async_trait;
use chat_domain::{AccountId, ExternalId, PersonName, TokenHash, User, UserId};

use super::error::StoreError;
use crate::model::{NewUser, UserPatch};

/// Users of an account and their access tokens.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user of `account` with the hash of its access token, in one
    /// transaction. `NotFound` when the account does not exist; `Duplicate("email")`
    /// or `Duplicate("external_id")` when another user of the account has it.
    async fn create_user(
        &self,
        account: AccountId,
        new: NewUser,
        access_token: TokenHash,
    ) -> Result<User, StoreError>;

    /// Every user of the account that is not deleted, oldest first.
    async fn list_users(&self, account: AccountId) -> Result<Vec<User>, StoreError>;

    /// Applies `patch` to the account's user `id`. `NotFound` when the account has no
    /// such user (or it is deleted); `Duplicate("email")` when another user has the email.
    async fn update_user(
        &self,
        account: AccountId,
        id: UserId,
        patch: UserPatch,
    ) -> Result<User, StoreError>;

    /// Replaces every access token of the account's user `id` with `access_token`, in
    /// one transaction, and answers the user. `NotFound` when the account has no such
    /// user (or it is deleted).
    async fn replace_user_token(
        &self,
        account: AccountId,
        id: UserId,
        access_token: TokenHash,
    ) -> Result<User, StoreError>;

    /// Deletes the account's user `id` in one transaction: its credentials and its
    /// memberships go (each room's `member_count` adjusted), its messages stay, and the
    /// user is no longer found by any look-up (its sender renders as missing). `NotFound`
    /// when the account has no such user (or it is already deleted).
    async fn delete_user(&self, account: AccountId, id: UserId) -> Result<(), StoreError>;
}

/// Finding users of an account the ways the dialects name them.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The users of the account among `ids`, in the order of `ids`; ids of no user of
    /// the account, and deleted users, are left out.
    async fn find_users(
        &self,
        account: AccountId,
        ids: Vec<UserId>,
    ) -> Result<Vec<User>, StoreError>;

    /// The user a ChatAPI `user_id` names: the one with that external id, else the one
    /// whose integer id it is (when that user has no external id). `None` when nobody.
    async fn find_by_chat_id(
        &self,
        account: AccountId,
        chat_id: String,
    ) -> Result<Option<User>, StoreError>;

    /// The user with this external id, created as an agent named `name` if there is
    /// none. Safe against concurrent calls for the same id (one user results).
    async fn ensure_external_user(
        &self,
        account: AccountId,
        external_id: ExternalId,
        name: PersonName,
    ) -> Result<User, StoreError>;
}
