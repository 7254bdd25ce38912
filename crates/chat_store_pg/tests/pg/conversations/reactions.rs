//! Reactions: several users, a repeat, removal, the 20-emoji limit, the summary's order,
//! and the webhook event recorded with a change.

use chat_app::{ConversationStore, MessageFilter, MessageStore, StoreError};
use chat_domain::{Emoji, MAX_EMOJI_PER_MESSAGE, MessageId, Reactions, User, UserId};

use super::{Scene, assert_not_found, find, person, scene, send, text, window};
use crate::common::{Fixture, fixture};
use crate::webhooks::{events_of, names, number, webhook};

fn emoji(raw: &str) -> Emoji {
    Emoji::parse(raw).expect("valid emoji")
}

/// The summary as (emoji, [user ids]).
fn summary(reactions: &Reactions) -> Vec<(String, Vec<UserId>)> {
    reactions
        .iter()
        .map(|r| (r.emoji().to_owned(), r.users().map(|(id, _)| id).collect()))
        .collect()
}

#[tokio::test]
async fn reactions_of_several_users_are_summed_up_on_the_message_in_order() {
    let Fixture { store, db } = fixture();
    let Scene {
        acme,
        ann,
        ben,
        cid,
        dee,
        general,
        other,
        eve,
        ..
    } = scene(&store).await;
    let a = acme.id;
    let message = send(&store, a, general.id, text(&ann, "party?")).await;
    let react = async |user: &User, raw: &str, add: bool| {
        store
            .react(a, message.id, emoji(raw), user.id, add)
            .await
            .expect("reacted")
    };

    let (after, by) = react(&ann, "👍", true).await;
    assert_eq!(by, Some(person(&ann)));
    assert_eq!(summary(&after.reactions), [("👍".to_owned(), vec![ann.id])]);
    react(&ben, "🎉", true).await;
    react(&ben, "👍", true).await;
    let (after, by) = react(&dee, "🎉", true).await;
    assert_eq!(by.map(|p| p.label), Some("dee".to_owned()));
    let expected = vec![
        ("👍".to_owned(), vec![ann.id, ben.id]),
        ("🎉".to_owned(), vec![ben.id, dee.id]),
    ];
    assert_eq!(summary(&after.reactions), expected);
    assert_eq!(after.reactions.to_vec()[1].users[1], person(&dee));
    assert_eq!(after.reactions.to_vec()[0].count(), 2);

    // A repeat is no change: nothing answered as changed, the summary as it was.
    let (same, by) = react(&ann, "👍", true).await;
    assert_eq!((summary(&same.reactions), by), (expected.clone(), None));
    // Removing what is not there: the same.
    let (same, by) = react(&cid, "👍", false).await;
    assert_eq!((summary(&same.reactions), by), (expected.clone(), None));

    // Every reading of the message shows the summary.
    assert_eq!(
        summary(&find(&store, a, message.id).await.reactions),
        expected
    );
    let (page, _) = store
        .list_messages(a, general.id, MessageFilter::newest(window(0, 10)))
        .await
        .expect("listed");
    assert_eq!(summary(&page[0].reactions), expected);

    // Removing: the user goes, and the emoji takes its place by the reactions left (Ben's
    // 👍 came after his 🎉); the last user takes the emoji away.
    let (after, by) = react(&ann, "👍", false).await;
    assert_eq!(by, Some(person(&ann)));
    let expected = vec![
        ("🎉".to_owned(), vec![ben.id, dee.id]),
        ("👍".to_owned(), vec![ben.id]),
    ];
    assert_eq!(summary(&after.reactions), expected);
    let (after, _) = react(&ben, "👍", false).await;
    assert_eq!(summary(&after.reactions), expected[..1]);
    react(&ann, "👋", true).await;
    let (after, _) = react(&ann, "👍", true).await;
    assert_eq!(
        summary(&after.reactions),
        [
            ("🎉".to_owned(), vec![ben.id, dee.id]),
            ("👋".to_owned(), vec![ann.id]),
            ("👍".to_owned(), vec![ann.id])
        ]
    );
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM message_reactions WHERE message_id = {}",
                message.id.0
            )
        ),
        4
    );

    // Not found: another account's message or user, no message, a deleted message.
    assert_not_found(
        store
            .react(other.id, message.id, emoji("👍"), eve.id, true)
            .await,
    );
    assert_not_found(store.react(a, message.id, emoji("👍"), eve.id, true).await);
    assert_not_found(
        store
            .react(a, MessageId(i64::MAX), emoji("👍"), ann.id, true)
            .await,
    );
    store
        .set_message_deleted(a, message.id, true, None)
        .await
        .expect("deleted");
    assert_not_found(store.react(a, message.id, emoji("👍"), cid.id, true).await);
    assert_not_found(store.react(a, message.id, emoji("👍"), ann.id, false).await);
}

#[tokio::test]
async fn a_message_takes_twenty_distinct_emoji_and_no_more() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let a = s.acme.id;
    let message = send(&store, a, s.general.id, text(&s.ann, "so many")).await;
    let codes: Vec<String> = (0..=MAX_EMOJI_PER_MESSAGE)
        .map(|i| format!(":e{i}:"))
        .collect();
    for code in &codes[..MAX_EMOJI_PER_MESSAGE] {
        store
            .react(a, message.id, emoji(code), s.ann.id, true)
            .await
            .expect("reacted");
    }
    let result = store
        .react(
            a,
            message.id,
            emoji(&codes[MAX_EMOJI_PER_MESSAGE]),
            s.ben.id,
            true,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::LimitReached)),
        "{result:?}"
    );
    // One of the twenty, by someone else, still counts; a repeat too.
    let (after, by) = store
        .react(a, message.id, emoji(":e3:"), s.ben.id, true)
        .await
        .expect("reacted");
    assert_eq!(by, Some(person(&s.ben)));
    assert_eq!(after.reactions.len(), MAX_EMOJI_PER_MESSAGE);
    assert_eq!(after.reactions.to_vec()[3].users.len(), 2);
    store
        .react(a, message.id, emoji(":e0:"), s.ann.id, true)
        .await
        .expect("a repeat");
    // Room again once one goes.
    store
        .react(a, message.id, emoji(":e0:"), s.ann.id, false)
        .await
        .expect("removed");
    let (after, _) = store
        .react(
            a,
            message.id,
            emoji(&codes[MAX_EMOJI_PER_MESSAGE]),
            s.ben.id,
            true,
        )
        .await
        .expect("reacted");
    let order: Vec<&str> = after.reactions.iter().map(|r| r.emoji()).collect();
    assert_eq!(order.first(), Some(&":e1:"));
    assert_eq!(order.last(), Some(&":e20:"));
}

#[tokio::test]
async fn a_change_records_its_webhook_event_only_for_a_subscriber() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let a = s.acme.id;
    let message = send(&store, a, s.general.id, text(&s.ann, "hi")).await;
    store
        .react(a, message.id, emoji("👍"), s.ben.id, true)
        .await
        .expect("reacted");
    assert_eq!(events_of(&db, a), Vec::<String>::new());

    let hook = webhook(&store, a, &["reaction.added"], vec![]).await;
    store
        .react(a, message.id, emoji("🎉"), s.dee.id, true)
        .await
        .expect("reacted");
    // A repeat, and a removal nobody subscribes to: nothing.
    store
        .react(a, message.id, emoji("🎉"), s.dee.id, true)
        .await
        .expect("repeat");
    store
        .react(a, message.id, emoji("👍"), s.ben.id, false)
        .await
        .expect("removed");
    assert_eq!(events_of(&db, a), ["reaction.added"]);
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = {}",
                hook.id.0
            )
        ),
        1
    );
    let recorded = names(
        &db,
        "SELECT concat_ws(' ', message_id, user_id, room_id, data::text) AS name \
           FROM webhook_events",
    );
    let data = serde_json::json!({
        "message_id": message.uuid,
        "room_id": s.general.uuid,
        "emoji": "🎉",
        "user_id": "dee",
    });
    let stored: serde_json::Value =
        serde_json::from_str(recorded[0].splitn(4, ' ').nth(3).expect("data recorded"))
            .expect("json data");
    assert_eq!(
        recorded[0].split(' ').take(3).collect::<Vec<_>>(),
        [
            message.id.0.to_string(),
            s.dee.id.0.to_string(),
            s.general.id.0.to_string()
        ]
    );
    assert_eq!(stored, data);

    webhook(&store, a, &["reaction.removed"], vec![]).await;
    store
        .react(a, message.id, emoji("🎉"), s.dee.id, false)
        .await
        .expect("removed");
    assert_eq!(events_of(&db, a), ["reaction.added", "reaction.removed"]);
}

/// The summary's text of `message`, read behind the store's back.
fn stored_summary(db: &chat_test_db::TestDatabase, message: MessageId) -> String {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Summary {
        #[diesel(sql_type = diesel::sql_types::Text)]
        reactions: String,
    }
    diesel::sql_query(format!(
        "SELECT reactions::text AS reactions FROM messages WHERE id = {}",
        message.0
    ))
    .get_result::<Summary>(&mut crate::common::connect(db))
    .expect("the summary")
    .reactions
}

/// Migration 2026-12-07-000001 turns the JSON summaries into the stored form of
/// `Reactions`, rebuilt from the reactions' rows; its down migration turns them back. Both
/// directions on a message that has reactions, then the store reads what the up migration
/// wrote as it reads its own.
#[tokio::test]
async fn the_stored_form_migration_rebuilds_summaries_both_ways() {
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};

    const STORED_FORM: &str = "20261207000001";
    let Fixture { store, db } = fixture();
    let Scene {
        acme,
        ann,
        ben,
        general,
        ..
    } = scene(&store).await;
    let a = acme.id;
    let message = send(&store, a, general.id, text(&ann, "migrate me")).await;
    for (user, raw) in [(&ann, "👍"), (&ben, "👍"), (&ben, ":tada:")] {
        store
            .react(a, message.id, emoji(raw), user.id, true)
            .await
            .expect("reacted");
    }
    let (ann_label, ben_label) = (person(&ann).label, person(&ben).label);
    let written = stored_summary(&db, message.id);
    assert_eq!(
        written,
        format!(
            "👍\t{}\x1f{ann_label}\t{}\x1f{ben_label}\n:tada:\t{}\x1f{ben_label}\n",
            ann.id.0, ben.id.0, ben.id.0
        )
    );

    let migrations =
        FileBasedMigrations::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
            .expect("the migrations");
    let mut conn = crate::common::connect(&db);
    // Back to before the stored form (and any migration after it).
    loop {
        let reverted = conn
            .revert_last_migration(migrations.clone())
            .expect("a migration reverted");
        if reverted.to_string() == STORED_FORM {
            break;
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&stored_summary(&db, message.id)).expect("JSON again");
    assert_eq!(
        json,
        serde_json::json!([
            { "emoji": "👍", "users": [[ann.id.0, ann_label], [ben.id.0, ben_label]] },
            { "emoji": ":tada:", "users": [[ben.id.0, ben_label]] },
        ])
    );
    conn.run_pending_migrations(migrations)
        .expect("migrated up again");
    assert_eq!(stored_summary(&db, message.id), written);
    let read = find(&store, a, message.id).await;
    assert_eq!(read.reactions.as_stored(), written);
}
