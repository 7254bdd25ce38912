//! Scoped keys: login (rotating or keeping other sessions), logout, revoking tokens.

use super::*;

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
