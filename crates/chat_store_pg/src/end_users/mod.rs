//! End users and their own credentials ([`EndUserStore`], CONTRACT §7). Every statement
//! is scoped by `account_id`, and a deleted user (`deleted_at` set) is never found.
//!
//! - [`people`]: making, listing and changing end users; the user a signed token names.
//! - [`keys`]: scoped keys (issued, rotated, revoked) and revoking signed tokens.
//! - [`seeds`]: the seeds of the accounts' JWT signing secrets.
//!
//! This file only hands each port method to its module, on a pooled connection.

mod keys;
mod people;
mod seeds;

use async_trait::async_trait;
use chat_app::{
    EndUserPatch, EndUserStore, NewEndUser, SigningKeys, SigningSeed, StoreError, TokenSubject,
    UserQuery,
};
use chat_domain::{AccountId, ExternalId, Permissions, TokenHash, User, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgStore;

#[async_trait]
impl EndUserStore for PgStore {
    async fn create_end_user(
        &self,
        account: AccountId,
        new: NewEndUser,
    ) -> Result<User, StoreError> {
        self.with_conn(move |conn| people::create(conn, account, &new))
            .await
    }

    async fn list_end_users(
        &self,
        account: AccountId,
        query: UserQuery,
    ) -> Result<(Vec<User>, i64), StoreError> {
        self.with_conn(move |conn| people::list(conn, account, &query))
            .await
    }

    async fn update_end_user(
        &self,
        account: AccountId,
        user: UserId,
        patch: EndUserPatch,
    ) -> Result<User, StoreError> {
        self.with_conn(move |conn| people::update(conn, account, user, &patch))
            .await
    }

    async fn issue_scoped_key(
        &self,
        account: AccountId,
        user: UserId,
        key: TokenHash,
        permissions: Permissions,
        expires_at: OffsetDateTime,
        revoke_others: bool,
    ) -> Result<(), StoreError> {
        self.with_conn(move |conn| {
            keys::issue(
                conn,
                account,
                user,
                &keys::ScopedKey {
                    hash: key,
                    permissions,
                    expires_at,
                },
                revoke_others,
            )
        })
        .await
    }

    async fn revoke_scoped_keys(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<u64, StoreError> {
        self.with_conn(move |conn| keys::revoke_all(conn, account, user))
            .await
    }

    async fn revoke_tokens(
        &self,
        account: AccountId,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.with_conn(move |conn| keys::revoke_tokens(conn, account, user, at))
            .await
    }

    async fn replace_signing_seed(
        &self,
        account: AccountId,
        seed: [u8; 32],
    ) -> Result<SigningSeed, StoreError> {
        self.with_conn(move |conn| seeds::replace(conn, account, seed))
            .await
    }

    async fn find_signing_keys(&self, client: Uuid) -> Result<Option<SigningKeys>, StoreError> {
        self.with_conn(move |conn| seeds::find(conn, client)).await
    }

    async fn find_token_subject(
        &self,
        account: AccountId,
        user_id: ExternalId,
    ) -> Result<Option<TokenSubject>, StoreError> {
        self.with_conn(move |conn| people::token_subject(conn, account, &user_id))
            .await
    }
}
