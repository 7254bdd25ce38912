//! Users and their access tokens ([`UserStore`]).

use async_trait::async_trait;
use chat_app::{NewUser, StoreError, UserStore};
use chat_domain::{
    AccountId, Availability, CredentialKind, Email, ExternalId, PersonName, Role, TokenHash, User,
    UserId,
};
use diesel::prelude::*;
use time::OffsetDateTime;

use crate::credentials::insert_credential;
use crate::schema::users;
use crate::{PgStore, corrupt, translate};

/// One row of `users`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    id: i64,
    account_id: i64,
    external_id: Option<String>,
    name: String,
    email: Option<String>,
    role: String,
    availability: String,
    confirmed: bool,
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
}
