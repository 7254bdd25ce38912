//! The delivery worker's side: claims, leases, outcomes, deactivation, pruning, the test
//! delivery, the backlog; and the webhooks themselves, tenant-scoped.

use std::collections::HashSet;
use std::time::Duration;

use chat_app::{Finished, StoreError, WebhookPatch, WebhookRef, WebhookStore, Window};
use chat_domain::{DEACTIVATE_AFTER_FAILURES, WebhookEvent, WebhookEvents};
use time::OffsetDateTime;

use super::{number, scene, send, webhook};
use crate::common::{Fixture, create_account, execute, fixture};

const LEASE: Duration = Duration::from_secs(30);

fn outcome(
    claimed: &chat_app::Claimed,
    status: Option<i32>,
    retry_in: Option<Duration>,
) -> Finished {
    let success = status.is_some_and(|s| (200..300).contains(&s));
    Finished {
        delivery: claimed.delivery,
        webhook: claimed.webhook.id,
        account: claimed.webhook.account_id,
        event: claimed.event.event.as_str().to_owned(),
        attempt: claimed.attempt,
        status_code: status,
        duration_ms: 12,
        error: (!success).then(|| "HTTP 500".to_owned()),
        success,
        retry_at: retry_in.map(|d| OffsetDateTime::now_utc() + d),
    }
}

fn window() -> Window {
    Window::new(0, 100, Window::MAX_LIMIT).expect("valid window")
}

#[tokio::test]
async fn concurrent_claimers_never_get_the_same_delivery() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store, "Acme").await;
    webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    for i in 0..60 {
        send(&store, s.acme.id, s.room.id, &s.ann, &format!("m{i}")).await;
    }
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_due(7, LEASE).await.expect("claimed");
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|c| (c.delivery_uuid, c.attempt)));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for claimer in claimers {
        for (uuid, attempt) in claimer.await.expect("joined") {
            assert_eq!(attempt, 1);
            assert!(seen.insert(uuid), "{uuid} claimed twice");
        }
    }
    assert_eq!(seen.len(), 60);
}

#[tokio::test]
async fn an_expired_lease_makes_a_delivery_claimable_again() {
    let Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let hook = webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    let message = send(&store, s.acme.id, s.room.id, &s.ann, "hi").await;
    let first = store.claim_due(10, LEASE).await.expect("claimed");
    assert_eq!(first.len(), 1);
    let claimed = &first[0];
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.webhook.id, hook.id);
    assert_eq!(claimed.client_id, s.acme.uuid);
    assert_eq!(claimed.event.event, WebhookEvent::MessageCreated);
    assert_eq!(claimed.event.message, Some(message.id));
    assert_eq!(claimed.event.room, Some(s.room.id));
    assert_eq!(claimed.event.user, Some(s.ann.id));
    // Leased: nobody else gets it.
    assert!(
        store
            .claim_due(10, LEASE)
            .await
            .expect("claimed")
            .is_empty()
    );
    // The claimer died; the lease runs out.
    execute(
        &db,
        "UPDATE webhook_deliveries SET leased_until = now() - interval '1 second'",
    );
    let again = store.claim_due(10, LEASE).await.expect("claimed");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery_uuid, claimed.delivery_uuid);
    assert_eq!(again[0].attempt, 2);
}

#[tokio::test]
async fn finishing_retries_fails_or_delivers() {
    let Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let hook = webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    send(&store, s.acme.id, s.room.id, &s.ann, "one").await;
    send(&store, s.acme.id, s.room.id, &s.ann, "two").await;
    let claimed = store.claim_due(10, LEASE).await.expect("claimed");
    assert_eq!(claimed.len(), 2);
    // The first: a 500, retried in an hour; not due until then.
    let deactivated = store
        .finish(
            outcome(&claimed[0], Some(500), Some(Duration::from_secs(3600))),
            5,
        )
        .await
        .expect("finished");
    assert!(!deactivated);
    // The second: failed for good.
    store
        .finish(outcome(&claimed[1], None, None), 5)
        .await
        .expect("finished");
    assert!(
        store
            .claim_due(10, LEASE)
            .await
            .expect("claimed")
            .is_empty()
    );
    let found = store
        .find_webhook(s.acme.id, WebhookRef::Uuid(hook.uuid))
        .await
        .expect("found");
    assert_eq!(found.failure_count, 2);
    assert!(found.is_active);
    // Due again: attempt 2, the same delivery id; delivered.
    execute(
        &db,
        "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE state = 'pending'",
    );
    let retried = store.claim_due(10, LEASE).await.expect("claimed");
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].delivery_uuid, claimed[0].delivery_uuid);
    assert_eq!(retried[0].attempt, 2);
    store
        .finish(outcome(&retried[0], Some(204), None), 5)
        .await
        .expect("finished");
    let found = store
        .find_webhook(s.acme.id, WebhookRef::Id(hook.id))
        .await
        .expect("found");
    assert_eq!(found.failure_count, 0);
    assert!(found.last_delivery_at.is_some());
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'delivered'"
        ),
        1
    );
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'failed'"
        ),
        1
    );
    // The log, newest first.
    let log = store
        .list_attempts(s.acme.id, WebhookRef::Uuid(hook.uuid), window())
        .await
        .expect("log");
    assert_eq!(log.total, 3);
    let summary: Vec<_> = log
        .items
        .iter()
        .map(|a| (a.delivery_uuid, a.attempt, a.status_code))
        .collect();
    assert_eq!(
        summary,
        [
            (claimed[0].delivery_uuid, 2, Some(204)),
            (claimed[1].delivery_uuid, 1, None),
            (claimed[0].delivery_uuid, 1, Some(500)),
        ]
    );
    assert_eq!(log.items[0].event, "message.created");
}

#[tokio::test]
async fn five_failures_in_a_row_deactivate_and_activation_resets() {
    let Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let hook = webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    for i in 0..6 {
        send(&store, s.acme.id, s.room.id, &s.ann, &format!("m{i}")).await;
    }
    let claimed = store.claim_due(5, LEASE).await.expect("claimed");
    assert_eq!(claimed.len(), 5);
    let mut answers = Vec::new();
    for c in &claimed {
        answers.push(
            store
                .finish(
                    outcome(c, Some(500), Some(Duration::from_secs(30))),
                    DEACTIVATE_AFTER_FAILURES,
                )
                .await
                .expect("finished"),
        );
    }
    assert_eq!(answers, [false, false, false, false, true]);
    let found = store
        .find_webhook(s.acme.id, WebhookRef::Id(hook.id))
        .await
        .expect("found");
    assert!(!found.is_active);
    assert_eq!(found.failure_count, 5);
    // Nothing left pending for a webhook switched off; nothing recorded for it any more.
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'pending'"
        ),
        0
    );
    send(&store, s.acme.id, s.room.id, &s.ann, "unheard").await;
    assert_eq!(
        number(&db, "SELECT count(*) AS n FROM webhook_deliveries"),
        6
    );
    let back = store
        .set_webhook_active(s.acme.id, WebhookRef::Uuid(hook.uuid), true)
        .await
        .expect("activated");
    assert!(back.is_active);
    assert_eq!(back.failure_count, 0);
}

#[tokio::test]
async fn pruning_removes_old_finished_work_only() {
    let Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    send(&store, s.acme.id, s.room.id, &s.ann, "done").await;
    let claimed = store.claim_due(10, LEASE).await.expect("claimed");
    store
        .finish(outcome(&claimed[0], Some(200), None), 5)
        .await
        .expect("finished");
    send(&store, s.acme.id, s.room.id, &s.ann, "pending").await;
    // Nothing is old yet.
    let week_ago = OffsetDateTime::now_utc() - Duration::from_secs(7 * 86_400);
    assert_eq!(store.prune(week_ago).await.expect("pruned"), 0);
    // Everything finished is older than "in a minute": the attempt, the delivery, its event.
    let later = OffsetDateTime::now_utc() + Duration::from_secs(60);
    assert_eq!(store.prune(later).await.expect("pruned"), 3);
    assert_eq!(number(&db, "SELECT count(*) AS n FROM webhook_attempts"), 0);
    assert_eq!(
        number(&db, "SELECT count(*) AS n FROM webhook_deliveries"),
        1
    );
    assert_eq!(number(&db, "SELECT count(*) AS n FROM webhook_events"), 1);
    let (pending, oldest) = store.backlog().await.expect("backlog");
    assert_eq!(pending, 1);
    assert!(
        oldest.is_some_and(|age| age < Duration::from_secs(60)),
        "{oldest:?}"
    );
}

#[tokio::test]
async fn a_test_delivery_is_recorded_leased_even_for_an_inactive_webhook() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store, "Acme").await;
    let hook = webhook(&store, s.acme.id, &["room.created"], vec![]).await;
    store
        .set_webhook_active(s.acme.id, WebhookRef::Id(hook.id), false)
        .await
        .expect("off");
    let claimed = store
        .record_test(s.acme.id, WebhookRef::Uuid(hook.uuid))
        .await
        .expect("recorded");
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.event.event, WebhookEvent::Test);
    assert_eq!(claimed.webhook.id, hook.id);
    assert_eq!(claimed.client_id, s.acme.uuid);
    // Already leased to the caller.
    assert!(
        store
            .claim_due(10, LEASE)
            .await
            .expect("claimed")
            .is_empty()
    );
    let other = create_account(&store, "Other", "ck_other").await;
    let foreign = store.record_test(other.id, WebhookRef::Id(hook.id)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
}

#[tokio::test]
async fn webhooks_are_kept_changed_and_deleted_within_their_account() {
    let Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let other = create_account(&store, "Other", "ck_other").await;
    let hook = webhook(&store, s.acme.id, &["message.created"], vec![s.room.uuid]).await;
    let theirs = webhook(&store, other.id, &["room.created"], vec![]).await;
    assert_eq!(hook.secret.expose(), "a-shared-secret-of-32-characters");
    assert_eq!(hook.room_filters, [s.room.uuid]);
    assert_eq!(hook.failure_count, 0);
    let page = store
        .list_webhooks(s.acme.id, window())
        .await
        .expect("listed");
    assert_eq!(page.total, 1);
    assert_eq!(page.items, std::slice::from_ref(&hook));
    for id in [WebhookRef::Id(theirs.id), WebhookRef::Uuid(theirs.uuid)] {
        assert!(matches!(
            store.find_webhook(s.acme.id, id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete_webhook(s.acme.id, id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.set_webhook_active(s.acme.id, id, false).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.list_attempts(s.acme.id, id, window()).await,
            Err(StoreError::NotFound)
        ));
    }
    let patch = WebhookPatch {
        url: None,
        events: Some(WebhookEvents::parse("events", &["room.joined", "room.left"]).expect("ok")),
        secret: None,
        custom_headers: None,
        room_filters: Some(Vec::new()),
        meta: None,
    };
    let foreign = store
        .update_webhook(other.id, WebhookRef::Id(hook.id), patch.clone())
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    let changed = store
        .update_webhook(s.acme.id, WebhookRef::Uuid(hook.uuid), patch)
        .await
        .expect("updated");
    assert_eq!(changed.events.names(), ["room.joined", "room.left"]);
    assert!(changed.room_filters.is_empty());
    assert_eq!(changed.url, hook.url);
    assert!(changed.updated_at >= hook.updated_at);
    store
        .delete_webhook(s.acme.id, WebhookRef::Id(hook.id))
        .await
        .expect("deleted");
    assert!(matches!(
        store.find_webhook(s.acme.id, WebhookRef::Id(hook.id)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(number(&db, "SELECT count(*) AS n FROM webhooks"), 1);
}

/// Successes recorded together: every attempt logged, every delivery delivered, each
/// webhook's failures reset and its last delivery set; another account's delivery named
/// with the wrong account is left alone.
#[tokio::test]
async fn successes_of_two_webhooks_are_recorded_together() {
    let Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    execute(&db, "UPDATE webhooks SET failure_count = 3");
    for i in 0..2 {
        send(&store, s.acme.id, s.room.id, &s.ann, &format!("m{i}")).await;
    }
    let claimed = store.claim_due(10, LEASE).await.expect("claimed");
    assert_eq!(claimed.len(), 4);
    let mut delivered: Vec<Finished> = claimed
        .iter()
        .map(|c| outcome(c, Some(200), None))
        .collect();
    // The last one named with another account: not recorded.
    let stray = delivered.len() - 1;
    delivered[stray].account = chat_domain::AccountId(s.acme.id.0 + 1000);
    store
        .finish_delivered(delivered)
        .await
        .expect("recorded together");
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'delivered' \
             AND leased_until IS NULL"
        ),
        3
    );
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_attempts WHERE error IS NULL"
        ),
        3
    );
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhooks WHERE failure_count = 0 \
             AND last_delivery_at IS NOT NULL"
        ),
        2
    );
    // Nothing to record is nothing done.
    store.finish_delivered(Vec::new()).await.expect("nothing");
}
