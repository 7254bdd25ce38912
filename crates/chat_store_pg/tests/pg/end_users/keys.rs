//! Scoped keys: issued, found by the credential look-up, rotated or kept, revoked; and
//! revoking a user's signed tokens.

use chat_app::{CredentialOwner, CredentialStore, EndUserPatch, EndUserStore, StoreError};
use chat_domain::{CredentialKind, Permission, Permissions, Role, TokenHash, User, UserId};
use chat_store_pg::PgStore;
use time::OffsetDateTime;
use time::macros::datetime;

use super::{create_end_user, external_id};
use crate::common::{Fixture, count, create_account, create_user, fixture};

const EXPIRES: OffsetDateTime = datetime!(2031-05-06 07:08:09.123456 UTC);

async fn owner(store: &PgStore, key: &str) -> Option<CredentialOwner> {
    store
        .find_credential(TokenHash::of(key))
        .await
        .expect("look-up works")
}

/// Issues `key` to `user` with the default permissions.
async fn issue(store: &PgStore, user: &User, key: &str, revoke_others: bool) {
    store
        .issue_scoped_key(
            user.account_id,
            user.id,
            TokenHash::of(key),
            Permissions::DEFAULT,
            EXPIRES,
            revoke_others,
        )
        .await
        .expect("key issued");
}

/// Which of `keys` the credential look-up still finds.
async fn working(store: &PgStore, keys: &[&'static str]) -> Vec<&'static str> {
    let mut found = Vec::new();
    for key in keys {
        if owner(store, key).await.is_some() {
            found.push(*key);
        }
    }
    found
}

#[tokio::test]
async fn a_scoped_key_round_trips_through_the_credential_look_up() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    let scope = Permissions::NONE
        .with(Permission::ReadMessages)
        .with(Permission::InviteUsers);
    store
        .issue_scoped_key(
            acme.id,
            ada.id,
            TokenHash::of("sk_ada"),
            scope,
            EXPIRES,
            false,
        )
        .await
        .expect("key issued");

    let found = owner(&store, "sk_ada").await.expect("key known");
    assert_eq!(found.kind, CredentialKind::ScopedKey);
    assert_eq!(found.account.id, acme.id);
    assert_eq!(found.account.uuid, acme.uuid);
    assert!(found.account_active);
    assert_eq!(found.user, Some((ada.id, Role::Agent)));
    assert!(found.user_active);
    assert_eq!(found.scope, Some(scope));
    assert_eq!(found.expires_at, Some(EXPIRES));

    store
        .update_end_user(
            acme.id,
            ada.id,
            EndUserPatch {
                is_active: Some(false),
                ..EndUserPatch::default()
            },
        )
        .await
        .expect("deactivated");
    let inactive = owner(&store, "sk_ada").await.expect("key still known");
    assert!(!inactive.user_active, "an inactive user's key says so");
    assert_eq!(inactive.scope, Some(scope));

    // Other credentials have neither scope nor expiry, and an active user.
    let api_key = owner(&store, "ck_a").await.expect("api key known");
    assert_eq!((api_key.scope, api_key.expires_at), (None, None));
    assert!(api_key.user_active);
    create_user(&store, acme.id, "Bob", "agent").await;
    let token = owner(&store, &format!("ut_{}_Bob", acme.id.0))
        .await
        .expect("token known");
    assert_eq!((token.scope, token.expires_at), (None, None));
    assert!(token.user_active);
}

#[tokio::test]
async fn every_permission_set_round_trips() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    let sets = [
        Permissions::NONE,
        Permissions::DEFAULT,
        Permissions::ALL,
        Permissions::NONE.with(Permission::ManageRooms),
    ];
    for (i, set) in sets.into_iter().enumerate() {
        let key = format!("sk_{i}");
        store
            .issue_scoped_key(acme.id, ada.id, TokenHash::of(&key), set, EXPIRES, false)
            .await
            .expect("key issued");
        let found = owner(&store, &key).await.expect("key known");
        assert_eq!(found.scope, Some(set));
    }
}

#[tokio::test]
async fn a_rotating_login_revokes_the_users_other_keys_and_a_keeping_one_does_not() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    // A user made by the platform has an access token, which scoped keys leave alone.
    let bob = create_user(&store, acme.id, "Bob", "agent").await;
    let token = format!("ut_{}_Bob", acme.id.0);
    let carol = create_end_user(&store, acme.id, "carol").await;
    issue(&store, &carol, "sk_carol", false).await;
    let all = ["sk_1", "sk_2", "sk_3", "sk_4", "sk_carol"];

    issue(&store, &bob, "sk_1", true).await;
    issue(&store, &bob, "sk_2", false).await;
    assert_eq!(
        working(&store, &all).await,
        ["sk_1", "sk_2", "sk_carol"],
        "keep_other_sessions keeps them"
    );

    issue(&store, &bob, "sk_3", true).await;
    assert_eq!(
        working(&store, &all).await,
        ["sk_3", "sk_carol"],
        "a rotation leaves one key of the user, and other users' keys alone"
    );
    assert!(
        owner(&store, &token).await.is_some(),
        "the access token stays"
    );

    issue(&store, &bob, "sk_4", false).await;
    assert_eq!(working(&store, &all).await, ["sk_3", "sk_4", "sk_carol"]);
}

#[tokio::test]
async fn concurrent_rotating_logins_leave_one_key() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    let logins = (0..8).map(|i| {
        let (store, ada) = (store.clone(), ada.clone());
        tokio::spawn(async move { issue(&store, &ada, &format!("sk_{i}"), true).await })
    });
    for login in logins.collect::<Vec<_>>() {
        login.await.expect("login task");
    }
    assert_eq!(
        count(&db, "credentials WHERE kind = 'scoped_key'"),
        1,
        "rotations take turns"
    );
}

#[tokio::test]
async fn a_key_for_another_accounts_or_a_missing_user_is_not_found_and_not_stored() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    issue(&store, &ada, "sk_ada", false).await;
    for (account, user) in [(other.id, ada.id), (acme.id, UserId(4242))] {
        for revoke_others in [false, true] {
            let result = store
                .issue_scoped_key(
                    account,
                    user,
                    TokenHash::of("sk_stray"),
                    Permissions::ALL,
                    EXPIRES,
                    revoke_others,
                )
                .await;
            assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
        }
    }
    assert_eq!(owner(&store, "sk_stray").await, None);
    assert_eq!(count(&db, "credentials WHERE kind = 'scoped_key'"), 1);
    assert!(
        owner(&store, "sk_ada").await.is_some(),
        "a refused rotation in another account deletes nothing"
    );
}

#[tokio::test]
async fn revoking_scoped_keys_deletes_only_that_users_and_counts_them() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    let bob = create_user(&store, acme.id, "Bob", "agent").await;
    let token = format!("ut_{}_Bob", acme.id.0);
    let carol = create_end_user(&store, acme.id, "carol").await;
    issue(&store, &bob, "sk_b1", false).await;
    issue(&store, &bob, "sk_b2", false).await;
    issue(&store, &carol, "sk_c", false).await;
    let all = ["sk_b1", "sk_b2", "sk_c"];

    // Another account cannot name Bob.
    let stray = store
        .revoke_scoped_keys(other.id, bob.id)
        .await
        .expect("revoked");
    assert_eq!(stray, 0);
    assert_eq!(working(&store, &all).await, all);

    let revoked = store
        .revoke_scoped_keys(acme.id, bob.id)
        .await
        .expect("revoked");
    assert_eq!(revoked, 2);
    assert_eq!(working(&store, &all).await, ["sk_c"]);
    assert!(
        owner(&store, &token).await.is_some(),
        "the access token stays"
    );

    let again = store
        .revoke_scoped_keys(acme.id, bob.id)
        .await
        .expect("revoked");
    assert_eq!(again, 0);
    let nobody = store
        .revoke_scoped_keys(acme.id, UserId(4242))
        .await
        .expect("revoked");
    assert_eq!(nobody, 0);
}

#[tokio::test]
async fn revoking_tokens_sets_the_instant_and_deletes_the_scoped_keys() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    let carol = create_end_user(&store, acme.id, "carol").await;
    issue(&store, &ada, "sk_a1", false).await;
    issue(&store, &ada, "sk_a2", false).await;
    issue(&store, &carol, "sk_c", false).await;

    let at = datetime!(2030-01-01 12:00:00.5 UTC);
    store
        .revoke_tokens(acme.id, ada.id, at)
        .await
        .expect("revoked");
    assert_eq!(working(&store, &["sk_a1", "sk_a2", "sk_c"]).await, ["sk_c"]);
    let subject = |user_id: &'static str| {
        let store = store.clone();
        async move {
            store
                .find_token_subject(acme.id, external_id(user_id))
                .await
                .expect("look-up works")
                .expect("found")
        }
    };
    assert_eq!(subject("ada").await.tokens_valid_after, Some(at));
    assert_eq!(subject("carol").await.tokens_valid_after, None);

    // A call with an earlier clock does not bring older tokens back; a later one moves on.
    store
        .revoke_tokens(acme.id, ada.id, datetime!(2029-01-01 0:00 UTC))
        .await
        .expect("revoked");
    assert_eq!(subject("ada").await.tokens_valid_after, Some(at));
    let later = datetime!(2030-01-02 0:00 UTC);
    store
        .revoke_tokens(acme.id, ada.id, later)
        .await
        .expect("revoked");
    assert_eq!(subject("ada").await.tokens_valid_after, Some(later));

    // Keys issued after a revocation work.
    issue(&store, &ada, "sk_a3", false).await;
    assert!(owner(&store, "sk_a3").await.is_some());
}

#[tokio::test]
async fn revoking_another_accounts_or_a_missing_users_tokens_is_not_found() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    issue(&store, &ada, "sk_ada", false).await;
    let at = datetime!(2030-01-01 0:00 UTC);
    for (account, user) in [(other.id, ada.id), (acme.id, UserId(4242))] {
        let result = store.revoke_tokens(account, user, at).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
    assert!(owner(&store, "sk_ada").await.is_some(), "nothing deleted");
    let subject = store
        .find_token_subject(acme.id, external_id("ada"))
        .await
        .expect("look-up works")
        .expect("found");
    assert_eq!(subject.tokens_valid_after, None, "nothing set");
}
