//! The authenticator over a mock of the credential store.

use std::sync::Arc;
use std::time::Duration;

use chat_domain::{AccountId, CredentialKind, Features, Role, TokenHash, UserId};
use mockall::predicate::eq;
use uuid::Uuid;

use super::*;
use crate::actor::{AccountAccess, Actor};
use crate::error::AppError;
use crate::ports::{CredentialOwner, MockCredentialStore};

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

fn scoped_key_owner(
    user_active: bool,
    expires_at: time::OffsetDateTime,
    scope: Option<chat_domain::Permissions>,
) -> CredentialOwner {
    CredentialOwner {
        kind: CredentialKind::ScopedKey,
        account: access(),
        account_active: true,
        // A scoped key acts as an agent whatever its user's role.
        user: Some((UserId(3), Role::Administrator)),
        user_active,
        scope,
        expires_at: Some(expires_at),
    }
}

#[tokio::test]
async fn a_scoped_key_acts_as_its_user_an_agent_narrowed_to_its_permissions() {
    let expires_at = time::OffsetDateTime::now_utc() + Duration::from_secs(60);
    let scope = chat_domain::Permissions::NONE.with(chat_domain::Permission::ReadMessages);
    let mut store = MockCredentialStore::new();
    store
        .expect_find_credential()
        .returning(move |_| Ok(Some(scoped_key_owner(true, expires_at, Some(scope)))));
    let found = authenticator(store).credential(Some("sk_key")).await;
    match found {
        Ok(found) => {
            assert_eq!(
                found.actor,
                Actor::User {
                    account: access(),
                    user_id: UserId(3),
                    role: Role::Agent,
                    scope: Some(scope),
                }
            );
            assert_eq!(found.expires_at, Some(expires_at));
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn an_expired_scoped_key_is_token_expired_and_an_inactive_users_unauthenticated() {
    let past = time::OffsetDateTime::now_utc() - Duration::from_secs(1);
    let future = time::OffsetDateTime::now_utc() + Duration::from_secs(60);
    let mut store = MockCredentialStore::new();
    store
        .expect_find_credential()
        .with(eq(TokenHash::of("sk_expired")))
        .returning(move |_| Ok(Some(scoped_key_owner(true, past, None))));
    store
        .expect_find_credential()
        .with(eq(TokenHash::of("sk_inactive")))
        .returning(move |_| Ok(Some(scoped_key_owner(false, future, None))));
    let auth = authenticator(store);
    let expired = auth.credential(Some("sk_expired")).await;
    assert!(
        matches!(expired, Err(AppError::TokenExpired)),
        "{expired:?}"
    );
    let inactive = auth.credential(Some("sk_inactive")).await;
    assert!(
        matches!(inactive, Err(AppError::Unauthenticated)),
        "{inactive:?}"
    );
}

#[tokio::test]
async fn an_oversized_secret_is_refused_unlooked_up() {
    let mut store = MockCredentialStore::new();
    store.expect_find_credential().never();
    let auth = authenticator(store);
    // Only a secret shaped like a signed token may pass 512 bytes.
    let long = format!("sk_{}", "a".repeat(600));
    let result = auth.credential(Some(&long)).await;
    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{result:?}"
    );
}
