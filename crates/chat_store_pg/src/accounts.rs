//! Accounts and their API keys ([`AccountStore`]).

use async_trait::async_trait;
use chat_app::{AccountPatch, AccountStore, NewAccount, StoreError};
use chat_domain::{
    Account, AccountId, AccountName, CredentialKind, Description, Features, TokenHash,
};
use diesel::dsl::now;
use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::credentials::{insert_credential, kind_str};
use crate::schema::{accounts, credentials};
use crate::{PgStore, corrupt, translate};

/// One row of `accounts`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AccountRow {
    id: i64,
    uuid: Uuid,
    name: String,
    description: Option<String>,
    is_active: bool,
    chat_rooms_enabled: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        let name = AccountName::parse(&row.name).map_err(|e| corrupt("account", row.id, e))?;
        let description = row
            .description
            .as_deref()
            .map(Description::parse)
            .transpose()
            .map_err(|e| corrupt("account", row.id, e))?;
        Ok(Account {
            id: AccountId(row.id),
            uuid: row.uuid,
            name,
            description,
            is_active: row.is_active,
            features: Features {
                chat_rooms: row.chat_rooms_enabled,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct NewAccountRow<'a> {
    name: &'a str,
    description: Option<&'a str>,
}

/// The columns an [`AccountPatch`] may change; `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = accounts)]
struct AccountChanges {
    name: Option<String>,
    /// `Some(None)` sets NULL.
    description: Option<Option<String>>,
    is_active: Option<bool>,
    chat_rooms_enabled: Option<bool>,
}

impl From<AccountPatch> for AccountChanges {
    fn from(patch: AccountPatch) -> Self {
        Self {
            name: patch.name.map(|name| name.as_str().to_owned()),
            description: patch
                .description
                .map(|description| description.map(|d| d.as_str().to_owned())),
            is_active: patch.is_active,
            chat_rooms_enabled: patch.chat_rooms,
        }
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_account(
        &self,
        new: NewAccount,
        api_key: TokenHash,
    ) -> Result<Account, StoreError> {
        self.with_conn(move |conn| {
            let row = conn
                .transaction(|conn| {
                    let row = diesel::insert_into(accounts::table)
                        .values(NewAccountRow {
                            name: new.name.as_str(),
                            description: new.description.as_ref().map(Description::as_str),
                        })
                        .returning(AccountRow::as_returning())
                        .get_result(conn)?;
                    insert_credential(conn, &api_key, CredentialKind::ApiKey, row.id, None)?;
                    Ok::<_, diesel::result::Error>(row)
                })
                .map_err(translate)?;
            Account::try_from(row)
        })
        .await
    }

    async fn get_account(&self, id: AccountId) -> Result<Account, StoreError> {
        self.with_conn(move |conn| {
            let row = accounts::table
                .find(id.0)
                .select(AccountRow::as_select())
                .first(conn)
                .map_err(translate)?;
            Account::try_from(row)
        })
        .await
    }

    async fn update_account(
        &self,
        id: AccountId,
        patch: AccountPatch,
    ) -> Result<Account, StoreError> {
        let changes = AccountChanges::from(patch);
        self.with_conn(move |conn| {
            let row = diesel::update(accounts::table.find(id.0))
                .set((changes, accounts::updated_at.eq(now)))
                .returning(AccountRow::as_returning())
                .get_result(conn)
                .map_err(translate)?;
            Account::try_from(row)
        })
        .await
    }

    async fn replace_api_key(
        &self,
        id: AccountId,
        api_key: TokenHash,
    ) -> Result<Account, StoreError> {
        self.with_conn(move |conn| {
            let row = conn
                .transaction(|conn| {
                    // First, as it also locks the account row: concurrent replacements of
                    // one account's key queue here instead of colliding on the
                    // one-key-per-account index. No row: NotFound, nothing else touched.
                    let row = diesel::update(accounts::table.find(id.0))
                        .set(accounts::updated_at.eq(now))
                        .returning(AccountRow::as_returning())
                        .get_result(conn)?;
                    diesel::delete(
                        credentials::table
                            .filter(credentials::account_id.eq(id.0))
                            .filter(credentials::kind.eq(kind_str(CredentialKind::ApiKey))),
                    )
                    .execute(conn)?;
                    insert_credential(conn, &api_key, CredentialKind::ApiKey, id.0, None)?;
                    Ok::<_, diesel::result::Error>(row)
                })
                .map_err(translate)?;
            Account::try_from(row)
        })
        .await
    }
}
