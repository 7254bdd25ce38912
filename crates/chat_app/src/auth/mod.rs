//! Turning a presented secret into an [`Actor`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_domain::{Account, AccountId, CredentialKind, FieldError, Problem, TokenHash};
use time::OffsetDateTime;

use crate::actor::{AccountAccess, Actor};
use crate::error::{AppError, Resource};
use crate::ports::{CredentialOwner, CredentialStore, EndUserStore};

mod jwt;

pub use jwt::{SigningMaster, SigningSecret};

/// A credential that authenticated: who acts, and until when the credential works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// Who the credential acts as.
    pub actor: Actor,
    /// When it stops working (a scoped key's expiry, a signed token's `exp`); `None`
    /// for credentials that do not expire. An open socket is closed (4001) then.
    pub expires_at: Option<OffsetDateTime>,
}

/// The operator's platform token, kept only as its hash.
#[derive(Clone, Copy)]
pub struct PlatformToken(TokenHash);

impl PlatformToken {
    /// At least 32 characters: 128 bits of entropy at 4 bits per hex digit.
    pub const MIN_CHARS: usize = 32;

    /// Checks the configured platform token: at least [`PlatformToken::MIN_CHARS`] characters once trimmed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(FieldError::new(
                "platform_token",
                Problem::Invalid(format!(
                    "must be at least {} characters of random text",
                    Self::MIN_CHARS
                )),
            ));
        }
        Ok(Self(TokenHash::of(raw)))
    }
}

impl fmt::Debug for PlatformToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlatformToken(<redacted>)")
    }
}

/// Authenticates presented secrets against the platform token and stored credentials.
#[derive(Clone)]
pub struct Authenticator {
    credentials: Arc<dyn CredentialStore>,
    platform: Option<PlatformToken>,
    cache: Arc<CredentialCache>,
    /// Checking signed tokens (JWT): the server's secret key and the store of the
    /// accounts' signing seeds. `None`: every JWT is refused.
    signed: Option<(SigningMaster, Arc<dyn EndUserStore>)>,
}

/// Credentials found recently, so that a busy client's requests do not each look
/// theirs up. An entry lives `ttl`; every change to accounts or keys made on this node
/// empties the cache at once ([`CredentialCache::clear`]), so only another node's
/// change can take up to `ttl` to be seen here. Unknown secrets are never cached.
pub struct CredentialCache {
    ttl: Duration,
    entries: Mutex<HashMap<TokenHash, (CredentialOwner, Instant)>>,
    /// Accounts as their API key's holder reads them (`GET /api/v1/clients/me`).
    accounts: Mutex<HashMap<AccountId, (Account, Instant)>>,
}

impl fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Entries beyond this many empty the cache (a crude bound; a cache this full is being
/// walked by many distinct secrets).
const CACHE_CAPACITY: usize = 100_000;

impl CredentialCache {
    /// A cache whose entries live `ttl` (zero: nothing is cached).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn account(&self, id: AccountId) -> Option<Account> {
        let accounts = self.accounts.lock().ok()?;
        let (account, at) = accounts.get(&id)?;
        (at.elapsed() < self.ttl).then(|| account.clone())
    }

    pub(crate) fn put_account(&self, account: Account) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut accounts) = self.accounts.lock() {
            if accounts.len() >= CACHE_CAPACITY {
                accounts.clear();
            }
            accounts.insert(account.id, (account, Instant::now()));
        }
    }

    fn get(&self, hash: &TokenHash) -> Option<CredentialOwner> {
        let entries = self.entries.lock().ok()?;
        let (owner, at) = entries.get(hash)?;
        (at.elapsed() < self.ttl).then(|| owner.clone())
    }

    fn put(&self, hash: TokenHash, owner: CredentialOwner) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(hash, (owner, Instant::now()));
        }
    }

    /// Forgets every credential: call after any change to accounts or their keys.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
        if let Ok(mut accounts) = self.accounts.lock() {
            accounts.clear();
        }
    }
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
    /// accounts' signing secrets, which `master` derives from the seeds in `store`.
    pub fn with_signed_tokens(
        mut self,
        master: SigningMaster,
        store: Arc<dyn EndUserStore>,
    ) -> Self {
        self.signed = Some((master, store));
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
    pub async fn credential(&self, presented: Option<&str>) -> Result<Authenticated, AppError> {
        let presented = presented
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= MAX_PRESENTED_LEN)
            .ok_or(AppError::Unauthenticated)?;
        let hash = TokenHash::of(presented);
        if let Some(platform) = &self.platform
            && platform.0.constant_time_eq(&hash)
        {
            return Ok(Authenticated {
                actor: Actor::Platform,
                expires_at: None,
            });
        }
        if let Some(owner) = self.cache.get(&hash) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockCredentialStore;
    use chat_domain::{AccountId, Features, Role, UserId};
    use mockall::predicate::eq;
    use uuid::Uuid;

    const PLATFORM: &str = "p1a7f0rm-t0ken-with-enough-entropy-0123456789";

    fn access() -> AccountAccess {
        AccountAccess {
            id: AccountId(7),
            uuid: Uuid::nil(),
            features: Features::default(),
        }
    }

    fn authenticator(store: MockCredentialStore) -> Authenticator {
        let platform = PlatformToken::parse(PLATFORM).ok();
        assert!(platform.is_some());
        Authenticator::new(Arc::new(store), platform)
    }

    #[tokio::test]
    async fn the_platform_token_is_recognised_without_a_lookup() {
        let mut store = MockCredentialStore::new();
        store.expect_find_credential().never();
        let actor = authenticator(store).authenticate(Some(PLATFORM)).await;
        assert!(matches!(actor, Ok(Actor::Platform)), "{actor:?}");
    }

    #[tokio::test]
    async fn a_missing_or_blank_secret_is_unauthenticated() {
        for presented in [None, Some(""), Some("   ")] {
            let mut store = MockCredentialStore::new();
            store.expect_find_credential().never();
            let result = authenticator(store).authenticate(presented).await;
            assert!(
                matches!(result, Err(AppError::Unauthenticated)),
                "{presented:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_api_key_is_looked_up_by_its_hash() {
        let mut store = MockCredentialStore::new();
        store
            .expect_find_credential()
            .with(eq(TokenHash::of("ck_key")))
            .times(1)
            .returning(|_| {
                Ok(Some(CredentialOwner {
                    kind: CredentialKind::ApiKey,
                    account: access(),
                    account_active: true,
                    user: None,
                    user_active: true,
                    scope: None,
                    expires_at: None,
                }))
            });
        let actor = authenticator(store).authenticate(Some("ck_key")).await;
        assert!(
            matches!(actor, Ok(Actor::ApiKey(a)) if a.id == AccountId(7)),
            "{actor:?}"
        );
    }

    #[tokio::test]
    async fn a_user_token_acts_as_that_user() {
        let mut store = MockCredentialStore::new();
        store.expect_find_credential().returning(|_| {
            Ok(Some(CredentialOwner {
                kind: CredentialKind::UserToken,
                account: access(),
                account_active: true,
                user: Some((UserId(3), Role::Agent)),
                user_active: true,
                scope: None,
                expires_at: None,
            }))
        });
        let actor = authenticator(store).authenticate(Some("ut_x")).await;
        assert!(
            matches!(
                actor,
                Ok(Actor::User {
                    user_id: UserId(3),
                    role: Role::Agent,
                    ..
                })
            ),
            "{actor:?}"
        );
    }

    #[tokio::test]
    async fn unknown_secrets_and_inactive_accounts_are_unauthenticated() {
        let mut store = MockCredentialStore::new();
        store
            .expect_find_credential()
            .with(eq(TokenHash::of("unknown")))
            .returning(|_| Ok(None));
        store
            .expect_find_credential()
            .with(eq(TokenHash::of("ck_inactive")))
            .returning(|_| {
                Ok(Some(CredentialOwner {
                    kind: CredentialKind::ApiKey,
                    account: access(),
                    account_active: false,
                    user: None,
                    user_active: true,
                    scope: None,
                    expires_at: None,
                }))
            });
        let auth = authenticator(store);
        for presented in ["unknown", "ck_inactive"] {
            let result = auth.authenticate(Some(presented)).await;
            assert!(
                matches!(result, Err(AppError::Unauthenticated)),
                "{presented}"
            );
        }
    }

    #[tokio::test]
    async fn an_unreachable_database_is_unavailable_not_unauthenticated() {
        let mut store = MockCredentialStore::new();
        store
            .expect_find_credential()
            .returning(|_| Err(crate::StoreError::Unavailable(anyhow::anyhow!("down"))));
        let result = authenticator(store).authenticate(Some("ck_key")).await;
        assert!(
            matches!(result, Err(AppError::Unavailable(_))),
            "{result:?}"
        );
    }

    #[test]
    fn a_short_platform_token_is_refused() {
        assert!(PlatformToken::parse("short").is_err());
        assert!(PlatformToken::parse(&"x".repeat(32)).is_ok());
    }

    fn api_key_owner() -> CredentialOwner {
        CredentialOwner {
            kind: CredentialKind::ApiKey,
            account: access(),
            account_active: true,
            user: None,
            user_active: true,
            scope: None,
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn a_cached_credential_is_looked_up_once_until_the_cache_is_cleared() {
        let mut store = MockCredentialStore::new();
        store
            .expect_find_credential()
            .times(2)
            .returning(|_| Ok(Some(api_key_owner())));
        let cache = Arc::new(CredentialCache::new(Duration::from_secs(60)));
        let auth = Authenticator::with_cache(Arc::new(store), None, cache.clone());
        for _ in 0..3 {
            let actor = auth.authenticate(Some("ck_cached")).await;
            assert!(matches!(actor, Ok(Actor::ApiKey(_))), "{actor:?}");
        }
        // A change on this node (a key replaced, an account changed) empties it.
        cache.clear();
        let actor = auth.authenticate(Some("ck_cached")).await;
        assert!(matches!(actor, Ok(Actor::ApiKey(_))), "{actor:?}");
    }

    #[tokio::test]
    async fn unknown_secrets_are_never_cached_and_a_zero_ttl_caches_nothing() {
        let mut store = MockCredentialStore::new();
        store
            .expect_find_credential()
            .with(eq(TokenHash::of("unknown")))
            .times(2)
            .returning(|_| Ok(None));
        let cached = Authenticator::with_cache(
            Arc::new(store),
            None,
            Arc::new(CredentialCache::new(Duration::from_secs(60))),
        );
        for _ in 0..2 {
            let actor = cached.authenticate(Some("unknown")).await;
            assert!(matches!(actor, Err(AppError::Unauthenticated)), "{actor:?}");
        }
        let mut store = MockCredentialStore::new();
        store
            .expect_find_credential()
            .times(2)
            .returning(|_| Ok(Some(api_key_owner())));
        let uncached = Authenticator::new(Arc::new(store), None);
        for _ in 0..2 {
            assert!(uncached.authenticate(Some("ck_known")).await.is_ok());
        }
    }
}
