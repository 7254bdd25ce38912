//! End users themselves: creation, listing and search, changes, and the user a signed
//! token names.

use chat_app::{EndUserPatch, EndUserStore, StoreError, UserDirectory, UserStore};
use chat_domain::{AccountId, Availability, Email, PersonName, Role, TokenHash, UserId};
use chat_store_pg::PgStore;
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::json;
use time::macros::datetime;

use super::{create_end_user, end_user, external_id, meta, query, user_ids};
use crate::common::{
    Fixture, connect, count, create_account, create_user, execute, fixture, new_user,
};

#[tokio::test]
async fn an_end_user_round_trips_as_an_agent_with_its_meta_and_no_credential() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let mut new = end_user("user_123", "  Ada Lovelace  ", Some("Ada@Example.com"));
    new.meta = meta(json!({"plan": "pro", "tags": ["a", 1], "nested": {"x": null}}));

    let created = store
        .create_end_user(acme.id, new.clone())
        .await
        .expect("end user created");
    assert!(created.id.0 > 0);
    assert_eq!(created.account_id, acme.id);
    assert_eq!(created.external_id, Some(external_id("user_123")));
    assert_eq!(created.chat_user_id(), "user_123");
    assert_eq!(created.name.as_str(), "Ada Lovelace");
    assert_eq!(
        created.email.as_ref().map(Email::as_str),
        Some("Ada@Example.com")
    );
    assert_eq!(created.role, Role::Agent);
    assert_eq!(created.availability, Availability::Offline);
    assert!(created.is_active);
    assert_eq!(created.meta, new.meta);
    assert_eq!(created.created_at, created.updated_at);
    // No credential of its own: it logs in with scoped keys or signed tokens.
    assert_eq!(count(&db, "credentials"), 1, "only the API key");

    let found = store
        .find_by_chat_id(acme.id, "user_123".to_owned())
        .await
        .expect("look-up works");
    assert_eq!(found, Some(created.clone()));
    let listed = store.list_users(acme.id).await.expect("users listed");
    assert_eq!(listed, vec![created]);
}

#[tokio::test]
async fn platform_users_get_an_empty_meta_and_are_active() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let platform = create_user(&store, acme.id, "Bob", "administrator").await;
    assert!(platform.is_active);
    assert_eq!(platform.meta, meta(json!({})));
    let joined = store
        .ensure_external_user(
            acme.id,
            external_id("joiner"),
            PersonName::parse("Joiner").expect("valid name"),
        )
        .await
        .expect("user made on join");
    assert!(joined.is_active);
    assert_eq!(joined.meta, meta(json!({})));
    assert_eq!(joined.role, Role::Agent);
}

#[tokio::test]
async fn a_taken_user_id_or_email_is_a_duplicate_of_that_field() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    store
        .create_end_user(acme.id, end_user("ada", "Ada", Some("ada@example.com")))
        .await
        .expect("first user created");

    let same_id = store
        .create_end_user(acme.id, end_user("ada", "Ada 2", Some("ada2@example.com")))
        .await;
    assert!(
        matches!(same_id, Err(StoreError::Duplicate("user_id"))),
        "{same_id:?}"
    );
    let same_email = store
        .create_end_user(acme.id, end_user("ada3", "Ada 3", Some("ADA@EXAMPLE.com")))
        .await;
    assert!(
        matches!(same_email, Err(StoreError::Duplicate("email"))),
        "{same_email:?}"
    );

    // A user made without an external id answers to its integer id: no one else may.
    let platform = create_user(&store, acme.id, "Bob", "agent").await;
    let shadow = store
        .create_end_user(
            acme.id,
            end_user(&platform.id.0.to_string(), "Shadow", None),
        )
        .await;
    assert!(
        matches!(shadow, Err(StoreError::Duplicate("user_id"))),
        "{shadow:?}"
    );
    assert_eq!(count(&db, "users"), 2, "refused users leave no row");

    // Another spelling of the number is another user_id; another account is another world.
    store
        .create_end_user(
            acme.id,
            end_user(&format!("0{}", platform.id.0), "Zero", None),
        )
        .await
        .expect("not the canonical spelling of an id");
    let elsewhere = store
        .create_end_user(other.id, end_user("ada", "Ada", Some("ada@example.com")))
        .await
        .expect("the same user_id and email in another account are fine");
    assert_eq!(elsewhere.account_id, other.id);
}

#[tokio::test]
async fn an_end_user_of_a_missing_account_is_not_found() {
    let Fixture { store, db } = fixture();
    let result = store
        .create_end_user(AccountId(4242), end_user("ada", "Ada", None))
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(count(&db, "users"), 0);
}

#[tokio::test]
async fn the_list_is_oldest_first_windowed_counted_and_of_the_account_only() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    for user_id in ["u1", "u2", "u3"] {
        create_end_user(&store, acme.id, user_id).await;
    }
    let platform = create_user(&store, acme.id, "Platform", "agent").await;
    create_end_user(&store, other.id, "theirs").await;
    create_end_user(&store, acme.id, "u5").await;

    let (all, total) = store
        .list_end_users(acme.id, query(0, 100, None))
        .await
        .expect("listed");
    let platform_id = platform.id.0.to_string();
    assert_eq!(
        user_ids(&all),
        ["u1", "u2", "u3", platform_id.as_str(), "u5"]
    );
    assert_eq!(total, 5);

    let (page, total) = store
        .list_end_users(acme.id, query(1, 2, None))
        .await
        .expect("listed");
    assert_eq!(user_ids(&page), ["u2", "u3"]);
    assert_eq!(total, 5, "the total counts every page");

    let (past_the_end, total) = store
        .list_end_users(acme.id, query(10, 2, None))
        .await
        .expect("listed");
    assert!(past_the_end.is_empty());
    assert_eq!(total, 5);

    let (theirs, total) = store
        .list_end_users(other.id, query(0, 100, None))
        .await
        .expect("listed");
    assert_eq!(user_ids(&theirs), ["theirs"]);
    assert_eq!(total, 1);
}

/// The user_ids matching `text`, checking that the total counts them.
async fn matching_ids(store: &PgStore, account: AccountId, text: String) -> Vec<String> {
    let (users, total) = store
        .list_end_users(account, query(0, 100, Some(&text)))
        .await
        .expect("searched");
    assert_eq!(total, i64::try_from(users.len()).expect("small"), "{text}");
    user_ids(&users)
}

#[tokio::test]
async fn search_finds_the_user_id_name_or_email_ignoring_case() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    store
        .create_end_user(
            acme.id,
            end_user("alice-01", "Alice Smith", Some("a@home.io")),
        )
        .await
        .expect("created");
    store
        .create_end_user(acme.id, end_user("b-02", "Robert", Some("BOB@Corp.io")))
        .await
        .expect("created");
    let platform = store
        .create_user(
            acme.id,
            new_user("Carol", None, "agent", None),
            TokenHash::of("ut_carol"),
        )
        .await
        .expect("created");
    store
        .create_end_user(other.id, end_user("alice-99", "Alice Other", None))
        .await
        .expect("created");

    let search = |text: &str| matching_ids(&store, acme.id, text.to_owned());
    assert_eq!(search("ALICE").await, ["alice-01"], "user_id and name");
    assert_eq!(search("smith").await, ["alice-01"], "name");
    assert_eq!(search("corp.IO").await, ["b-02"], "email");
    assert_eq!(search("-0").await, ["alice-01", "b-02"]);
    // A user made without an external id is found by the integer id it answers to.
    let carol = platform.id.0.to_string();
    assert_eq!(search("carol").await, [carol.as_str()]);
    assert_eq!(search(&carol).await, [carol.as_str()]);
    assert!(search("nobody").await.is_empty());

    let (page, total) = store
        .list_end_users(acme.id, query(1, 1, Some("o")))
        .await
        .expect("searched");
    assert_eq!(user_ids(&page), ["b-02"], "a window of the matches");
    assert_eq!(total, 3, "every match counted: Alice, Robert and Carol");
}

#[tokio::test]
async fn search_takes_percent_underscore_and_backslash_literally() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    for (user_id, name) in [
        ("p", "100% done"),
        ("u", "snake_case"),
        ("b", "C:\\dir"),
        ("plain", "nothing special"),
    ] {
        store
            .create_end_user(acme.id, end_user(user_id, name, None))
            .await
            .expect("created");
    }
    for (search, expected) in [("%", "p"), ("_", "u"), ("\\", "b"), ("e_c", "u")] {
        let (users, total) = store
            .list_end_users(acme.id, query(0, 100, Some(search)))
            .await
            .expect("searched");
        assert_eq!(user_ids(&users), [expected], "{search:?}");
        assert_eq!(total, 1, "{search:?}");
    }
}

#[tokio::test]
async fn the_user_id_search_expression_is_the_one_the_trigram_index_serves() {
    let Fixture { store: _store, db } = fixture();
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let mut conn = connect(&db);
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .expect("set");
    // The spelling of the store's expression (pinned by a unit test of the crate), alone:
    // with sequential scans off, only an index on that very expression can serve it.
    let plan: Vec<Plan> = diesel::sql_query(
        "EXPLAIN SELECT id FROM users WHERE \
         coalesce(\"users\".\"external_id\", CAST(\"users\".\"id\" AS text)) ILIKE '%abc%'",
    )
    .load(&mut conn)
    .expect("explained");
    let plan: Vec<String> = plan.into_iter().map(|p| p.line).collect();
    assert!(
        plan.iter()
            .any(|line| line.contains("users_chat_user_id_trgm_idx")),
        "{plan:#?}"
    );
}

#[tokio::test]
async fn an_update_changes_the_given_fields_only() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let mut new = end_user("ada", "Ada", Some("ada@example.com"));
    new.meta = meta(json!({"plan": "free"}));
    let created = store.create_end_user(acme.id, new).await.expect("created");
    store
        .create_end_user(acme.id, end_user("bob", "Bob", Some("bob@example.com")))
        .await
        .expect("created");

    let renamed = store
        .update_end_user(
            acme.id,
            created.id,
            EndUserPatch {
                name: Some(PersonName::parse("Ada L.").expect("valid")),
                meta: Some(meta(json!({"plan": "pro"}))),
                ..EndUserPatch::default()
            },
        )
        .await
        .expect("updated");
    assert_eq!(renamed.name.as_str(), "Ada L.");
    assert_eq!(renamed.meta, meta(json!({"plan": "pro"})));
    assert_eq!(renamed.email, created.email);
    assert!(renamed.is_active);
    assert_eq!(renamed.external_id, created.external_id);
    assert!(renamed.updated_at > created.updated_at);

    let deactivated = store
        .update_end_user(
            acme.id,
            created.id,
            EndUserPatch {
                is_active: Some(false),
                ..EndUserPatch::default()
            },
        )
        .await
        .expect("updated");
    assert!(!deactivated.is_active);
    assert_eq!(deactivated.name, renamed.name);
    assert_eq!(deactivated.meta, renamed.meta);

    let nothing = store
        .update_end_user(acme.id, created.id, EndUserPatch::default())
        .await
        .expect("an empty patch only moves updated_at");
    assert_eq!(nothing.name, deactivated.name);
    assert!(!nothing.is_active);

    let taken = store
        .update_end_user(
            acme.id,
            created.id,
            EndUserPatch {
                email: Some(Email::parse("BOB@example.com").expect("valid")),
                ..EndUserPatch::default()
            },
        )
        .await;
    assert!(
        matches!(taken, Err(StoreError::Duplicate("email"))),
        "{taken:?}"
    );
}

#[tokio::test]
async fn another_accounts_or_a_missing_user_is_not_updated() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    let patch = EndUserPatch {
        is_active: Some(false),
        ..EndUserPatch::default()
    };
    for (account, user) in [(other.id, ada.id), (acme.id, UserId(4242))] {
        let result = store.update_end_user(account, user, patch.clone()).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
    let unchanged = store
        .find_by_chat_id(acme.id, "ada".to_owned())
        .await
        .expect("look-up works")
        .expect("still there");
    assert!(unchanged.is_active);
}

#[tokio::test]
async fn a_token_subject_is_found_as_every_chatapi_user_id_is() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_a").await;
    let other = create_account(&store, "Other", "ck_b").await;
    let ada = create_end_user(&store, acme.id, "ada").await;
    let platform = create_user(&store, acme.id, "Bob", "agent").await;

    let subject = store
        .find_token_subject(acme.id, external_id("ada"))
        .await
        .expect("look-up works")
        .expect("found");
    assert_eq!(subject.user_id, ada.id);
    assert!(subject.is_active);
    assert_eq!(subject.tokens_valid_after, None);

    // A user without an external id answers to its integer id.
    let by_number = store
        .find_token_subject(acme.id, external_id(&platform.id.0.to_string()))
        .await
        .expect("look-up works")
        .expect("found");
    assert_eq!(by_number.user_id, platform.id);
    // A user with an external id does not answer to its integer id.
    let not_by_number = store
        .find_token_subject(acme.id, external_id(&ada.id.0.to_string()))
        .await
        .expect("look-up works");
    assert_eq!(not_by_number, None);

    execute(
        &db,
        &format!(
            "UPDATE users SET is_active = false, \
             tokens_valid_after = '2030-01-02T03:04:05.123456Z' WHERE id = {}",
            ada.id.0
        ),
    );
    let inactive = store
        .find_token_subject(acme.id, external_id("ada"))
        .await
        .expect("look-up works")
        .expect("found");
    assert!(!inactive.is_active);
    assert_eq!(
        inactive.tokens_valid_after,
        Some(datetime!(2030-01-02 03:04:05.123456 UTC))
    );

    for (account, user_id) in [(other.id, "ada"), (acme.id, "nobody")] {
        let missing = store
            .find_token_subject(account, external_id(user_id))
            .await
            .expect("look-up works");
        assert_eq!(missing, None, "{user_id} in {account:?}");
    }
}
