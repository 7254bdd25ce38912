//! Accounts, users, credentials, migrations and the pool's health against a real server.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use chat_app::{
    AccountPatch, AccountStore, CredentialOwner, CredentialStore, StoreError, StoreHealth,
    UserStore,
};
use chat_domain::{
    Account, AccountId, AccountName, Availability, CredentialKind, Description, Role, TokenHash,
    User, UserId,
};
use chat_store_pg::{PgStore, PoolOptions};
use chat_test_db::TestDatabase;

use crate::common::{
    Fixture, all_migrations, count, create_account, execute, fixture,
    fixture_migrated_by_the_store, new_account, new_user, options,
};

async fn owner(store: &PgStore, key: &str) -> Option<CredentialOwner> {
    store
        .find_credential(TokenHash::of(key))
        .await
        .expect("look-up works")
}

#[tokio::test]
async fn a_created_account_round_trips_every_field() {
    let Fixture { store, db: _db } = fixture();
    let description = "Widgets, \u{e9}t\u{e9} 2026.\n".repeat(100);
    let created = store
        .create_account(
            new_account("  Acme  ", Some(&description)),
            TokenHash::of("ck_a"),
        )
        .await
        .expect("account created");

    assert!(created.id.0 > 0);
    assert!(!created.uuid.is_nil());
    assert_eq!(created.name.as_str(), "Acme");
    assert_eq!(
        created.description.as_ref().map(Description::as_str),
        Some(description.as_str())
    );
    assert!(created.is_active);
    assert!(created.features.chat_rooms);
    assert_eq!(created.created_at, created.updated_at);
    let age = time::OffsetDateTime::now_utc() - created.created_at;
    assert!(age.abs() < time::Duration::minutes(1), "{age}");

    let read = store.get_account(created.id).await.expect("account read");
    assert_eq!(read, created);

    let other = create_account(&store, "Other", "ck_b").await;
    assert_ne!(other.id, created.id);
    assert_ne!(other.uuid, created.uuid);
    assert_eq!(other.description, None);
}

#[tokio::test]
async fn a_missing_account_is_not_found() {
    let Fixture { store, db: _db } = fixture();
    let missing = AccountId(4242);
    assert!(matches!(
        store.get_account(missing).await,
        Err(StoreError::NotFound)
    ));
    let patch = AccountPatch {
        is_active: Some(false),
        ..AccountPatch::default()
    };
    assert!(matches!(
        store.update_account(missing, patch).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.replace_api_key(missing, TokenHash::of("ck_x")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(owner(&store, "ck_x").await, None);
}

#[tokio::test]
async fn an_update_changes_only_the_patched_fields_and_bumps_updated_at() {
    let Fixture { store, db: _db } = fixture();
    let created = store
        .create_account(new_account("Acme", Some("first")), TokenHash::of("ck_a"))
        .await
        .expect("account created");
    tokio::time::sleep(Duration::from_millis(5)).await;

    let renamed = store
        .update_account(
            created.id,
            AccountPatch {
                name: Some(AccountName::parse("Acme Corp").expect("valid name")),
                ..AccountPatch::default()
            },
        )
        .await
        .expect("account updated");
    assert_eq!(renamed.name.as_str(), "Acme Corp");
    assert_eq!(renamed.description, created.description);
    assert_eq!(renamed.is_active, created.is_active);
    assert_eq!(renamed.features, created.features);
    assert_eq!(renamed.uuid, created.uuid);
    assert_eq!(renamed.created_at, created.created_at);
    assert!(renamed.updated_at > created.updated_at);

    let switched = store
        .update_account(
            created.id,
            AccountPatch {
                is_active: Some(false),
                chat_rooms: Some(false),
                ..AccountPatch::default()
            },
        )
        .await
        .expect("account updated");
    assert!(!switched.is_active);
    assert!(!switched.features.chat_rooms);
    assert_eq!(switched.name.as_str(), "Acme Corp");
    assert_eq!(switched.description, created.description);

    let cleared = store
        .update_account(
            created.id,
            AccountPatch {
                description: Some(None),
                ..AccountPatch::default()
            },
        )
        .await
        .expect("account updated");
    assert_eq!(cleared.description, None);
    assert!(!cleared.is_active);

    let described = store
        .update_account(
            created.id,
            AccountPatch {
                description: Some(Some(Description::parse("second").expect("valid"))),
                ..AccountPatch::default()
            },
        )
        .await
        .expect("account updated");
    assert_eq!(
        described.description.as_ref().map(Description::as_str),
        Some("second")
    );
    assert_eq!(
        store.get_account(created.id).await.expect("account read"),
        described
    );
}

#[tokio::test]
async fn an_empty_patch_only_bumps_updated_at() {
    let Fixture { store, db: _db } = fixture();
    let created = create_account(&store, "Acme", "ck_a").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let touched = store
        .update_account(created.id, AccountPatch::default())
        .await
        .expect("account updated");
    assert!(touched.updated_at > created.updated_at);
    assert_eq!(
        Account {
            updated_at: created.updated_at,
            ..touched
        },
        created
    );
}

#[tokio::test]
async fn a_created_user_round_trips_and_gets_its_token() {
    let Fixture { store, db: _db } = fixture();
    let account = create_account(&store, "Acme", "ck_a").await;
    let user = store
        .create_user(
            account.id,
            new_user(
                "Ada",
                Some("Ada@Example.com"),
                "administrator",
                Some("ext-1"),
            ),
            TokenHash::of("ut_ada"),
        )
        .await
        .expect("user created");
    assert!(user.id.0 > 0);
    assert_eq!(user.account_id, account.id);
    assert_eq!(user.name.as_str(), "Ada");
    assert_eq!(
        user.email.as_ref().map(|e| e.as_str()),
        Some("Ada@Example.com")
    );
    assert_eq!(user.external_id.as_ref().map(|e| e.as_str()), Some("ext-1"));
    assert_eq!(user.role, Role::Administrator);
    assert_eq!(user.availability, Availability::Offline);
    assert!(user.confirmed);

    let bare: User = store
        .create_user(
            account.id,
            new_user("Bob", None, "agent", None),
            TokenHash::of("ut_bob"),
        )
        .await
        .expect("user created");
    assert_eq!(bare.email, None);
    assert_eq!(bare.external_id, None);
    assert_eq!(bare.role, Role::Agent);
}

#[tokio::test]
async fn a_user_of_a_missing_account_is_not_found() {
    let Fixture { store, db } = fixture();
    let result = store
        .create_user(
            AccountId(4242),
            new_user("Ada", None, "agent", None),
            TokenHash::of("ut_ada"),
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(count(&db, "users"), 0);
    assert_eq!(count(&db, "credentials"), 0);
}

#[tokio::test]
async fn emails_and_external_ids_are_unique_per_account() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    store
        .create_user(
            acme.id,
            new_user("Ada", Some("ada@example.com"), "agent", Some("ext-1")),
            TokenHash::of("ut_1"),
        )
        .await
        .expect("first user created");

    let same_email = store
        .create_user(
            acme.id,
            new_user("Ada 2", Some("ADA@example.COM"), "agent", None),
            TokenHash::of("ut_2"),
        )
        .await;
    assert!(
        matches!(same_email, Err(StoreError::Duplicate("email"))),
        "{same_email:?}"
    );

    let same_external_id = store
        .create_user(
            acme.id,
            new_user("Ada 3", Some("ada3@example.com"), "agent", Some("ext-1")),
            TokenHash::of("ut_3"),
        )
        .await;
    assert!(
        matches!(same_external_id, Err(StoreError::Duplicate("external_id"))),
        "{same_external_id:?}"
    );

    // A refused user leaves neither a row nor a working token behind.
    assert_eq!(count(&db, "users"), 1);
    assert_eq!(owner(&store, "ut_2").await, None);
    assert_eq!(owner(&store, "ut_3").await, None);

    // External ids are compared exactly: another case is another id.
    store
        .create_user(
            acme.id,
            new_user("Ada 4", None, "agent", Some("EXT-1")),
            TokenHash::of("ut_4"),
        )
        .await
        .expect("external ids are case-sensitive");

    let elsewhere = store
        .create_user(
            other.id,
            new_user("Ada", Some("ada@example.com"), "agent", Some("ext-1")),
            TokenHash::of("ut_5"),
        )
        .await
        .expect("the same email and external id in another account are fine");
    assert_eq!(elsewhere.account_id, other.id);
}

#[tokio::test]
async fn credentials_name_their_owner() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let other = create_account(&store, "Other", "ck_other").await;
    let agent = store
        .create_user(
            acme.id,
            new_user("Ada", None, "agent", None),
            TokenHash::of("ut_ada"),
        )
        .await
        .expect("user created");
    let admin = store
        .create_user(
            other.id,
            new_user("Bob", None, "administrator", None),
            TokenHash::of("ut_bob"),
        )
        .await
        .expect("user created");

    let key = owner(&store, "ck_acme").await.expect("api key known");
    assert_eq!(key.kind, CredentialKind::ApiKey);
    assert_eq!(key.account.id, acme.id);
    assert_eq!(key.account.uuid, acme.uuid);
    assert!(key.account.features.chat_rooms);
    assert!(key.account_active);
    assert_eq!(key.user, None);

    let ada = owner(&store, "ut_ada").await.expect("user token known");
    assert_eq!(ada.kind, CredentialKind::UserToken);
    assert_eq!(ada.account.id, acme.id);
    assert_eq!(ada.user, Some((agent.id, Role::Agent)));

    let bob = owner(&store, "ut_bob").await.expect("user token known");
    assert_eq!(bob.account.id, other.id);
    assert_eq!(bob.account.uuid, other.uuid);
    assert_eq!(bob.user, Some((admin.id, Role::Administrator)));
    assert_ne!(admin.id, UserId(agent.id.0));

    assert_eq!(owner(&store, "ck_unknown").await, None);
    assert_eq!(owner(&store, "").await, None);
}

#[tokio::test]
async fn credentials_report_an_inactive_account_and_its_features() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    store
        .create_user(
            acme.id,
            new_user("Ada", None, "agent", None),
            TokenHash::of("ut_ada"),
        )
        .await
        .expect("user created");
    store
        .update_account(
            acme.id,
            AccountPatch {
                chat_rooms: Some(false),
                ..AccountPatch::default()
            },
        )
        .await
        .expect("account updated");
    let key = owner(&store, "ck_acme").await.expect("api key known");
    assert!(key.account_active);
    assert!(!key.account.features.chat_rooms);

    store
        .update_account(
            acme.id,
            AccountPatch {
                is_active: Some(false),
                ..AccountPatch::default()
            },
        )
        .await
        .expect("account updated");
    for secret in ["ck_acme", "ut_ada"] {
        let found = owner(&store, secret).await.expect("credential still known");
        assert!(!found.account_active, "{secret}");
        assert!(!found.account.features.chat_rooms, "{secret}");
    }
}

#[tokio::test]
async fn a_replaced_api_key_stops_matching() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_old").await;
    let other = create_account(&store, "Other", "ck_other").await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    let replaced = store
        .replace_api_key(acme.id, TokenHash::of("ck_new"))
        .await
        .expect("key replaced");
    assert_eq!(replaced.id, acme.id);
    assert!(replaced.updated_at > acme.updated_at);
    assert_eq!(
        Account {
            updated_at: acme.updated_at,
            ..replaced
        },
        acme
    );

    assert_eq!(owner(&store, "ck_old").await, None);
    let new = owner(&store, "ck_new").await.expect("new key known");
    assert_eq!(new.account.id, acme.id);
    assert_eq!(new.kind, CredentialKind::ApiKey);
    let untouched = owner(&store, "ck_other").await.expect("other key kept");
    assert_eq!(untouched.account.id, other.id);
    assert_eq!(count(&db, "credentials"), 2);
}

#[tokio::test]
async fn a_failed_write_leaves_nothing_behind() {
    let Fixture { store, db } = fixture();
    create_account(&store, "Acme", "ck_same").await;
    // The same key hash again: the credential insert fails after the account insert.
    let result = store
        .create_account(new_account("Twin", None), TokenHash::of("ck_same"))
        .await;
    assert!(
        matches!(result, Err(StoreError::Unexpected(_))),
        "{result:?}"
    );
    assert_eq!(count(&db, "accounts"), 1);
    assert_eq!(count(&db, "credentials"), 1);
}

#[tokio::test]
async fn migrations_run_once() {
    let Fixture { store, db: _db } = fixture_migrated_by_the_store();
    let again = store.run_migrations().expect("migrations run again");
    assert_eq!(again, Vec::<String>::new());
}

#[tokio::test]
async fn concurrent_migrations_both_succeed_and_apply_once() {
    let db = TestDatabase::new();
    let stores = [
        PgStore::connect(db.url(), options()).expect("valid options"),
        PgStore::connect(db.url(), options()).expect("valid options"),
    ];
    let results: Vec<Vec<String>> = std::thread::scope(|scope| {
        let runs: Vec<_> = stores
            .iter()
            .map(|store| scope.spawn(move || store.run_migrations()))
            .collect();
        runs.into_iter()
            .map(|run| {
                run.join()
                    .expect("no panic")
                    .expect("both migration runs succeed")
            })
            .collect()
    });
    let mut applied: Vec<String> = results.into_iter().flatten().collect();
    applied.sort();
    assert_eq!(applied, all_migrations());
    // Usable afterwards.
    create_account(&stores[0], "Acme", "ck_a").await;
    drop(stores);
}

#[tokio::test]
async fn ping_answers_and_the_pool_reports_its_state() {
    let Fixture { store, db: _db } = fixture();
    store.ping().await.expect("database answers");
    let state = store.pool_state();
    assert_eq!(state.max_size, 4);
    assert!(state.connections >= 1, "{state:?}");
    assert!(state.idle <= state.connections, "{state:?}");
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_quickly() {
    let store = PgStore::connect(
        "postgres://postgres@127.0.0.1:1/postgres",
        PoolOptions {
            max_size: 2,
            connect_timeout: Duration::from_secs(1),
            ..PoolOptions::default()
        },
    )
    .expect("no connection is made yet");
    let started = Instant::now();
    let ping = tokio::time::timeout(Duration::from_secs(10), store.ping())
        .await
        .expect("ping returns");
    assert!(matches!(ping, Err(StoreError::Unavailable(_))), "{ping:?}");
    let read = tokio::time::timeout(Duration::from_secs(10), store.get_account(AccountId(1)))
        .await
        .expect("read returns");
    assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(store.run_migrations().is_err());
    assert_eq!(store.pool_state().connections, 0);
}

/// Ends every session of the store's database but the caller's; answers how many.
fn terminate_sessions(db: &TestDatabase) -> usize {
    execute(
        db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
}

/// The pool skips its checkout test for a connection used within the last second: a
/// connection the database closed since costs at most one call, `Unavailable`, and is
/// not handed out again; one that sat idle longer is tested and replaced unseen.
#[tokio::test]
async fn connections_the_database_closed_are_replaced() {
    let Fixture { store, db } = fixture();
    let account = create_account(&store, "Acme", "ck_a").await;
    let read = || store.get_account(account.id);
    read().await.expect("a first read");

    assert!(terminate_sessions(&db) >= 1);
    let mut failed = 0;
    for _ in 0..10 {
        match read().await {
            Ok(found) => assert_eq!(found.id, account.id),
            Err(StoreError::Unavailable(_)) => failed += 1,
            Err(other) => panic!("a lost connection is Unavailable, not {other:?}"),
        }
    }
    let connections = store.pool_state().connections;
    assert!(
        failed <= 4,
        "each closed connection fails once at most: {failed} failures, {connections} open"
    );
    read().await.expect("fresh connections read");

    assert!(terminate_sessions(&db) >= 1);
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    for _ in 0..4 {
        read()
            .await
            .expect("idle connections are tested on checkout and replaced");
    }
}
