//! Turning a presented secret into an [`Actor`]: the platform token, a stored
//! credential (found by its hash, remembered in the [`CredentialCache`]) or a signed
//! token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chat_domain::{CredentialKind, TokenHash};
use time::OffsetDateTime;

use super::cache::CredentialCache;
use super::jwt::{SignedTokens, SigningMaster, looks_like_jwt};
use super::platform::PlatformToken;
use crate::actor::{AccountAccess, Actor};
use crate::error::{AppError, Resource};
use crate::ports::{CredentialOwner, CredentialStore, EndUserStore, UserDirectory};

/// A credential that authenticated: who acts, and until when the credential works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// Who the credential acts as.
    pub actor: Actor,
    /// When it stops working (a scoped key's expiry, a signed token's `exp`); `None`
    /// for credentials that do not expire. An open socket is closed (4001) then.
    pub expires_at: Option<OffsetDateTime>,
}

/// Authenticates presented secrets against the platform token and stored credentials.
#[derive(Clone)]
pub struct Authenticator {
    credentials: Arc<dyn CredentialStore>,
    platform: Option<PlatformToken>,
    cache: Arc<CredentialCache>,
    /// Checking signed tokens (JWT): the server's secret key, the store of the
    /// accounts' signing seeds and the directory that makes a token's new user. `None`:
    /// every JWT is refused.
    signed: Option<SignedTokens>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("platform", &self.platform.is_some())
            .finish_non_exhaustive()
    }
}

/// Secrets longer than this are refused without hashing them.
const MAX_PRESENTED_LEN: usize = 512;
/// Signed tokens carry claims (a name, permissions), so they may be longer, up to this.
const MAX_SIGNED_TOKEN_LEN: usize = 4096;

impl Authenticator {
    /// An authenticator that remembers nothing between requests.
    pub fn new(credentials: Arc<dyn CredentialStore>, platform: Option<PlatformToken>) -> Self {
        Self::with_cache(
            credentials,
            platform,
            Arc::new(CredentialCache::new(Duration::ZERO)),
        )
    }

    /// An authenticator that remembers credentials in `cache`.
    pub fn with_cache(
        credentials: Arc<dyn CredentialStore>,
        platform: Option<PlatformToken>,
        cache: Arc<CredentialCache>,
    ) -> Self {
        Self {
            credentials,
            platform,
            cache,
            signed: None,
        }
    }

    /// The same authenticator, also accepting signed tokens (JWT, HS256) made with the
    /// accounts' signing secrets, which `master` derives from the seeds in `store`. A
    /// token that names an unknown user makes it in `directory` (an agent).
    pub fn with_signed_tokens(
        mut self,
        master: SigningMaster,
        store: Arc<dyn EndUserStore>,
        directory: Arc<dyn UserDirectory>,
    ) -> Self {
        self.signed = Some(SignedTokens::new(master, store, directory));
        self
    }

    /// Like [`Authenticator::credential`], for callers that need only the actor.
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Actor, AppError> {
        self.credential(presented).await.map(|found| found.actor)
    }

    /// The actor behind `presented`, and the credential's expiry. Missing, unknown,
    /// oversized secrets and those of inactive accounts or users are all
    /// [`AppError::Unauthenticated`]; an expired scoped key or signed token is
    /// [`AppError::TokenExpired`] (found without any write).
    ///
    /// A secret with the shape of a JWT is checked as a signed token (never looked up
    /// among stored credentials), and refused when signed tokens are not configured.
    /// Verified tokens are remembered like other credentials, with their `exp`.
    pub async fn credential(&self, presented: Option<&str>) -> Result<Authenticated, AppError> {
        let presented = presented
            .map(str::trim)
            .filter(|s| {
                !s.is_empty()
                    && (s.len() <= MAX_PRESENTED_LEN
                        || (s.len() <= MAX_SIGNED_TOKEN_LEN && looks_like_jwt(s)))
            })
            .ok_or(AppError::Unauthenticated)?;
        let hash = TokenHash::of(presented);
        if let Some(platform) = &self.platform
            && platform.matches(&hash)
        {
            return Ok(Authenticated {
                actor: Actor::Platform,
                expires_at: None,
            });
        }
        if let Some(owner) = self.cache.get(&hash) {
            return actor_of(owner);
        }
        if looks_like_jwt(presented) {
            let signed = self.signed.as_ref().ok_or(AppError::Unauthenticated)?;
            let owner = signed.verify(presented).await?;
            self.cache.put(hash, owner.clone());
            return actor_of(owner);
        }
        let owner = self
            .credentials
            .find_credential(hash)
            .await
            .map_err(|e| e.into_app(Resource::Account))?
            .ok_or(AppError::Unauthenticated)?;
        self.cache.put(hash, owner.clone());
        actor_of(owner)
    }
}

fn actor_of(owner: CredentialOwner) -> Result<Authenticated, AppError> {
    let CredentialOwner {
        kind,
        account,
        account_active,
        user,
        user_active,
        scope,
        expires_at,
    } = owner;
    if !account_active || !user_active {
        return Err(AppError::Unauthenticated);
    }
    if expires_at.is_some_and(|at| at <= OffsetDateTime::now_utc()) {
        return Err(AppError::TokenExpired);
    }
    let actor = match (kind, user) {
        (CredentialKind::ApiKey, _) => Actor::ApiKey(account),
        (CredentialKind::UserToken, Some((user_id, role))) => Actor::User {
            account,
            user_id,
            role,
            scope: None,
        },
        (CredentialKind::ScopedKey, Some((user_id, _))) => Actor::User {
            account,
            user_id,
            role: chat_domain::Role::Agent,
            scope: Some(scope.unwrap_or_default()),
        },
        (CredentialKind::UserToken | CredentialKind::ScopedKey, None) => {
            return Err(AppError::Unexpected(anyhow::anyhow!(
                "user credential of account {} without a user",
                account.id.0
            )));
        }
    };
    Ok(Authenticated { actor, expires_at })
}

/// Convenience for tests and adapters: the access of an account.
pub fn access_of(account: &chat_domain::Account) -> AccountAccess {
    AccountAccess {
        id: account.id,
        uuid: account.uuid,
        features: account.features,
    }
}
