//! Scoped keys: log in (issue one, rotating the others by default), log out (revoke
//! them all), and revoke a user's signed tokens with its keys.

use chat_domain::{CredentialKind, Permissions, PersonName, SecretToken, User};
use time::OffsetDateTime;

use super::people::{EndUsers, api_key_or_own, user_error};
use crate::actor::Actor;
use crate::error::{AppError, Denied};
use crate::model::Login;

/// A scoped key, the only time it is seen in clear.
#[derive(Debug, Clone)]
pub struct IssuedScopedKey {
    /// Whose key it is.
    pub user: User,
    /// The key (`sk_…`): shown once, stored only as a hash.
    pub key: SecretToken,
    /// What it may do.
    pub permissions: Permissions,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// What a logout did.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedOut {
    /// Whose scoped keys were revoked.
    pub user: User,
    /// How many there were.
    pub revoked: u64,
}

/// What revoking a user's tokens did.
#[derive(Debug, Clone, PartialEq)]
pub struct TokensRevoked {
    /// Whose tokens were revoked.
    pub user: User,
    /// Signed tokens issued (`iat`) before this instant are refused from now on.
    pub tokens_valid_after: OffsetDateTime,
}

impl EndUsers {
    /// `POST /api/v1/users/login` (API key): a scoped key for the user, who is made (an
    /// agent named `user_name`, else its `user_id`) if unknown. An inactive user gets
    /// nothing (`Forbidden(UserInactive)`). Unless `keep_other_sessions`, the user's
    /// earlier scoped keys are revoked in the same transaction.
    pub async fn login(&self, actor: &Actor, login: Login) -> Result<IssuedScopedKey, AppError> {
        let account = actor.require_api_key()?.id;
        let known = self
            .directory
            .find_by_chat_id(account, login.user_id.as_str().to_owned())
            .await
            .map_err(user_error)?;
        let user = match known {
            Some(user) => user,
            None => {
                let name = match login.name {
                    Some(name) => name,
                    None => PersonName::parse(login.user_id.as_str())?,
                };
                self.directory
                    .ensure_external_user(account, login.user_id, name)
                    .await
                    .map_err(user_error)?
            }
        };
        if !user.is_active {
            return Err(AppError::Forbidden(Denied::UserInactive));
        }
        let key = SecretToken::generate(CredentialKind::ScopedKey)?;
        let expires_at = expiry(OffsetDateTime::now_utc(), login.ttl)?;
        let rotate = !login.keep_other_sessions;
        self.store
            .issue_scoped_key(
                account,
                user.id,
                key.hash(),
                login.permissions,
                expires_at,
                rotate,
            )
            .await
            .map_err(user_error)?;
        if rotate {
            self.credentials_changed(account, Some(user.id));
        }
        Ok(IssuedScopedKey {
            user,
            key,
            permissions: login.permissions,
            expires_at,
        })
    }

    /// `POST /api/v1/users/logout` (API key, or the user's own scoped credential):
    /// every scoped key of the user stops working at once. Signed tokens cannot be
    /// taken back this way ([`EndUsers::revoke_tokens`] does).
    pub async fn logout(&self, actor: &Actor, user_id: &str) -> Result<LoggedOut, AppError> {
        let (account, own) = api_key_or_own(actor)?;
        let user = self.find_for(account, own, user_id).await?;
        let revoked = self
            .store
            .revoke_scoped_keys(account, user.id)
            .await
            .map_err(user_error)?;
        if revoked > 0 {
            self.credentials_changed(account, Some(user.id));
        }
        Ok(LoggedOut { user, revoked })
    }

    /// `POST /api/v1/users/{user_id}/revoke-tokens` (API key): signed tokens issued
    /// before now and every scoped key of the user are refused from now on.
    pub async fn revoke_tokens(
        &self,
        actor: &Actor,
        user_id: &str,
    ) -> Result<TokensRevoked, AppError> {
        let account = actor.require_api_key()?.id;
        let user = self.find(account, user_id).await?;
        let now = OffsetDateTime::now_utc();
        // As the database keeps it (microseconds), so the answer shows what is stored.
        let at = now
            .replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
            .unwrap_or(now);
        self.store
            .revoke_tokens(account, user.id, at)
            .await
            .map_err(user_error)?;
        self.credentials_changed(account, Some(user.id));
        Ok(TokensRevoked {
            user,
            tokens_valid_after: at,
        })
    }
}

/// When a key issued at `now` for `ttl` stops working, to the microsecond (as stored).
fn expiry(now: OffsetDateTime, ttl: std::time::Duration) -> Result<OffsetDateTime, AppError> {
    let at = time::Duration::try_from(ttl)
        .ok()
        .and_then(|ttl| now.checked_add(ttl))
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("a key's expiry is out of range")))?;
    Ok(at
        .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at))
}
