//! Users: creating, listing, reading, changing, and `me`.

use super::*;

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
            matches!(&me, Ok(m) if m.user.id == UserId(3) && m.account.id == ACCOUNT),
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
