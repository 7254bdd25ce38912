//! End users' scoped keys (`credentials` rows of kind `scoped_key`, found by
//! `credentials_scoped_keys_by_user`), and revoking a user's signed tokens.

use chat_app::StoreError;
use chat_domain::{AccountId, CredentialKind, Permissions, TokenHash, UserId};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz};
use time::OffsetDateTime;

use crate::credentials::{insert_scoped_key, kind_str};
use crate::schema::{credentials, users};
use crate::translate;

diesel::define_sql_function! {
    /// SQL `greatest` of a nullable and a non-null instant (NULL is ignored).
    fn greatest(current: Nullable<Timestamptz>, candidate: Timestamptz) -> Timestamptz;
}

/// A scoped key to store: its hash, what it may do, and when it stops working.
pub(super) struct ScopedKey {
    pub(super) hash: TokenHash,
    pub(super) permissions: Permissions,
    pub(super) expires_at: OffsetDateTime,
}

/// Stores `key` for the user, in one transaction; with `revoke_others`, the user's other
/// scoped keys are deleted first. `NotFound` when the account has no such undeleted user.
///
/// The user row is locked first, so that deleting the user (which locks it for update
/// and deletes its credentials) cannot interleave: a key is never left behind for a
/// deleted user. A rotation locks it `FOR NO KEY UPDATE`, so two concurrent logins of
/// one user take turns and the second deletes the first one's key (rotate means one key
/// left); keeping the others only needs `FOR SHARE`, so such logins do not wait for each
/// other.
pub(super) fn issue(
    conn: &mut PgConnection,
    account: AccountId,
    user: UserId,
    key: &ScopedKey,
    revoke_others: bool,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        let the_user = users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::id.eq(user.0))
            .filter(users::deleted_at.is_null())
            .select(users::id);
        if revoke_others {
            the_user.for_no_key_update().first::<i64>(conn)?;
            delete_scoped_keys(conn, account, user)?;
        } else {
            the_user.for_share().first::<i64>(conn)?;
        }
        insert_scoped_key(
            conn,
            &key.hash,
            account,
            user,
            key.permissions,
            key.expires_at,
        )?;
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(translate)
}

/// Deletes every scoped key of the user, answering how many there were (0 for a user
/// the account does not have).
pub(super) fn revoke_all(
    conn: &mut PgConnection,
    account: AccountId,
    user: UserId,
) -> Result<u64, StoreError> {
    let deleted = delete_scoped_keys(conn, account, user).map_err(translate)?;
    // usize → u64 is lossless on every target Rust supports.
    Ok(deleted as u64)
}

/// In one transaction: sets the user's `tokens_valid_after` to `at` (never moving it
/// back: a revocation is not undone by a later call that read an earlier clock) and
/// deletes its scoped keys. `NotFound` when the account has no such undeleted user.
pub(super) fn revoke_tokens(
    conn: &mut PgConnection,
    account: AccountId,
    user: UserId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        // First, as it also locks the user row (see `issue`). No row: NotFound.
        diesel::update(
            users::table
                .filter(users::account_id.eq(account.0))
                .filter(users::id.eq(user.0))
                .filter(users::deleted_at.is_null()),
        )
        .set(users::tokens_valid_after.eq(greatest(users::tokens_valid_after, at).nullable()))
        .returning(users::id)
        .get_result::<i64>(conn)?;
        delete_scoped_keys(conn, account, user)?;
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(translate)
}

/// Deletes the user's scoped keys (its access token, if any, stays); how many.
fn delete_scoped_keys(
    conn: &mut PgConnection,
    account: AccountId,
    user: UserId,
) -> QueryResult<usize> {
    diesel::delete(
        credentials::table
            .filter(credentials::account_id.eq(account.0))
            .filter(credentials::user_id.eq(user.0))
            .filter(credentials::kind.eq(kind_str(CredentialKind::ScopedKey))),
    )
    .execute(conn)
}
