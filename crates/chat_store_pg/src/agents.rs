//! Managing the users of an account (the account dialect's agents): listing, changing,
//! replacing a user's access token and deleting a user. Called by the [`UserStore`]
//! implementation in `users.rs`; every statement is scoped by `account_id` and skips
//! deleted users.
//!
//! [`UserStore`]: chat_app::UserStore

use chat_app::{StoreError, UserPatch};
use chat_domain::{AccountId, Availability, CredentialKind, Email, TokenHash, UserId};
use diesel::dsl::now;
use diesel::prelude::*;

use crate::credentials::{insert_credential, kind_str};
use crate::schema::{credentials, room_members, rooms, users};
use crate::translate;
use crate::users::UserRow;

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserChanges<'a> {
    name: Option<&'a str>,
    email: Option<&'a str>,
    role: Option<&'a str>,
    availability: Option<&'a str>,
}

/// Every user of the account that is not deleted, oldest first.
pub(crate) fn list(
    conn: &mut PgConnection,
    account: AccountId,
) -> Result<Vec<UserRow>, StoreError> {
    users::table
        .filter(users::account_id.eq(account.0))
        .filter(users::deleted_at.is_null())
        .order_by(users::id)
        .select(UserRow::as_select())
        .load(conn)
        .map_err(translate)
}

/// Applies `patch`; `NotFound` when the account has no such (undeleted) user.
pub(crate) fn update(
    conn: &mut PgConnection,
    account: AccountId,
    id: UserId,
    patch: &UserPatch,
) -> Result<UserRow, StoreError> {
    let changes = UserChanges {
        name: patch.name.as_ref().map(|n| n.as_str()),
        email: patch.email.as_ref().map(Email::as_str),
        role: patch.role.map(|r| r.as_str()),
        availability: patch.availability.map(Availability::as_str),
    };
    diesel::update(
        users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::id.eq(id.0))
            .filter(users::deleted_at.is_null()),
    )
    .set((changes, users::updated_at.eq(now)))
    .returning(UserRow::as_returning())
    .get_result(conn)
    .map_err(translate)
}

/// Locks the account's undeleted user `id` until the transaction ends.
fn lock_user(conn: &mut PgConnection, account: AccountId, id: UserId) -> QueryResult<i64> {
    users::table
        .filter(users::account_id.eq(account.0))
        .filter(users::id.eq(id.0))
        .filter(users::deleted_at.is_null())
        .select(users::id)
        .for_update()
        .first(conn)
}

/// Replaces the user's access tokens with `access_token`, in one transaction; the user.
pub(crate) fn replace_token(
    conn: &mut PgConnection,
    account: AccountId,
    id: UserId,
    access_token: &TokenHash,
) -> Result<UserRow, StoreError> {
    conn.transaction(|conn| {
        lock_user(conn, account, id)?;
        diesel::delete(
            credentials::table
                .filter(credentials::account_id.eq(account.0))
                .filter(credentials::user_id.eq(id.0))
                .filter(credentials::kind.eq(kind_str(CredentialKind::UserToken))),
        )
        .execute(conn)?;
        insert_credential(
            conn,
            access_token,
            CredentialKind::UserToken,
            account.0,
            Some(id.0),
        )?;
        users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::id.eq(id.0))
            .select(UserRow::as_select())
            .first(conn)
    })
    .map_err(translate)
}

/// Deletes the user in one transaction: credentials and memberships go (each room's
/// `member_count` adjusted), the row stays for its messages, marked deleted, without the
/// email and external id that a new user may then take.
///
/// Rooms are locked (in id order) before their memberships are deleted, as membership
/// changes lock them (`members.rs`), so that the two cannot deadlock.
pub(crate) fn delete(
    conn: &mut PgConnection,
    account: AccountId,
    id: UserId,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        lock_user(conn, account, id)?;
        let room_ids: Vec<i64> = room_members::table
            .filter(room_members::account_id.eq(account.0))
            .filter(room_members::user_id.eq(id.0))
            .select(room_members::room_id)
            .load(conn)?;
        let locked: Vec<i64> = rooms::table
            .filter(rooms::account_id.eq(account.0))
            .filter(rooms::id.eq_any(&room_ids))
            .order_by(rooms::id)
            .select(rooms::id)
            .for_no_key_update()
            .load(conn)?;
        let left: Vec<i64> = diesel::delete(
            room_members::table
                .filter(room_members::account_id.eq(account.0))
                .filter(room_members::user_id.eq(id.0))
                .filter(room_members::room_id.eq_any(&locked)),
        )
        .returning(room_members::room_id)
        .get_results(conn)?;
        diesel::update(
            rooms::table
                .filter(rooms::account_id.eq(account.0))
                .filter(rooms::id.eq_any(&left)),
        )
        .set(rooms::member_count.eq(rooms::member_count - 1))
        .execute(conn)?;
        diesel::delete(
            credentials::table
                .filter(credentials::account_id.eq(account.0))
                .filter(credentials::user_id.eq(id.0)),
        )
        .execute(conn)?;
        diesel::update(
            users::table
                .filter(users::account_id.eq(account.0))
                .filter(users::id.eq(id.0)),
        )
        .set((
            users::deleted_at.eq(Some(time::OffsetDateTime::now_utc())),
            users::email.eq(None::<String>),
            users::external_id.eq(None::<String>),
            users::availability.eq(Availability::Offline.as_str()),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(translate)
}
