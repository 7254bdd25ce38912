//! End users themselves: made by the integration (`POST /api/v1/users/`), listed and
//! searched, changed; and the user a signed token's `sub` names.
//!
//! An end user is a row of `users` like any other (role agent), named in the ChatAPI
//! dialect by its external id, or by its integer id when it has none
//! ([`User::chat_user_id`]).

use chat_app::{EndUserPatch, NewEndUser, StoreError, TokenSubject, UserQuery};
use chat_domain::{AccountId, Email, ExternalId, Role, User, UserId};
use diesel::dsl::now;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use time::OffsetDateTime;

use crate::schema::users;
use crate::session::with_custom_plans;
use crate::users::{UserRow, canonical_id, named_by_chat_id};
use crate::{contains_pattern, translate};

diesel::define_sql_function! {
    /// SQL `coalesce` of a nullable text and a text.
    fn coalesce(value: Nullable<Text>, fallback: Text) -> Text;
}

/// The ChatAPI `user_id` in SQL: `coalesce(external_id, id::text)`, exactly as the
/// trigram index `users_chat_user_id_trgm_idx` spells it, so that it serves the search.
fn chat_user_id() -> coalesce<users::external_id, diesel::dsl::Cast<users::id, Text>> {
    coalesce(users::external_id, users::id.cast::<Text>())
}

/// What the port calls `user_id` is stored as `external_id`, whose index the crate's
/// one translation reports as `Duplicate("external_id")`: the ChatAPI dialect names
/// that field `user_id`.
fn as_user_id_field(error: StoreError) -> StoreError {
    match error {
        StoreError::Duplicate("external_id") => StoreError::Duplicate("user_id"),
        other => other,
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewEndUserRow<'a> {
    account_id: i64,
    external_id: &'a str,
    name: &'a str,
    email: Option<&'a str>,
    role: &'a str,
    meta: serde_json::Value,
}

/// The columns an [`EndUserPatch`] may change; `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct EndUserChanges<'a> {
    name: Option<&'a str>,
    email: Option<&'a str>,
    meta: Option<serde_json::Value>,
    is_active: Option<bool>,
}

/// Stores a new end user (role agent, no credential). `Duplicate("user_id")` when the
/// account has a user of that external id, or a user without one whose integer id the
/// `user_id` spells (both would answer to it); `Duplicate("email")` for a taken address;
/// `NotFound` for a missing account.
pub(super) fn create(
    conn: &mut PgConnection,
    account: AccountId,
    new: &NewEndUser,
) -> Result<User, StoreError> {
    if let Some(id) = canonical_id(new.user_id.as_str()) {
        let shadowed: i64 = users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::id.eq(id))
            .filter(users::external_id.is_null())
            .filter(users::deleted_at.is_null())
            .count()
            .get_result(conn)
            .map_err(translate)?;
        if shadowed > 0 {
            return Err(StoreError::Duplicate("user_id"));
        }
    }
    let row = diesel::insert_into(users::table)
        .values(NewEndUserRow {
            account_id: account.0,
            external_id: new.user_id.as_str(),
            name: new.name.as_str(),
            email: new.email.as_ref().map(Email::as_str),
            role: Role::Agent.as_str(),
            meta: serde_json::Value::Object(new.meta.as_map().clone()),
        })
        .returning(UserRow::as_returning())
        .get_result(conn)
        .map_err(|e| as_user_id_field(translate(e)))?;
    User::try_from(row)
}

/// The account's undeleted users matching `search` (a substring of the ChatAPI user_id,
/// the name or the e-mail address, ignoring case; `%`, `_` and `\` taken literally).
/// Generic over the selection, so the page and the count share one definition.
fn matching<'a, ST: 'a>(
    query: users::BoxedQuery<'a, Pg, ST>,
    account: AccountId,
    search: Option<&str>,
) -> users::BoxedQuery<'a, Pg, ST> {
    let mut query = query
        .filter(users::account_id.eq(account.0))
        .filter(users::deleted_at.is_null());
    if let Some(search) = search {
        let pattern = contains_pattern(search);
        // Served by the trigram GIN indexes of the migration (a bitmap OR of the three).
        query = query.filter(
            chat_user_id()
                .ilike(pattern.clone())
                .or(users::name.ilike(pattern.clone()))
                .or(users::email.ilike(pattern)),
        );
    }
    query
}

/// One window of the matching users, oldest first, and how many match in all.
pub(super) fn list(
    conn: &mut PgConnection,
    account: AccountId,
    query: &UserQuery,
) -> Result<(Vec<User>, i64), StoreError> {
    let search = query.search.as_deref();
    let read = |conn: &mut PgConnection| {
        let rows: Vec<UserRow> = matching(users::table.into_boxed(), account, search)
            .order_by(users::id)
            .offset(query.window.offset)
            .limit(query.window.limit)
            .select(UserRow::as_select())
            .load(conn)?;
        let total: i64 = matching(users::table.into_boxed(), account, search)
            .count()
            .get_result(conn)?;
        Ok::<_, diesel::result::Error>((rows, total))
    };
    let (rows, total) = match search {
        // Whether the trigram indexes help depends on the pattern.
        Some(_) => with_custom_plans(conn, read),
        None => read(conn),
    }
    .map_err(translate)?;
    let users = rows
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    Ok((users, total))
}

/// Applies `patch` (and moves `updated_at`). `NotFound` when the account has no such
/// undeleted user; `Duplicate("email")` for a taken address.
pub(super) fn update(
    conn: &mut PgConnection,
    account: AccountId,
    user: UserId,
    patch: &EndUserPatch,
) -> Result<User, StoreError> {
    let changes = EndUserChanges {
        name: patch.name.as_ref().map(|name| name.as_str()),
        email: patch.email.as_ref().map(Email::as_str),
        meta: patch
            .meta
            .as_ref()
            .map(|meta| serde_json::Value::Object(meta.as_map().clone())),
        is_active: patch.is_active,
    };
    let row = diesel::update(
        users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::id.eq(user.0))
            .filter(users::deleted_at.is_null()),
    )
    .set((changes, users::updated_at.eq(now)))
    .returning(UserRow::as_returning())
    .get_result(conn)
    .map_err(translate)?;
    User::try_from(row)
}

/// The columns of `users` a signed token's check needs.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct SubjectRow {
    id: i64,
    is_active: bool,
    tokens_valid_after: Option<OffsetDateTime>,
}

impl From<SubjectRow> for TokenSubject {
    fn from(row: SubjectRow) -> Self {
        TokenSubject {
            user_id: UserId(row.id),
            is_active: row.is_active,
            tokens_valid_after: row.tokens_valid_after,
        }
    }
}

/// The undeleted user of the account that the ChatAPI `user_id` names, as
/// `UserDirectory::find_by_chat_id` finds it ([`named_by_chat_id`]). So a token's `sub` names the
/// same person every other ChatAPI request does.
pub(super) fn token_subject(
    conn: &mut PgConnection,
    account: AccountId,
    user_id: &ExternalId,
) -> Result<Option<TokenSubject>, StoreError> {
    let row = named_by_chat_id(account, user_id.as_str())
        .select(SubjectRow::as_select())
        .first(conn)
        .optional()
        .map_err(translate)?;
    Ok(row.map(TokenSubject::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_external_id_is_reported_as_the_user_id_field() {
        assert!(matches!(
            as_user_id_field(StoreError::Duplicate("external_id")),
            StoreError::Duplicate("user_id")
        ));
        assert!(matches!(
            as_user_id_field(StoreError::Duplicate("email")),
            StoreError::Duplicate("email")
        ));
        assert!(matches!(
            as_user_id_field(StoreError::NotFound),
            StoreError::NotFound
        ));
    }

    #[test]
    fn the_chat_user_id_expression_matches_the_index() {
        let sql = diesel::debug_query::<Pg, _>(&chat_user_id()).to_string();
        assert_eq!(
            sql,
            "coalesce(\"users\".\"external_id\", CAST(\"users\".\"id\" AS text)) -- binds: []"
        );
    }
}
