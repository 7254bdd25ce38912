//! The signing secret of signed tokens.

use super::*;

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
