//! The seeds of the accounts' JWT signing secrets: replaced in one transaction, usable
//! for 24 hours after their retirement, found by the client's UUID.

use chat_app::{AccountPatch, AccountStore, EndUserStore, SigningKeys, StoreError};
use chat_domain::AccountId;
use chat_store_pg::PgStore;
use uuid::Uuid;

use crate::common::{Fixture, count, create_account, execute, fixture};

async fn keys(store: &PgStore, client: Uuid) -> SigningKeys {
    store
        .find_signing_keys(client)
        .await
        .expect("look-up works")
        .expect("client known")
}

/// The seeds `keys` holds, newest first, by their first byte.
fn seed_tags(keys: &SigningKeys) -> Vec<u8> {
    keys.seeds.iter().map(|s| s.seed[0]).collect()
}

async fn replace(store: &PgStore, account: AccountId, tag: u8) {
    let mut seed = [7u8; 32];
    seed[0] = tag;
    let stored = store
        .replace_signing_seed(account, seed)
        .await
        .expect("seed replaced");
    assert_eq!(stored.seed, seed);
    assert_eq!(stored.retired_at, None);
}

#[tokio::test]
async fn a_first_seed_is_current_and_found_with_its_account_by_the_client_uuid() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;

    let empty = keys(&store, acme.uuid).await;
    assert_eq!(empty.account.id, acme.id);
    assert_eq!(empty.account.uuid, acme.uuid);
    assert!(empty.account.features.chat_rooms);
    assert!(empty.account_active);
    assert!(empty.seeds.is_empty(), "no secret yet");

    let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).expect("small"));
    let stored = store
        .replace_signing_seed(acme.id, seed)
        .await
        .expect("seed stored");
    assert_eq!(stored.seed, seed);
    assert_eq!(stored.retired_at, None);
    let age = time::OffsetDateTime::now_utc() - stored.created_at;
    assert!(age.abs() < time::Duration::minutes(1), "{age}");

    let found = keys(&store, acme.uuid).await;
    assert_eq!(found.seeds, vec![stored]);

    assert_eq!(
        store
            .find_signing_keys(Uuid::new_v4())
            .await
            .expect("look-up works"),
        None,
        "an unknown client"
    );
}

#[tokio::test]
async fn an_inactive_account_and_its_features_are_reported() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    replace(&store, acme.id, 1).await;
    store
        .update_account(
            acme.id,
            AccountPatch {
                is_active: Some(false),
                chat_rooms: Some(false),
                ..AccountPatch::default()
            },
        )
        .await
        .expect("updated");
    let found = keys(&store, acme.uuid).await;
    assert!(!found.account_active);
    assert!(!found.account.features.chat_rooms);
    assert_eq!(seed_tags(&found), [1]);
}

#[tokio::test]
async fn a_replacement_retires_the_current_seed_now_and_keeps_it_usable() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    replace(&store, acme.id, 1).await;
    replace(&store, acme.id, 2).await;

    let found = keys(&store, acme.uuid).await;
    assert_eq!(seed_tags(&found), [2, 1], "exactly current and previous");
    let (current, previous) = (&found.seeds[0], &found.seeds[1]);
    assert_eq!(current.retired_at, None);
    assert_eq!(
        previous.retired_at,
        Some(current.created_at),
        "retired by the transaction that made its successor"
    );
    assert!(previous.created_at < current.created_at);
    assert_eq!(count(&db, "signing_secrets"), 2);
    assert_eq!(count(&db, "signing_secrets WHERE retired_at IS NULL"), 1);
}

#[tokio::test]
async fn a_retired_seed_is_usable_for_24_hours_then_deleted_by_the_next_replacement() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    replace(&store, acme.id, 1).await;
    replace(&store, acme.id, 2).await;
    let retire = |interval: &str| {
        execute(
            &db,
            &format!(
                "UPDATE signing_secrets SET retired_at = now() - interval '{interval}' \
                 WHERE get_byte(seed, 0) = 1"
            ),
        )
    };

    retire("23 hours 59 minutes");
    assert_eq!(seed_tags(&keys(&store, acme.uuid).await), [2, 1]);
    retire("24 hours 1 second");
    assert_eq!(
        seed_tags(&keys(&store, acme.uuid).await),
        [2],
        "past its 24 hours"
    );
    assert_eq!(count(&db, "signing_secrets"), 2, "kept until a replacement");

    replace(&store, acme.id, 3).await;
    assert_eq!(seed_tags(&keys(&store, acme.uuid).await), [3, 2]);
    assert_eq!(
        count(&db, "signing_secrets"),
        2,
        "the expired seed is deleted, the one retired just now is kept"
    );
}

#[tokio::test]
async fn only_the_secret_just_replaced_stays_usable_so_replacing_twice_ends_a_leak() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    for tag in 1..=3 {
        replace(&store, acme.id, tag).await;
    }
    assert_eq!(seed_tags(&keys(&store, acme.uuid).await), [3, 2]);
    assert_eq!(count(&db, "signing_secrets"), 2);
    assert_eq!(count(&db, "signing_secrets WHERE retired_at IS NULL"), 1);
}

#[tokio::test]
async fn accounts_see_only_their_own_seeds() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    replace(&store, acme.id, 1).await;
    replace(&store, other.id, 2).await;
    replace(&store, other.id, 3).await;
    // A replacement in one account retires nothing in another.
    assert_eq!(seed_tags(&keys(&store, acme.uuid).await), [1]);
    let theirs = keys(&store, other.uuid).await;
    assert_eq!(theirs.account.id, other.id);
    assert_eq!(seed_tags(&theirs), [3, 2]);
    assert_eq!(theirs.seeds[0].retired_at, None);
}

#[tokio::test]
async fn a_seed_for_a_missing_account_is_not_found() {
    let Fixture { store, db } = fixture();
    let result = store.replace_signing_seed(AccountId(4242), [1; 32]).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(count(&db, "signing_secrets"), 0);
}

#[tokio::test]
async fn concurrent_replacements_take_turns_and_leave_one_current_seed() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    replace(&store, acme.id, 0).await;
    let replacements = (1..=8u8).map(|tag| {
        let store = store.clone();
        tokio::spawn(async move { replace(&store, acme.id, tag).await })
    });
    for replacement in replacements.collect::<Vec<_>>() {
        replacement.await.expect("every replacement succeeds");
    }
    assert_eq!(count(&db, "signing_secrets WHERE retired_at IS NULL"), 1);
    let found = keys(&store, acme.uuid).await;
    assert_eq!(
        found.seeds.len(),
        2,
        "the current seed and the one it replaced"
    );
    assert_eq!(found.seeds[0].retired_at, None, "the current one first");
}
