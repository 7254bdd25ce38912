//! Users and their access tokens ([`UserStore`]), and finding users the ways the dialects
//! name them ([`UserDirectory`]). Every query is scoped by `account_id`.
//!
//! A user is read with the availability they are shown with ([`ShownAvailability`]):
//! `online` while they have a live presence session, else the stored one.

use std::collections::HashMap;

use async_trait::async_trait;
use chat_app::{NewUser, StoreError, UserDirectory, UserPatch, UserStore};
use chat_domain::{
    AccountId, Availability, CredentialKind, Email, ExternalId, PersonName, Role, TokenHash, User,
    UserId, UserMeta,
};
use diesel::expression::{AppearsOnTable, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;
use time::OffsetDateTime;

use crate::credentials::insert_credential;
use crate::schema::users;
use crate::{PgStore, corrupt, translate};

/// A user's availability as shown: `online` while they have a live session in
/// `presence_sessions` (a socket to any room, or their stream of all rooms, on any node),
/// else `users.availability`. Read in the same query as the user, through the
/// `(account_id, user_id)` index of presence (one index probe per user read):
///
/// ```sql
/// CASE WHEN EXISTS (SELECT 1 FROM presence_sessions presence
///                    WHERE presence.account_id = users.account_id
///                      AND presence.user_id = users.id AND presence.expires_at > now())
///      THEN 'online' ELSE users.availability END
/// ```
///
/// Diesel cannot write a subquery that refers to the outer query, hence this expression
/// of our own rather than `dsl::sql` (which would also keep the statement out of the
/// prepared-statement cache). It may be selected wherever `users.availability` may.
#[derive(Debug, Clone, Copy, QueryId)]
pub(crate) struct ShownAvailability;

impl Expression for ShownAvailability {
    type SqlType = Text;
}

impl QueryFragment<Pg> for ShownAvailability {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "CASE WHEN EXISTS (SELECT 1 FROM presence_sessions presence \
             WHERE presence.account_id = ",
        );
        users::account_id.walk_ast(out.reborrow())?;
        out.push_sql(" AND presence.user_id = ");
        users::id.walk_ast(out.reborrow())?;
        out.push_sql(" AND presence.expires_at > now()) THEN 'online' ELSE ");
        users::availability.walk_ast(out.reborrow())?;
        out.push_sql(" END");
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for ShownAvailability where users::availability: AppearsOnTable<QS> {}

impl<QS> SelectableExpression<QS> for ShownAvailability where
    users::availability: SelectableExpression<QS>
{
}

impl<GB> ValidGrouping<GB> for ShownAvailability
where
    users::availability: ValidGrouping<GB>,
{
    type IsAggregate = <users::availability as ValidGrouping<GB>>::IsAggregate;
}

/// One row of `users`, with the availability shown ([`ShownAvailability`]) rather than
/// the stored one, wherever it is selected.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    account_id: i64,
    external_id: Option<String>,
    name: String,
    email: Option<String>,
    role: String,
    #[diesel(select_expression = ShownAvailability, select_expression_type = ShownAvailability)]
    availability: String,
    confirmed: bool,
    is_active: bool,
    meta: serde_json::Value,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let invalid = |e| corrupt("user", row.id, e);
        Ok(User {
            id: UserId(row.id),
            account_id: AccountId(row.account_id),
            external_id: row
                .external_id
                .as_deref()
                .map(ExternalId::parse)
                .transpose()
                .map_err(invalid)?,
            name: PersonName::parse(&row.name).map_err(invalid)?,
            email: row
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(invalid)?,
            role: Role::parse(&row.role).map_err(invalid)?,
            availability: Availability::parse(&row.availability).map_err(invalid)?,
            confirmed: row.confirmed,
            is_active: row.is_active,
            meta: match row.meta {
                serde_json::Value::Object(object) => UserMeta::parse(object).map_err(invalid)?,
                _ => return Err(corrupt("user", row.id, "meta is not an object")),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    account_id: i64,
    external_id: Option<&'a str>,
    name: &'a str,
    email: Option<&'a str>,
    role: &'a str,
    /// `None`: the column's default.
    availability: Option<&'a str>,
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(
        &self,
        account: AccountId,
        new: NewUser,
        access_token: TokenHash,
    ) -> Result<User, StoreError> {
        self.with_conn(move |conn| {
            // A ChatAPI user_id names a user without an external id by its integer id: an
            // external id spelling such an id would make two users share one user_id.
            if let Some(id) = new
                .external_id
                .as_ref()
                .and_then(|e| canonical_id(e.as_str()))
            {
                let shadowed = users::table
                    .filter(users::account_id.eq(account.0))
                    .filter(users::id.eq(id))
                    .filter(users::external_id.is_null())
                    // A deleted user answers to nothing, as it frees its external id.
                    .filter(users::deleted_at.is_null())
                    .count()
                    .get_result::<i64>(conn)
                    .map_err(translate)?;
                if shadowed > 0 {
                    return Err(StoreError::Duplicate("external_id"));
                }
            }
            let row = conn
                .transaction(|conn| {
                    // A missing account fails the users_account_id_fkey check: NotFound.
                    let row = diesel::insert_into(users::table)
                        .values(NewUserRow {
                            account_id: account.0,
                            external_id: new.external_id.as_ref().map(ExternalId::as_str),
                            name: new.name.as_str(),
                            email: new.email.as_ref().map(Email::as_str),
                            role: new.role.as_str(),
                            availability: new.availability.map(Availability::as_str),
                        })
                        .returning(UserRow::as_returning())
                        .get_result(conn)?;
                    insert_credential(
                        conn,
                        &access_token,
                        CredentialKind::UserToken,
                        account.0,
                        Some(row.id),
                    )?;
                    Ok::<_, diesel::result::Error>(row)
                })
                .map_err(translate)?;
            User::try_from(row)
        })
        .await
    }

    async fn list_users(&self, account: AccountId) -> Result<Vec<User>, StoreError> {
        self.with_conn(move |conn| {
            crate::agents::list(conn, account)?
                .into_iter()
                .map(User::try_from)
                .collect()
        })
        .await
    }

    async fn update_user(
        &self,
        account: AccountId,
        id: UserId,
        patch: UserPatch,
    ) -> Result<User, StoreError> {
        self.with_conn(move |conn| {
            User::try_from(crate::agents::update(conn, account, id, &patch)?)
        })
        .await
    }

    async fn replace_user_token(
        &self,
        account: AccountId,
        id: UserId,
        access_token: TokenHash,
    ) -> Result<User, StoreError> {
        self.with_conn(move |conn| {
            User::try_from(crate::agents::replace_token(
                conn,
                account,
                id,
                &access_token,
            )?)
        })
        .await
    }

    async fn delete_user(&self, account: AccountId, id: UserId) -> Result<(), StoreError> {
        self.with_conn(move |conn| crate::agents::delete(conn, account, id))
            .await
    }
}

/// The ChatAPI `user_id` of the account's user `user` (`User::chat_user_id`: the external
/// id, or the integer id as a string); `NotFound` when the account has no such user.
pub(crate) fn chat_label(
    conn: &mut PgConnection,
    account: AccountId,
    user: UserId,
) -> QueryResult<String> {
    let external: Option<String> = users::table
        .filter(users::account_id.eq(account.0))
        .filter(users::id.eq(user.0))
        .select(users::external_id)
        .first(conn)?;
    Ok(external.unwrap_or_else(|| user.0.to_string()))
}

/// [`UserDirectory::find_by_chat_id`] on the caller's connection: the user
/// [`named_by_chat_id`] names.
pub(crate) fn user_by_chat_id(
    conn: &mut PgConnection,
    account: AccountId,
    chat_id: &str,
) -> Result<Option<User>, StoreError> {
    let row = named_by_chat_id(account, chat_id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map_err(translate)?;
    row.map(User::try_from).transpose()
}

/// The undeleted user of the account a ChatAPI `user_id` names, as a query to select
/// from (`.select(…).first(conn)`): the user with this external id (the partial unique
/// index on `(account_id, external_id)`), else, when it spells an integer id
/// ([`canonical_id`]), the user of that id who has no external id (the primary key): a
/// user with an external id is only ever named by it. Ordered so that the external id
/// wins when both match.
pub(crate) fn named_by_chat_id(account: AccountId, chat_id: &str) -> users::BoxedQuery<'_, Pg> {
    let live = users::table
        .filter(users::account_id.eq(account.0))
        .filter(users::deleted_at.is_null())
        .into_boxed();
    match canonical_id(chat_id) {
        Some(id) => live
            .filter(
                users::external_id
                    .eq(chat_id)
                    .or(users::id.eq(id).and(users::external_id.is_null())),
            )
            .order(users::external_id.is_null()),
        None => live.filter(users::external_id.eq(chat_id)),
    }
}

/// The integer a ChatAPI `user_id` spells, when it is written the one way `User::chat_user_id`
/// writes an id: decimal digits only, no sign, no leading zero, within `i64`.
pub(crate) fn canonical_id(chat_id: &str) -> Option<i64> {
    let digits_only = !chat_id.is_empty() && chat_id.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (chat_id.len() > 1 && chat_id.starts_with('0')) {
        return None;
    }
    chat_id.parse().ok()
}

#[async_trait]
impl UserDirectory for PgStore {
    async fn find_users(
        &self,
        account: AccountId,
        ids: Vec<UserId>,
    ) -> Result<Vec<User>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.with_conn(move |conn| {
            // One query: `id = ANY($ids)` on the primary key.
            let rows: Vec<UserRow> = users::table
                .filter(users::account_id.eq(account.0))
                .filter(users::id.eq_any(wanted))
                .filter(users::deleted_at.is_null())
                .select(UserRow::as_select())
                .load(conn)
                .map_err(translate)?;
            let mut found = rows
                .into_iter()
                .map(|row| User::try_from(row).map(|user| (user.id, user)))
                .collect::<Result<HashMap<_, _>, _>>()?;
            // In the order of `ids`; an id given twice comes back once, where it came first.
            Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
        })
        .await
    }

    async fn find_by_chat_id(
        &self,
        account: AccountId,
        chat_id: String,
    ) -> Result<Option<User>, StoreError> {
        self.with_conn(move |conn| user_by_chat_id(conn, account, &chat_id))
            .await
    }

    async fn ensure_external_user(
        &self,
        account: AccountId,
        external_id: ExternalId,
        name: PersonName,
    ) -> Result<User, StoreError> {
        self.with_conn(move |conn| {
            let row =
                upsert_external_user(conn, account, &external_id, &name).map_err(translate)?;
            User::try_from(row)
        })
        .await
    }
}

/// The user with this external id, inserted as an agent named `name` when there is none.
/// A concurrent insert of the same id makes this one wait for it to commit, then do
/// nothing; the row it committed is read next. A missing account fails
/// `users_account_id_fkey`: NotFound. Such users have no credential. Usable inside a
/// caller's transaction (the insert then rolls back with it).
pub(crate) fn upsert_external_user(
    conn: &mut PgConnection,
    account: AccountId,
    external_id: &ExternalId,
    name: &PersonName,
) -> QueryResult<UserRow> {
    let inserted = diesel::insert_into(users::table)
        .values(NewUserRow {
            account_id: account.0,
            external_id: Some(external_id.as_str()),
            name: name.as_str(),
            email: None,
            role: Role::Agent.as_str(),
            availability: None,
        })
        .on_conflict((users::account_id, users::external_id))
        .filter_target(users::external_id.is_not_null())
        .do_nothing()
        .returning(UserRow::as_returning())
        .get_result(conn)
        .optional()?;
    match inserted {
        Some(row) => Ok(row),
        // (Deleted users have no external id; the filter says so once more.)
        None => users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::external_id.eq(external_id.as_str()))
            .filter(users::deleted_at.is_null())
            .select(UserRow::as_select())
            .first(conn),
    }
}

#[cfg(test)]
impl UserRow {
    /// A valid row with this id, for the tests of other modules.
    pub(crate) fn for_tests(id: i64) -> Self {
        let at = OffsetDateTime::UNIX_EPOCH;
        Self {
            id,
            account_id: 1,
            external_id: None,
            name: "Ada".to_owned(),
            email: None,
            role: "agent".to_owned(),
            availability: "offline".to_owned(),
            confirmed: true,
            is_active: true,
            meta: serde_json::Value::Object(serde_json::Map::new()),
            created_at: at,
            updated_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_decimal_integers_name_a_user_id() {
        assert_eq!(canonical_id("42"), Some(42));
        assert_eq!(canonical_id("0"), Some(0));
        assert_eq!(canonical_id("9223372036854775807"), Some(i64::MAX));
        for other in [
            "",
            "007",
            "00",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.0",
            "1e3",
            "abc",
            "\u{661}",
            "9223372036854775808",
        ] {
            assert_eq!(canonical_id(other), None, "{other:?}");
        }
    }
}
