//! Hashes of issued secrets, and who owns them ([`CredentialStore`]).

use async_trait::async_trait;
use chat_app::{AccountAccess, CredentialOwner, CredentialStore, StoreError};
use chat_domain::{AccountId, CredentialKind, Features, Permissions, Role, TokenHash, UserId};
use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::schema::{accounts, credentials, users};
use crate::{PgStore, corrupt, translate};

/// The `credentials.kind` text of a kind.
pub(crate) fn kind_str(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::ApiKey => "api_key",
        CredentialKind::UserToken => "user_token",
        CredentialKind::ScopedKey => "scoped_key",
    }
}

fn parse_kind(raw: &str) -> Option<CredentialKind> {
    match raw {
        "api_key" => Some(CredentialKind::ApiKey),
        "user_token" => Some(CredentialKind::UserToken),
        "scoped_key" => Some(CredentialKind::ScopedKey),
        _ => None,
    }
}

#[derive(Insertable)]
#[diesel(table_name = credentials)]
struct NewCredentialRow<'a> {
    token_hash: &'a [u8],
    kind: &'a str,
    account_id: i64,
    user_id: Option<i64>,
    /// Only scoped keys have permissions and an expiry (`credentials_scoped_key_check`).
    permissions: Option<i16>,
    expires_at: Option<OffsetDateTime>,
}

/// Stores a credential hash (an API key or a user's access token: no permissions, no
/// expiry); part of the caller's transaction.
pub(crate) fn insert_credential(
    conn: &mut PgConnection,
    hash: &TokenHash,
    kind: CredentialKind,
    account_id: i64,
    user_id: Option<i64>,
) -> QueryResult<usize> {
    diesel::insert_into(credentials::table)
        .values(NewCredentialRow {
            token_hash: hash.as_bytes(),
            kind: kind_str(kind),
            account_id,
            user_id,
            permissions: None,
            expires_at: None,
        })
        .execute(conn)
}

/// Stores the hash of a user's scoped key with what it may do and when it stops
/// working; part of the caller's transaction.
pub(crate) fn insert_scoped_key(
    conn: &mut PgConnection,
    hash: &TokenHash,
    account: AccountId,
    user: UserId,
    permissions: Permissions,
    expires_at: OffsetDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(credentials::table)
        .values(NewCredentialRow {
            token_hash: hash.as_bytes(),
            kind: kind_str(CredentialKind::ScopedKey),
            account_id: account.0,
            user_id: Some(user.0),
            permissions: Some(i16::from(permissions.bits())),
            expires_at: Some(expires_at),
        })
        .execute(conn)
}

/// A credential joined with its account and, for a user token, its user.
#[derive(Debug, Queryable)]
struct OwnerRow {
    kind: String,
    account_id: i64,
    account_uuid: Uuid,
    chat_rooms_enabled: bool,
    account_active: bool,
    user_id: Option<i64>,
    role: Option<String>,
    user_active: Option<bool>,
    permissions: Option<i16>,
    expires_at: Option<OffsetDateTime>,
}

impl TryFrom<OwnerRow> for CredentialOwner {
    type Error = StoreError;

    fn try_from(row: OwnerRow) -> Result<Self, StoreError> {
        let invalid = |problem: &str| corrupt("credential of account", row.account_id, problem);
        let kind = parse_kind(&row.kind).ok_or_else(|| invalid("unknown kind"))?;
        let user = match (kind, row.user_id, row.role.as_deref()) {
            (CredentialKind::ApiKey, None, None) => None,
            (CredentialKind::UserToken | CredentialKind::ScopedKey, Some(id), Some(role)) => {
                Some((
                    UserId(id),
                    Role::parse(role).map_err(|_| invalid("user with an unknown role"))?,
                ))
            }
            _ => return Err(invalid("kind and user do not agree")),
        };
        Ok(CredentialOwner {
            kind,
            account: AccountAccess {
                id: AccountId(row.account_id),
                uuid: row.account_uuid,
                features: Features {
                    chat_rooms: row.chat_rooms_enabled,
                },
            },
            account_active: row.account_active,
            user,
            // An API key has no user; a user row (deleted users have no credentials) tells.
            user_active: row.user_active.unwrap_or(true),
            scope: row
                .permissions
                .map(|bits| Permissions::from_bits(u8::try_from(bits).unwrap_or(0))),
            expires_at: row.expires_at,
        })
    }
}

#[async_trait]
impl CredentialStore for PgStore {
    async fn find_credential(
        &self,
        hash: TokenHash,
    ) -> Result<Option<CredentialOwner>, StoreError> {
        self.with_conn(move |conn| {
            // One query on the primary key (token_hash), the joins on primary keys too.
            let row = credentials::table
                .inner_join(accounts::table)
                .left_join(users::table.on(users::id.nullable().eq(credentials::user_id)))
                .filter(credentials::token_hash.eq(hash.as_bytes().as_slice()))
                .select((
                    credentials::kind,
                    accounts::id,
                    accounts::uuid,
                    accounts::chat_rooms_enabled,
                    accounts::is_active,
                    users::id.nullable(),
                    users::role.nullable(),
                    users::is_active.nullable(),
                    credentials::permissions,
                    credentials::expires_at,
                ))
                .first::<OwnerRow>(conn)
                .optional()
                .map_err(translate)?;
            row.map(CredentialOwner::try_from).transpose()
        })
        .await
    }
}
