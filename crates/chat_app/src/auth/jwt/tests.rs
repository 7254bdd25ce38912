//! Signed tokens: what is accepted, what is refused, and what is looked up for it.

use std::sync::Arc;
use std::time::Duration;

use chat_domain::{
    AccountId, Availability, Features, Permission, Permissions, PersonName, Role, User, UserId,
    UserMeta,
};
use jsonwebtoken::{EncodingKey, Header};
use mockall::predicate::eq;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::actor::{AccountAccess, Actor};
use crate::auth::{Authenticated, Authenticator, CredentialCache};
use crate::ports::{
    MockCredentialStore, MockEndUserStore, MockUserDirectory, SigningKeys, SigningSeed,
    TokenSubject,
};

const SERVER_KEY: &str = "0123456789abcdef0123456789abcdef";
const CLIENT: Uuid = Uuid::from_u128(0x7777);
const CURRENT: [u8; 32] = [1; 32];
const PREVIOUS: [u8; 32] = [2; 32];
const ACCOUNT: AccountId = AccountId(7);

fn master() -> SigningMaster {
    SigningMaster::parse(SERVER_KEY).unwrap_or_else(|e| panic!("{e}"))
}

fn secret(seed: [u8; 32]) -> String {
    master().derive(&seed).expose().to_owned()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims that are valid for an hour.
fn claims() -> Value {
    json!({"sub": "u-1", "iss": CLIENT.to_string(), "exp": now() + 3600, "iat": now()})
}

fn without(mut claims: Value, name: &str) -> Value {
    if let Some(object) = claims.as_object_mut() {
        object.remove(name);
    }
    claims
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    if let Some(object) = claims.as_object_mut() {
        object.insert(name.to_owned(), value);
    }
    claims
}

fn mint(algorithm: Algorithm, claims: &Value, secret: &str) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    jsonwebtoken::encode(&Header::new(algorithm), claims, &key).unwrap_or_else(|e| panic!("{e}"))
}

fn hs256(claims: &Value) -> String {
    mint(Algorithm::HS256, claims, &secret(CURRENT))
}

/// Base64url without padding, to build tokens by hand.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// A valid token whose header is replaced by `header` (the signature kept as is, or
/// dropped with `signature: false`).
fn with_header(header: Value, signature: bool) -> String {
    let token = hs256(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let header = base64url(header.to_string().as_bytes());
    let signature = if signature { parts[2] } else { "" };
    format!("{header}.{}.{signature}", parts[1])
}

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: CLIENT,
        features: Features::default(),
    }
}

fn keys(seeds: &[[u8; 32]]) -> SigningKeys {
    SigningKeys {
        account: access(),
        account_active: true,
        seeds: seeds
            .iter()
            .enumerate()
            .map(|(i, seed)| SigningSeed {
                seed: *seed,
                created_at: datetime!(2026-01-01 0:00 UTC),
                retired_at: (i > 0).then_some(datetime!(2026-01-02 0:00 UTC)),
            })
            .collect(),
    }
}

fn subject(is_active: bool, tokens_valid_after: Option<OffsetDateTime>) -> TokenSubject {
    TokenSubject {
        user_id: UserId(3),
        is_active,
        tokens_valid_after,
    }
}

fn user(id: i64, name: &str, is_active: bool) -> User {
    User {
        id: UserId(id),
        account_id: ACCOUNT,
        external_id: None,
        name: PersonName::parse(name).unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role: Role::Agent,
        availability: Availability::Offline,
        confirmed: true,
        is_active,
        meta: UserMeta::default(),
        created_at: datetime!(2026-01-01 0:00 UTC),
        updated_at: datetime!(2026-01-01 0:00 UTC),
    }
}

/// The store answers the account's seeds (`CURRENT`, then `PREVIOUS` if given) and user
/// `u-1` as `subject`.
fn store(seeds: &[[u8; 32]], found: Option<TokenSubject>) -> MockEndUserStore {
    let keys = keys(seeds);
    let mut store = MockEndUserStore::new();
    store
        .expect_find_signing_keys()
        .with(eq(CLIENT))
        .returning(move |_| Ok(Some(keys.clone())));
    store
        .expect_find_token_subject()
        .withf(|account, sub| *account == ACCOUNT && sub.as_str() == "u-1")
        .returning(move |_, _| Ok(found.clone()));
    store
}

/// No stored credential is ever looked up for a signed token.
fn no_credentials() -> MockCredentialStore {
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_credential().never();
    credentials
}

fn no_new_users() -> MockUserDirectory {
    let mut directory = MockUserDirectory::new();
    directory.expect_ensure_external_user().never();
    directory
}

fn authenticator(store: MockEndUserStore, directory: MockUserDirectory) -> Authenticator {
    Authenticator::new(Arc::new(no_credentials()), None).with_signed_tokens(
        master(),
        Arc::new(store),
        Arc::new(directory),
    )
}

/// An authenticator whose store is never asked anything.
fn untouched() -> Authenticator {
    let mut store = MockEndUserStore::new();
    store.expect_find_signing_keys().never();
    store.expect_find_token_subject().never();
    authenticator(store, no_new_users())
}

fn usual() -> Authenticator {
    authenticator(store(&[CURRENT], Some(subject(true, None))), no_new_users())
}

async fn check(auth: &Authenticator, token: &str) -> Result<Authenticated, AppError> {
    auth.credential(Some(token)).await
}

fn assert_refused(result: Result<Authenticated, AppError>, why: &str) {
    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{why}: {result:?}"
    );
}

#[test]
fn the_server_key_must_be_long_and_derives_a_fixed_secret_per_seed() {
    let short = SigningMaster::parse(&format!("  {}  ", &SERVER_KEY[1..]));
    assert!(
        matches!(&short, Err(e) if e.field == "secret_key"),
        "{short:?}"
    );
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    // HMAC-SHA256(key = SERVER_KEY, message = bytes 0..32), computed independently.
    let expected = "ss_da7164a2bac13505f97e4d5e630fa9e59f47e8ea74fb7b30c59a1ec4cb355363";
    let padded =
        SigningMaster::parse(&format!("\n{SERVER_KEY} ")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(padded.derive(&seed).expose(), expected);
    assert_eq!(master().derive(&seed).expose(), expected);
    assert_ne!(master().derive(&CURRENT), master().derive(&PREVIOUS));
    let printed = format!("{:?} {:?}", master(), master().derive(&seed));
    assert!(
        !printed.contains("da7164") && !printed.contains(SERVER_KEY),
        "{printed}"
    );
}

#[test]
fn only_three_base64url_segments_look_like_a_token() {
    for token in ["a.b.c", "eyJ.eyJ.", "A-_z.0.9"] {
        assert!(looks_like_jwt(token), "{token}");
    }
    for secret in [
        "sk_0123", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.c=", "a.b c.d", "",
    ] {
        assert!(!looks_like_jwt(secret), "{secret}");
    }
}

#[tokio::test]
async fn a_valid_token_acts_as_its_user_narrowed_to_the_default_permissions() {
    let exp = now() + 3600;
    let token = hs256(&with(claims(), "exp", json!(exp)));
    let found = check(&usual(), &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        found.actor,
        Actor::User {
            account: access(),
            user_id: UserId(3),
            role: Role::Agent,
            scope: Some(Permissions::DEFAULT),
        }
    );
    assert_eq!(
        found.expires_at.map(OffsetDateTime::unix_timestamp),
        Some(exp)
    );
}

#[tokio::test]
async fn perms_narrow_or_extend_what_the_token_may_do_and_an_unknown_one_is_refused() {
    let token = hs256(&with(
        claims(),
        "perms",
        json!(["read_messages", "invite_users"]),
    ));
    let found = check(&usual(), &token).await.map(|f| f.actor.scope());
    let expected = Permissions::NONE
        .with(Permission::ReadMessages)
        .with(Permission::InviteUsers);
    assert!(
        matches!(found, Ok(Some(scope)) if scope == expected),
        "{found:?}"
    );
    let token = hs256(&with(claims(), "perms", json!(["read_messages", "admin"])));
    assert_refused(check(&usual(), &token).await, "unknown permission");
    let token = hs256(&with(claims(), "perms", json!("read_messages")));
    assert_refused(check(&usual(), &token).await, "perms not a list");
}

#[tokio::test]
async fn only_hs256_is_accepted() {
    let auth = untouched();
    let none = with_header(json!({"alg": "none", "typ": "JWT"}), false);
    assert_refused(check(&auth, &none).await, "alg none");
    let rs256 = with_header(json!({"alg": "RS256", "typ": "JWT"}), true);
    assert_refused(check(&auth, &rs256).await, "RS256 header");
    // Signed with the right secret, but HS512.
    for algorithm in [Algorithm::HS512, Algorithm::HS384] {
        let token = mint(algorithm, &claims(), &secret(CURRENT));
        assert_refused(check(&auth, &token).await, "HS512/HS384");
    }
    let lowercase = with_header(json!({"alg": "hs256", "typ": "JWT"}), true);
    assert_refused(check(&auth, &lowercase).await, "lowercase hs256");
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let auth = authenticator(store(&[CURRENT], Some(subject(true, None))), no_new_users());
    let token = mint(Algorithm::HS256, &claims(), &secret([9; 32]));
    assert_refused(check(&auth, &token).await, "unknown secret");
    let token = mint(Algorithm::HS256, &claims(), SERVER_KEY);
    assert_refused(check(&auth, &token).await, "the server key itself");
    // A good token with its signature cut short.
    let good = hs256(&claims());
    let cut = &good[..good.len() - 2];
    assert_refused(check(&auth, cut).await, "truncated signature");
}

#[tokio::test]
async fn the_previous_secret_works_while_the_store_still_answers_it() {
    // The store answers a secret retired less than 24 hours ago after the current one.
    let auth = authenticator(
        store(&[CURRENT, PREVIOUS], Some(subject(true, None))),
        no_new_users(),
    );
    for seed in [CURRENT, PREVIOUS] {
        let token = mint(Algorithm::HS256, &claims(), &secret(seed));
        assert!(check(&auth, &token).await.is_ok());
    }
    // Retired 24 hours ago or more: the store no longer answers it.
    let auth = authenticator(store(&[CURRENT], Some(subject(true, None))), no_new_users());
    let token = mint(Algorithm::HS256, &claims(), &secret(PREVIOUS));
    assert_refused(check(&auth, &token).await, "secret retired a day ago");
}

#[tokio::test]
async fn an_expired_token_is_token_expired_without_any_leeway() {
    for exp in [now() - 1, now() - 3600] {
        let token = hs256(&with(claims(), "exp", json!(exp)));
        let result = check(&usual(), &token).await;
        assert!(matches!(result, Err(AppError::TokenExpired)), "{result:?}");
    }
    // An expired token with a bad signature is simply unknown.
    let token = mint(
        Algorithm::HS256,
        &with(claims(), "exp", json!(now() - 10)),
        &secret([9; 32]),
    );
    assert_refused(check(&usual(), &token).await, "expired, wrong secret");
}

#[tokio::test]
async fn exp_sub_and_iss_are_required() {
    for (claim, auth) in [("exp", usual()), ("sub", usual()), ("iss", untouched())] {
        let token = hs256(&without(claims(), claim));
        assert_refused(check(&auth, &token).await, claim);
    }
    for (claim, value) in [
        ("exp", json!("tomorrow")),
        ("exp", json!(-5)),
        ("sub", json!(42)),
        ("sub", json!("")),
        ("sub", json!("system")),
    ] {
        let token = hs256(&with(claims(), claim, value.clone()));
        assert_refused(check(&usual(), &token).await, &format!("{claim} {value}"));
    }
}

#[tokio::test]
async fn an_issuer_that_names_no_active_client_is_refused() {
    let token = hs256(&with(claims(), "iss", json!("not-a-uuid")));
    assert_refused(check(&untouched(), &token).await, "iss not a UUID");

    let mut store = MockEndUserStore::new();
    store.expect_find_signing_keys().returning(|_| Ok(None));
    store.expect_find_token_subject().never();
    let auth = authenticator(store, no_new_users());
    assert_refused(check(&auth, &hs256(&claims())).await, "unknown client");

    let mut store = MockEndUserStore::new();
    store.expect_find_signing_keys().returning(|_| {
        Ok(Some(SigningKeys {
            account_active: false,
            ..keys(&[CURRENT])
        }))
    });
    store.expect_find_token_subject().never();
    let auth = authenticator(store, no_new_users());
    assert_refused(check(&auth, &hs256(&claims())).await, "inactive account");

    let mut store = MockEndUserStore::new();
    store
        .expect_find_signing_keys()
        .returning(|_| Ok(Some(keys(&[]))));
    let auth = authenticator(store, no_new_users());
    assert_refused(check(&auth, &hs256(&claims())).await, "no secret yet");
}

#[tokio::test]
async fn an_unknown_sub_is_made_on_first_use_with_its_name() {
    for (name, expected) in [(Some("Ann Lee"), "Ann Lee"), (None, "u-1")] {
        let mut directory = MockUserDirectory::new();
        directory
            .expect_ensure_external_user()
            .withf(move |account, sub, made| {
                *account == ACCOUNT && sub.as_str() == "u-1" && made.as_str() == expected
            })
            .times(1)
            .returning(|_, _, name| Ok(user(11, name.as_str(), true)));
        let auth = authenticator(store(&[CURRENT], None), directory);
        let token = hs256(&match name {
            Some(name) => with(claims(), "name", json!(name)),
            None => claims(),
        });
        let found = check(&auth, &token).await.map(|f| f.actor.user_id());
        assert!(matches!(found, Ok(Some(UserId(11)))), "{found:?}");
    }
    // A name that cannot be a name refuses the token, and makes nobody.
    let auth = authenticator(store(&[CURRENT], None), no_new_users());
    let token = hs256(&with(claims(), "name", json!("   ")));
    assert_refused(check(&auth, &token).await, "blank name");
}

#[tokio::test]
async fn an_inactive_user_is_refused() {
    let auth = authenticator(
        store(&[CURRENT], Some(subject(false, None))),
        no_new_users(),
    );
    assert_refused(check(&auth, &hs256(&claims())).await, "inactive user");
}

#[tokio::test]
async fn a_token_issued_before_its_users_tokens_were_revoked_is_refused() {
    let revoked = OffsetDateTime::now_utc() - Duration::from_secs(60);
    let at = revoked.unix_timestamp();
    let auth = || {
        authenticator(
            store(&[CURRENT], Some(subject(true, Some(revoked)))),
            no_new_users(),
        )
    };
    let before = hs256(&with(claims(), "iat", json!(at - 1)));
    assert_refused(check(&auth(), &before).await, "iat before");
    // The second of the revocation cannot be proved to come after it.
    let same_second = hs256(&with(claims(), "iat", json!(at)));
    assert_refused(check(&auth(), &same_second).await, "iat in the same second");
    let unknown = hs256(&without(claims(), "iat"));
    assert_refused(check(&auth(), &unknown).await, "no iat");
    let after = hs256(&with(claims(), "iat", json!(at + 1)));
    assert!(check(&auth(), &after).await.is_ok());
    // Without a revocation, iat is not needed.
    assert!(
        check(&usual(), &hs256(&without(claims(), "iat")))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn without_signed_tokens_configured_every_token_is_refused_unlooked_up() {
    let auth = Authenticator::new(Arc::new(no_credentials()), None);
    assert_refused(check(&auth, &hs256(&claims())).await, "not configured");
}

#[tokio::test]
async fn a_long_token_is_accepted_and_a_huge_one_refused() {
    let name = "n".repeat(PersonName::MAX_CHARS);
    let perms: Vec<&str> = Permission::NAMES.to_vec();
    let long = hs256(&with(
        with(claims(), "name", json!(name)),
        "perms",
        json!(perms),
    ));
    assert!(long.len() > 512, "{}", long.len());
    assert!(check(&usual(), &long).await.is_ok());
    let huge = hs256(&with(claims(), "pad", json!("p".repeat(4096))));
    assert_refused(check(&untouched(), &huge).await, "over 4096 bytes");
}

#[tokio::test]
async fn a_verified_token_is_remembered_with_its_expiry() {
    let mut store = MockEndUserStore::new();
    store
        .expect_find_signing_keys()
        .times(1)
        .returning(|_| Ok(Some(keys(&[CURRENT]))));
    store
        .expect_find_token_subject()
        .times(1)
        .returning(|_, _| Ok(Some(subject(true, None))));
    let cache = Arc::new(CredentialCache::new(Duration::from_secs(60)));
    let auth = Authenticator::with_cache(Arc::new(no_credentials()), None, cache.clone())
        .with_signed_tokens(master(), Arc::new(store), Arc::new(no_new_users()));
    let token = hs256(&claims());
    for _ in 0..3 {
        assert!(check(&auth, &token).await.is_ok());
    }
    // A remembered token whose expiry has passed is refused as expired, unlooked up.
    let expired = "eyJ.eyJleHBpcmVkIjoxfQ.sig";
    let owner = CredentialOwner {
        kind: CredentialKind::ScopedKey,
        account: access(),
        account_active: true,
        user: Some((UserId(3), Role::Agent)),
        user_active: true,
        scope: Some(Permissions::DEFAULT),
        expires_at: Some(OffsetDateTime::now_utc() - Duration::from_secs(1)),
    };
    cache.put(chat_domain::TokenHash::of(expired), owner);
    let result = check(&auth, expired).await;
    assert!(matches!(result, Err(AppError::TokenExpired)), "{result:?}");
}

#[tokio::test]
async fn a_database_outage_is_unavailable_not_unauthenticated() {
    let mut store = MockEndUserStore::new();
    store
        .expect_find_signing_keys()
        .returning(|_| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
    let auth = authenticator(store, no_new_users());
    let result = check(&auth, &hs256(&claims())).await;
    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "{result:?}"
    );
}
