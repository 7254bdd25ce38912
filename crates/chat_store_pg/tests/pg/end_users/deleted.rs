//! A deleted user (the account dialect's agent deletion) is found by nothing, keeps
//! nothing that authenticates, and frees its user_id.

use chat_app::{CredentialStore, EndUserPatch, EndUserStore, StoreError, UserDirectory, UserStore};
use chat_domain::{Permissions, PersonName, TokenHash};
use diesel::{QueryableByName, RunQueryDsl};
use time::macros::datetime;

use super::{create_end_user, external_id, query, user_ids};
use crate::common::{Fixture, connect, count, create_account, create_user, fixture, new_user};

#[derive(QueryableByName)]
struct Flags {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    is_active: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    deleted: bool,
}

#[tokio::test]
async fn a_deleted_user_is_found_by_nothing_and_its_credentials_are_gone() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    let keep = create_end_user(&store, acme.id, "keep").await;
    let expires = datetime!(2031-01-01 0:00 UTC);
    for (user, key) in [(&ada, "sk_ada"), (&keep, "sk_keep")] {
        store
            .issue_scoped_key(
                acme.id,
                user.id,
                TokenHash::of(key),
                Permissions::DEFAULT,
                expires,
                false,
            )
            .await
            .expect("key issued");
    }
    // A platform user with both kinds of credential.
    let bob = create_user(&store, acme.id, "Bob", "agent").await;
    let bob_token = format!("ut_{}_Bob", acme.id.0);
    store
        .issue_scoped_key(
            acme.id,
            bob.id,
            TokenHash::of("sk_bob"),
            Permissions::ALL,
            expires,
            false,
        )
        .await
        .expect("key issued");

    store.delete_user(acme.id, ada.id).await.expect("deleted");
    store.delete_user(acme.id, bob.id).await.expect("deleted");

    for key in ["sk_ada", "sk_bob", bob_token.as_str()] {
        let found = store
            .find_credential(TokenHash::of(key))
            .await
            .expect("look-up works");
        assert_eq!(found, None, "{key}");
    }
    assert!(
        store
            .find_credential(TokenHash::of("sk_keep"))
            .await
            .expect("look-up works")
            .is_some(),
        "other users' keys stay"
    );
    // The row stays (for its messages), marked deleted; is_active is left as it was.
    let flags: Flags = diesel::sql_query(format!(
        "SELECT is_active, deleted_at IS NOT NULL AS deleted FROM users WHERE id = {}",
        ada.id.0
    ))
    .get_result(&mut connect(&db))
    .expect("row read");
    assert!(flags.deleted);
    assert!(flags.is_active);

    assert_eq!(
        store
            .find_token_subject(acme.id, external_id("ada"))
            .await
            .expect("look-up works"),
        None
    );
    assert_eq!(
        store
            .find_token_subject(acme.id, external_id(&bob.id.0.to_string()))
            .await
            .expect("look-up works"),
        None,
        "not by its integer id either"
    );
    assert_eq!(
        store
            .find_by_chat_id(acme.id, bob.id.0.to_string())
            .await
            .expect("look-up works"),
        None
    );
    assert_eq!(
        store
            .find_users(acme.id, vec![ada.id, bob.id, keep.id])
            .await
            .expect("look-up works"),
        vec![keep.clone()]
    );
    assert_eq!(
        store.list_users(acme.id).await.expect("listed"),
        vec![keep.clone()]
    );
    let (listed, total) = store
        .list_end_users(acme.id, query(0, 100, None))
        .await
        .expect("listed");
    assert_eq!((user_ids(&listed), total), (vec!["keep".to_owned()], 1));

    let patch = EndUserPatch {
        is_active: Some(false),
        ..EndUserPatch::default()
    };
    let updated = store.update_end_user(acme.id, ada.id, patch).await;
    assert!(matches!(updated, Err(StoreError::NotFound)), "{updated:?}");
    let issued = store
        .issue_scoped_key(
            acme.id,
            ada.id,
            TokenHash::of("sk_late"),
            Permissions::DEFAULT,
            expires,
            true,
        )
        .await;
    assert!(matches!(issued, Err(StoreError::NotFound)), "{issued:?}");
    let revoked = store.revoke_tokens(acme.id, ada.id, expires).await;
    assert!(matches!(revoked, Err(StoreError::NotFound)), "{revoked:?}");
    assert_eq!(
        count(&db, "credentials WHERE kind = 'scoped_key'"),
        1,
        "only sk_keep"
    );
}

#[tokio::test]
async fn a_deleted_users_user_id_may_be_taken_by_a_new_user() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    store.delete_user(acme.id, ada.id).await.expect("deleted");

    let again = create_end_user(&store, acme.id, "ada").await;
    assert_ne!(again.id, ada.id);
    let subject = store
        .find_token_subject(acme.id, external_id("ada"))
        .await
        .expect("look-up works")
        .expect("the new user");
    assert_eq!(subject.user_id, again.id);

    // Joining a room by user_id finds the new user, never the deleted one.
    let joined = store
        .ensure_external_user(
            acme.id,
            external_id("ada"),
            PersonName::parse("Ada").expect("valid"),
        )
        .await
        .expect("found");
    assert_eq!(joined.id, again.id);
    store.delete_user(acme.id, again.id).await.expect("deleted");
    let made = store
        .ensure_external_user(
            acme.id,
            external_id("ada"),
            PersonName::parse("Ada III").expect("valid"),
        )
        .await
        .expect("made");
    assert!(made.id != ada.id && made.id != again.id);
    assert_eq!(made.name.as_str(), "Ada III");

    // A deleted user made without an external id no longer answers to its integer id,
    // which a new user may then take, by either way of making users.
    let bob = create_user(&store, acme.id, "Bob", "agent").await;
    let carol = create_user(&store, acme.id, "Carol", "agent").await;
    store.delete_user(acme.id, bob.id).await.expect("deleted");
    store.delete_user(acme.id, carol.id).await.expect("deleted");
    let taken = create_end_user(&store, acme.id, &bob.id.0.to_string()).await;
    assert_ne!(taken.id, bob.id);
    store
        .create_user(
            acme.id,
            new_user("Carol 2", None, "agent", Some(&carol.id.0.to_string())),
            TokenHash::of("ut_carol_2"),
        )
        .await
        .expect("a deleted user's integer id is free");
}
