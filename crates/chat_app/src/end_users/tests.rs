//! The end-user use cases over mocks of their ports.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_domain::{
    AccountId, Availability, CredentialKind, ExternalId, Features, FieldError, Permission,
    Permissions, PersonName, Problem, Role, TokenHash, User, UserId, UserMeta,
};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::actor::{AccountAccess, Actor};
use crate::auth::{CredentialCache, SigningMaster};
use crate::error::{AppError, Conflict, Denied, Resource};
use crate::events::{CredentialEvent, DomainEvent, MockEventPublisher};
use crate::model::{EndUserPatch, Login, NewEndUser, UserQuery};
use crate::ports::{CredentialOwner, MockEndUserStore, MockUserDirectory, SigningSeed, StoreError};

const ACCOUNT: AccountId = AccountId(4);

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: Uuid::from_u128(4),
        features: Features::default(),
    }
}

fn api_key() -> Actor {
    Actor::ApiKey(access())
}

fn scoped(user: i64, scope: Permissions) -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(user),
        role: Role::Agent,
        scope: Some(scope),
    }
}

fn user_token(role: Role) -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(3),
        role,
        scope: None,
    }
}

/// Every credential but the API key and scoped ones.
fn others() -> [Actor; 3] {
    [
        Actor::Platform,
        user_token(Role::Administrator),
        user_token(Role::Agent),
    ]
}

fn user(id: i64, external: &str, is_active: bool) -> User {
    User {
        id: UserId(id),
        account_id: ACCOUNT,
        external_id: ExternalId::parse(external).ok(),
        name: PersonName::parse(external).unwrap_or_else(|e| panic!("{e}")),
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

/// A directory with `ann` (user 3, active) and `bob` (user 5, inactive).
fn directory() -> MockUserDirectory {
    let mut directory = MockUserDirectory::new();
    directory
        .expect_find_by_chat_id()
        .withf(|account, _| *account == ACCOUNT)
        .returning(|_, chat_id| {
            Ok(match chat_id.as_str() {
                "ann" => Some(user(3, "ann", true)),
                "bob" => Some(user(5, "bob", false)),
                _ => None,
            })
        });
    directory
}

/// Publishes nothing.
fn quiet() -> MockEventPublisher {
    let mut events = MockEventPublisher::new();
    events.expect_publish().never();
    events
}

/// Expects exactly one credential event, for `user` of the account.
fn announcing(user: i64) -> MockEventPublisher {
    let mut events = MockEventPublisher::new();
    events
        .expect_publish()
        .withf(move |event| {
            *event
                == DomainEvent::Credentials(CredentialEvent {
                    account: ACCOUNT,
                    user: Some(UserId(user)),
                })
        })
        .times(1)
        .return_const(());
    events
}

/// A cache holding one remembered credential, to see whether a use case empties it.
fn warm_cache() -> Arc<CredentialCache> {
    let cache = Arc::new(CredentialCache::new(Duration::from_secs(60)));
    cache.put(
        TokenHash::of("sk_cached"),
        CredentialOwner {
            kind: CredentialKind::ScopedKey,
            account: access(),
            account_active: true,
            user: Some((UserId(3), Role::Agent)),
            user_active: true,
            scope: Some(Permissions::DEFAULT),
            expires_at: None,
        },
    );
    cache
}

fn is_warm(cache: &CredentialCache) -> bool {
    cache.get(&TokenHash::of("sk_cached")).is_some()
}

struct Setup {
    store: MockEndUserStore,
    directory: MockUserDirectory,
    events: MockEventPublisher,
    cache: Arc<CredentialCache>,
    master: Option<SigningMaster>,
}

impl Setup {
    fn new(store: MockEndUserStore) -> Self {
        Self {
            store,
            directory: directory(),
            events: quiet(),
            cache: warm_cache(),
            master: None,
        }
    }

    fn events(self, events: MockEventPublisher) -> Self {
        Self { events, ..self }
    }

    fn build(self) -> (EndUsers, Arc<CredentialCache>) {
        let cache = self.cache.clone();
        let end_users = EndUsers::new(
            Arc::new(self.store),
            Arc::new(self.directory),
            self.cache,
            Arc::new(self.events),
            self.master,
        );
        (end_users, cache)
    }
}

/// End users over a store that must not be called.
fn untouched() -> EndUsers {
    Setup::new(MockEndUserStore::new()).build().0
}

fn new_user(user_id: &str) -> NewEndUser {
    NewEndUser::parse(Some(user_id), None, Some("a@b.co"), None).unwrap_or_else(|e| panic!("{e}"))
}

fn login(keep_other_sessions: bool) -> Login {
    Login::parse(
        Some("ann"),
        None,
        Some(60),
        Some(vec!["read_messages", "manage_rooms"]),
        Some(keep_other_sessions),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn unauthenticated<T: std::fmt::Debug>(result: Result<T, AppError>, actor: &Actor) {
    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{actor:?}: {result:?}"
    );
}

#[tokio::test]
async fn the_api_key_creates_a_user_and_a_taken_user_id_is_user_exists() {
    let mut store = MockEndUserStore::new();
    store
        .expect_create_end_user()
        .withf(|account, new| *account == ACCOUNT && new.user_id.as_str() == "ann")
        .times(1)
        .returning(|_, _| Ok(user(3, "ann", true)));
    for (user_id, field) in [("taken", "user_id"), ("taken2", "external_id")] {
        store
            .expect_create_end_user()
            .withf(move |_, new| new.user_id.as_str() == user_id)
            .returning(move |_, _| Err(StoreError::Duplicate(field)));
    }
    store
        .expect_create_end_user()
        .withf(|_, new| new.user_id.as_str() == "mail")
        .returning(|_, _| Err(StoreError::Duplicate("email")));
    let (end_users, _) = Setup::new(store).build();
    let created = end_users.create(&api_key(), new_user("ann")).await;
    assert!(
        matches!(&created, Ok(u) if u.id == UserId(3)),
        "{created:?}"
    );
    for user_id in ["taken", "taken2"] {
        let taken = end_users.create(&api_key(), new_user(user_id)).await;
        assert!(
            matches!(taken, Err(AppError::Conflict(Conflict::UserExists))),
            "{taken:?}"
        );
    }
    match end_users.create(&api_key(), new_user("mail")).await {
        Err(AppError::Invalid(errors)) => assert_eq!(
            errors.iter().cloned().collect::<Vec<_>>(),
            vec![FieldError::new("email", Problem::Taken)]
        ),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn only_the_api_key_creates_lists_changes_logs_in_and_revokes() {
    let end_users = untouched();
    let mut actors = others().to_vec();
    actors.push(scoped(3, Permissions::ALL));
    for actor in &actors {
        unauthenticated(end_users.create(actor, new_user("ann")).await, actor);
        let query = UserQuery::parse(0, 10, None).unwrap_or_else(|e| panic!("{e}"));
        unauthenticated(end_users.list(actor, query).await, actor);
        let patch = EndUserPatch {
            is_active: Some(false),
            ..EndUserPatch::default()
        };
        unauthenticated(end_users.update(actor, "ann", patch).await, actor);
        unauthenticated(end_users.login(actor, login(false)).await, actor);
        unauthenticated(end_users.revoke_tokens(actor, "ann").await, actor);
        unauthenticated(end_users.replace_signing_secret(actor).await, actor);
    }
    for actor in &others() {
        unauthenticated(end_users.get(actor, "ann").await, actor);
        unauthenticated(end_users.logout(actor, "ann").await, actor);
    }
}

#[tokio::test]
async fn a_list_is_a_page_of_the_accounts_users() {
    let mut store = MockEndUserStore::new();
    store
        .expect_list_end_users()
        .withf(|account, query| {
            *account == ACCOUNT && query.search.as_deref() == Some("an") && query.window.limit == 2
        })
        .times(1)
        .returning(|_, _| Ok((vec![user(3, "ann", true), user(6, "dan", true)], 7)));
    let (end_users, _) = Setup::new(store).build();
    let query = UserQuery::parse(0, 2, Some(" an ")).unwrap_or_else(|e| panic!("{e}"));
    let page = end_users
        .list(&api_key(), query)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.total, 7);
    assert_eq!(page.items.len(), 2);
}

#[tokio::test]
async fn a_user_is_read_by_the_api_key_or_by_its_own_scoped_credential_only() {
    let end_users = untouched();
    let found = end_users.get(&api_key(), "ann").await;
    assert!(matches!(&found, Ok(u) if u.id == UserId(3)), "{found:?}");
    let missing = end_users.get(&api_key(), "nobody").await;
    assert!(
        matches!(missing, Err(AppError::NotFound(Resource::User))),
        "{missing:?}"
    );
    // Even a credential that may do nothing reads its own user.
    let own = end_users.get(&scoped(3, Permissions::NONE), "ann").await;
    assert!(matches!(&own, Ok(u) if u.id == UserId(3)), "{own:?}");
    // Another user, existing or not, is refused alike.
    for other in ["bob", "nobody"] {
        let refused = end_users.get(&scoped(3, Permissions::ALL), other).await;
        assert!(
            matches!(refused, Err(AppError::Forbidden(Denied::OtherUser))),
            "{other}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn deactivating_a_user_forgets_and_announces_its_credentials() {
    let mut store = MockEndUserStore::new();
    store
        .expect_update_end_user()
        .withf(|account, id, patch| {
            *account == ACCOUNT && *id == UserId(3) && patch.is_active == Some(false)
        })
        .times(1)
        .returning(|_, _, _| Ok(user(3, "ann", false)));
    let (end_users, cache) = Setup::new(store).events(announcing(3)).build();
    let patch =
        EndUserPatch::parse(None, None, None, Some(false)).unwrap_or_else(|e| panic!("{e}"));
    let updated = end_users.update(&api_key(), "ann", patch).await;
    assert!(matches!(&updated, Ok(u) if !u.is_active), "{updated:?}");
    assert!(!is_warm(&cache));
}

#[tokio::test]
async fn renaming_a_user_touches_no_credential_and_an_empty_patch_writes_nothing() {
    let mut store = MockEndUserStore::new();
    store
        .expect_update_end_user()
        .withf(|_, _, patch| patch.name.as_ref().map(PersonName::as_str) == Some("Ann B"))
        .times(1)
        .returning(|_, _, _| Ok(user(3, "ann", true)));
    let (end_users, cache) = Setup::new(store).build();
    let rename =
        EndUserPatch::parse(Some("Ann B"), None, None, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(end_users.update(&api_key(), "ann", rename).await.is_ok());
    assert!(
        end_users
            .update(&api_key(), "ann", EndUserPatch::default())
            .await
            .is_ok()
    );
    assert!(is_warm(&cache));
    let missing = end_users
        .update(&api_key(), "nobody", EndUserPatch::default())
        .await;
    assert!(
        matches!(missing, Err(AppError::NotFound(Resource::User))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_login_rotates_the_users_other_keys_by_default() {
    let issued: Arc<Mutex<Option<(TokenHash, OffsetDateTime)>>> = Arc::default();
    let seen = issued.clone();
    let mut store = MockEndUserStore::new();
    store
        .expect_issue_scoped_key()
        .withf(|account, user, _, permissions, _, revoke_others| {
            *account == ACCOUNT
                && *user == UserId(3)
                && *permissions
                    == Permissions::NONE
                        .with(Permission::ReadMessages)
                        .with(Permission::ManageRooms)
                && *revoke_others
        })
        .times(1)
        .returning(move |_, _, hash, _, expires_at, _| {
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some((hash, expires_at));
            Ok(())
        });
    let (end_users, cache) = Setup::new(store).events(announcing(3)).build();
    let before = OffsetDateTime::now_utc();
    let key = end_users
        .login(&api_key(), login(false))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(key.key.expose().starts_with("sk_"));
    assert_eq!(key.key.expose().len(), 3 + 64);
    assert_eq!(key.user.id, UserId(3));
    let stored = *issued.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(stored, Some((key.key.hash(), key.expires_at)));
    let ttl = key.expires_at - before;
    assert!(
        ttl > time::Duration::seconds(59) && ttl <= time::Duration::seconds(61),
        "{ttl}"
    );
    assert!(!is_warm(&cache));
}

#[tokio::test]
async fn a_login_that_keeps_other_sessions_revokes_nothing() {
    let mut store = MockEndUserStore::new();
    store
        .expect_issue_scoped_key()
        .withf(|_, _, _, _, _, revoke_others| !*revoke_others)
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(()));
    let (end_users, cache) = Setup::new(store).build();
    let key = end_users.login(&api_key(), login(true)).await;
    assert!(key.is_ok(), "{key:?}");
    assert!(is_warm(&cache));
}

#[tokio::test]
async fn a_login_makes_an_unknown_user_named_as_asked() {
    for (name, expected) in [(Some("Carl C"), "Carl C"), (None, "carl")] {
        let mut setup = Setup::new(MockEndUserStore::new());
        setup
            .directory
            .expect_ensure_external_user()
            .withf(move |account, id, made| {
                *account == ACCOUNT && id.as_str() == "carl" && made.as_str() == expected
            })
            .times(1)
            .returning(|_, _, _| Ok(user(9, "carl", true)));
        setup
            .store
            .expect_issue_scoped_key()
            .withf(|_, user, _, permissions, _, _| {
                *user == UserId(9) && *permissions == Permissions::DEFAULT
            })
            .times(1)
            .returning(|_, _, _, _, _, _| Ok(()));
        let (end_users, _) = setup.events(announcing(9)).build();
        let login =
            Login::parse(Some("carl"), name, None, None, None).unwrap_or_else(|e| panic!("{e}"));
        let key = end_users.login(&api_key(), login).await;
        assert!(matches!(&key, Ok(k) if k.user.id == UserId(9)), "{key:?}");
    }
}

#[tokio::test]
async fn an_inactive_user_gets_no_key() {
    let mut store = MockEndUserStore::new();
    store.expect_issue_scoped_key().never();
    let (end_users, _) = Setup::new(store).build();
    let login = Login::parse(Some("bob"), None, None, None, None).unwrap_or_else(|e| panic!("{e}"));
    let refused = end_users.login(&api_key(), login).await;
    assert!(
        matches!(refused, Err(AppError::Forbidden(Denied::UserInactive))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_logout_revokes_every_scoped_key_of_the_user_and_announces_it() {
    for actor in [api_key(), scoped(3, Permissions::NONE)] {
        let mut store = MockEndUserStore::new();
        store
            .expect_revoke_scoped_keys()
            .withf(|account, user| *account == ACCOUNT && *user == UserId(3))
            .times(1)
            .returning(|_, _| Ok(2));
        let (end_users, cache) = Setup::new(store).events(announcing(3)).build();
        let out = end_users
            .logout(&actor, "ann")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((out.user.id, out.revoked), (UserId(3), 2));
        assert!(!is_warm(&cache));
    }
}

#[tokio::test]
async fn a_logout_with_nothing_to_revoke_announces_nothing() {
    let mut store = MockEndUserStore::new();
    store.expect_revoke_scoped_keys().returning(|_, _| Ok(0));
    let (end_users, _) = Setup::new(store).build();
    let out = end_users.logout(&api_key(), "ann").await;
    assert!(matches!(&out, Ok(o) if o.revoked == 0), "{out:?}");
    let missing = end_users.logout(&api_key(), "nobody").await;
    assert!(
        matches!(missing, Err(AppError::NotFound(Resource::User))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn another_users_scoped_key_may_not_log_a_user_out() {
    let mut store = MockEndUserStore::new();
    store.expect_revoke_scoped_keys().never();
    let (end_users, _) = Setup::new(store).build();
    for target in ["ann", "nobody"] {
        let refused = end_users.logout(&scoped(5, Permissions::ALL), target).await;
        assert!(
            matches!(refused, Err(AppError::Forbidden(Denied::OtherUser))),
            "{target}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn revoking_tokens_sets_the_instant_and_announces_it() {
    let mut store = MockEndUserStore::new();
    let before = OffsetDateTime::now_utc();
    store
        .expect_revoke_tokens()
        .withf(move |account, user, at| {
            *account == ACCOUNT
                && *user == UserId(3)
                && *at >= before - time::Duration::microseconds(1)
                && *at <= OffsetDateTime::now_utc()
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let (end_users, cache) = Setup::new(store).events(announcing(3)).build();
    let revoked = end_users
        .revoke_tokens(&api_key(), "ann")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(revoked.user.id, UserId(3));
    assert_eq!(revoked.tokens_valid_after.nanosecond() % 1_000, 0);
    assert!(!is_warm(&cache));
    let missing = end_users.revoke_tokens(&api_key(), "nobody").await;
    assert!(
        matches!(missing, Err(AppError::NotFound(Resource::User))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_signing_secret_needs_the_server_key() {
    let mut store = MockEndUserStore::new();
    store.expect_replace_signing_seed().never();
    let (end_users, _) = Setup::new(store).build();
    let refused = end_users.replace_signing_secret(&api_key()).await;
    assert!(
        matches!(refused, Err(AppError::SigningUnavailable)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_signing_secret_is_derived_from_a_fresh_random_seed() {
    let seeds: Arc<Mutex<Vec<[u8; 32]>>> = Arc::default();
    let seen = seeds.clone();
    let mut store = MockEndUserStore::new();
    store
        .expect_replace_signing_seed()
        .withf(|account, _| *account == ACCOUNT)
        .times(2)
        .returning(move |_, seed| {
            seen.lock().unwrap_or_else(|e| e.into_inner()).push(seed);
            Ok(SigningSeed {
                seed,
                created_at: datetime!(2026-02-01 0:00 UTC),
                retired_at: None,
            })
        });
    let master = SigningMaster::parse(&"k".repeat(40)).unwrap_or_else(|e| panic!("{e}"));
    let mut setup = Setup::new(store);
    setup.master = Some(master.clone());
    let (end_users, _) = setup.build();
    let first = end_users
        .replace_signing_secret(&api_key())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = end_users
        .replace_signing_secret(&api_key())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seeds = seeds.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(seeds.len(), 2);
    assert_ne!(seeds[0], seeds[1]);
    assert_eq!(first.secret, master.derive(&seeds[0]));
    assert_eq!(second.secret, master.derive(&seeds[1]));
    assert!(first.secret.expose().starts_with("ss_"));
    assert_eq!(first.created_at, datetime!(2026-02-01 0:00 UTC));
}

#[tokio::test]
async fn me_is_the_user_a_user_credential_acts_as() {
    for actor in [
        scoped(3, Permissions::DEFAULT),
        user_token(Role::Agent),
        user_token(Role::Administrator),
    ] {
        let mut setup = Setup::new(MockEndUserStore::new());
        setup
            .directory
            .expect_find_users()
            .withf(|account, ids| *account == ACCOUNT && ids == &[UserId(3)])
            .times(1)
            .returning(|_, _| Ok(vec![user(3, "ann", true)]));
        let (end_users, _) = setup.build();
        let me = end_users.me(&actor).await;
        assert!(
            matches!(&me, Ok(u) if u.id == UserId(3)),
            "{actor:?}: {me:?}"
        );
    }
}

#[tokio::test]
async fn me_refuses_the_api_key_as_nobody_and_a_vanished_user_as_unauthenticated() {
    let refused = untouched().me(&api_key()).await;
    assert!(
        matches!(refused, Err(AppError::Forbidden(Denied::NotAUser))),
        "{refused:?}"
    );
    unauthenticated(untouched().me(&Actor::Platform).await, &Actor::Platform);
    let mut setup = Setup::new(MockEndUserStore::new());
    setup
        .directory
        .expect_find_users()
        .returning(|_, _| Ok(vec![]));
    let actor = scoped(3, Permissions::DEFAULT);
    unauthenticated(setup.build().0.me(&actor).await, &actor);
}
