//! End users' own credentials: scoped keys, revocation of signed tokens, and the seeds
//! of the accounts' JWT signing secrets (CONTRACT §7).

use async_trait::async_trait;
use chat_domain::{AccountId, ExternalId, Permissions, TokenHash, User, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::StoreError;
use crate::actor::AccountAccess;
use crate::model::{EndUserPatch, NewEndUser, UserQuery};

/// A stored signing-secret seed. The secret is `HMAC-SHA256(CHAT_SECRET_KEY, seed)`;
/// the seed alone cannot sign or check a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSeed {
    /// 32 random bytes.
    pub seed: [u8; 32],
    /// When the secret was made.
    pub created_at: OffsetDateTime,
    /// When a newer secret replaced it (`None`: the current one). A replaced secret
    /// works until `retired_at` + 24 hours.
    pub retired_at: Option<OffsetDateTime>,
}

/// What checking a signed token of a client needs, in one look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeys {
    /// The client's account.
    pub account: AccountAccess,
    /// Whether that account is active.
    pub account_active: bool,
    /// Its current secret and those replaced less than 24 hours ago, newest first.
    pub seeds: Vec<SigningSeed>,
}

/// The user a signed token names (`sub`), as checking the token needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    /// The user.
    pub user_id: UserId,
    /// An inactive user's tokens are refused.
    pub is_active: bool,
    /// Tokens issued (`iat`) before this instant are refused (revoke-tokens).
    pub tokens_valid_after: Option<OffsetDateTime>,
}

/// End users and their credentials.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait EndUserStore: Send + Sync {
    /// Stores a new user (role agent) named by its `user_id` (external id), with no
    /// access token of its own. `Duplicate("user_id")` when a user of the account
    /// already has that external id, `Duplicate("email")` for a taken e-mail address.
    async fn create_end_user(
        &self,
        account: AccountId,
        new: NewEndUser,
    ) -> Result<User, StoreError>;

    /// A window of the account's users (deleted ones never), oldest first, and how
    /// many match in all.
    async fn list_end_users(
        &self,
        account: AccountId,
        query: UserQuery,
    ) -> Result<(Vec<User>, i64), StoreError>;

    /// Applies `patch` to the user. `NotFound` when the account has no such user (or
    /// it is deleted); `Duplicate("email")` for a taken e-mail address.
    async fn update_end_user(
        &self,
        account: AccountId,
        user: UserId,
        patch: EndUserPatch,
    ) -> Result<User, StoreError>;

    /// Stores a scoped key of the user. With `revoke_others`, the user's other scoped
    /// keys are deleted in the same transaction. `NotFound` when the user is gone.
    async fn issue_scoped_key(
        &self,
        account: AccountId,
        user: UserId,
        key: TokenHash,
        permissions: Permissions,
        expires_at: OffsetDateTime,
        revoke_others: bool,
    ) -> Result<(), StoreError>;

    /// Deletes every scoped key of the user, answering how many there were.
    async fn revoke_scoped_keys(&self, account: AccountId, user: UserId)
    -> Result<u64, StoreError>;

    /// In one transaction: refuses the user's signed tokens issued before `at`
    /// (`tokens_valid_after`) and deletes its scoped keys. `NotFound` when the user is
    /// gone.
    async fn revoke_tokens(
        &self,
        account: AccountId,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Makes `seed` the account's current signing secret, in one transaction: the
    /// current one is retired now, those retired 24 hours ago or more are deleted.
    /// Answers the new seed's row.
    async fn replace_signing_seed(
        &self,
        account: AccountId,
        seed: [u8; 32],
    ) -> Result<SigningSeed, StoreError>;

    /// The client (account) with this UUID and its usable seeds (current, and retired
    /// less than 24 hours ago); `None` when no account has this UUID. One indexed
    /// look-up.
    async fn find_signing_keys(&self, client: Uuid) -> Result<Option<SigningKeys>, StoreError>;

    /// The user a ChatAPI `user_id` names in the account, as
    /// [`crate::ports::UserDirectory::find_by_chat_id`] finds it: the user with this
    /// external id, else the one whose integer id it is (when that user has no external
    /// id); deleted users never. Indexed look-ups only.
    async fn find_token_subject(
        &self,
        account: AccountId,
        user_id: ExternalId,
    ) -> Result<Option<TokenSubject>, StoreError>;
}
