//! Delivering: signature, headers, retries, the test delivery.

use super::*;

#[test]
fn signature_is_hmac_sha256_of_the_exact_body() {
    // Computed independently (Python: hmac.new(key, body, hashlib.sha256).hexdigest()).
    let secret = WebhookSecret::parse(SECRET).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        signature(&secret, br#"{"id":"evt_1"}"#),
        "sha256=97f6a0ad6a00748584d0b853c57cb89ab530dca2353d5394328ee6e8dbaff256"
    );
}

#[tokio::test]
async fn a_delivery_is_signed_with_its_headers_in_order() {
    let mut mocks = Mocks::new();
    let sent = answer(&mut mocks, Some(204));
    let finished = finished_log(&mut mocks, false);
    quiet_loop(&mut mocks, vec![claimed(event(WebhookEvent::Test), 1)]);
    let delivery = mocks.delivery(RetrySchedule::default());
    assert_eq!(
        delivery.run_once().await.unwrap_or_else(|e| panic!("{e}")),
        1
    );
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner());
    let outgoing = &sent[0];
    let names: Vec<&str> = outgoing.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "X-Token",
            "Content-Type",
            "User-Agent",
            "X-ChatAPI-Event",
            "X-ChatAPI-Delivery",
            "X-ChatAPI-Timestamp",
            "X-ChatAPI-Signature"
        ]
    );
    let header = |name: &str| {
        outgoing
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("Content-Type"), "application/json");
    assert_eq!(header("X-ChatAPI-Event"), "webhook.test");
    assert_eq!(
        header("X-ChatAPI-Delivery"),
        Uuid::from_u128(0xD0).to_string()
    );
    assert!(header("X-ChatAPI-Timestamp").parse::<i64>().is_ok());
    assert!(header("User-Agent").starts_with("chat-rooms-webhooks/"));
    let secret = WebhookSecret::parse(SECRET).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        header("X-ChatAPI-Signature"),
        signature(&secret, &outgoing.body)
    );
    let body: Value = serde_json::from_slice(&outgoing.body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        body["id"],
        format!("evt_{}", Uuid::from_u128(0xE0).simple())
    );
    assert_eq!(body["event"], "webhook.test");
    assert_eq!(body["created_at"], "2024-05-06T07:08:09Z");
    assert_eq!(
        body["meta"],
        json!({
            "client_id": CLIENT,
            "webhook_id": Uuid::from_u128(0x77),
            "delivery_id": Uuid::from_u128(0xD0),
            "attempt": 1,
        })
    );
    let finished = finished.lock().unwrap_or_else(|e| e.into_inner());
    assert!(finished[0].success && finished[0].retry_at.is_none());
    assert_eq!(finished[0].status_code, Some(204));
    assert_eq!(delivery.counts().delivered, 1);
}

#[tokio::test]
async fn failures_are_retried_on_the_schedule_then_fail() {
    let mut mocks = Mocks::new();
    let _sent = answer(&mut mocks, Some(500));
    let finished = finished_log(&mut mocks, true);
    quiet_loop(
        &mut mocks,
        vec![
            claimed(event(WebhookEvent::Test), 1),
            claimed(event(WebhookEvent::Test), 2),
        ],
    );
    let delivery = mocks.delivery(RetrySchedule(vec![Duration::from_secs(30)]));
    let before = time::OffsetDateTime::now_utc();
    delivery.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    let mut finished = finished.lock().unwrap_or_else(|e| e.into_inner()).clone();
    finished.sort_by_key(|f| f.attempt);
    assert!(!finished[0].success);
    assert_eq!(finished[0].error.as_deref(), Some("HTTP 500"));
    let retry_at = finished[0].retry_at.unwrap_or_else(|| panic!("no retry"));
    assert!(retry_at >= before + Duration::from_secs(30));
    assert!(retry_at <= time::OffsetDateTime::now_utc() + Duration::from_secs(30));
    assert!(!finished[1].success && finished[1].retry_at.is_none());
    let counts = delivery.counts();
    assert_eq!((counts.retry, counts.failed, counts.delivered), (1, 1, 0));
}

#[tokio::test]
async fn a_sender_error_is_recorded_as_the_attempts_error() {
    let mut mocks = Mocks::new();
    mocks.sender.expect_post().returning(|_| Response {
        status: None,
        duration: Duration::from_secs(10),
        error: Some("timed out".into()),
    });
    let finished = finished_log(&mut mocks, false);
    quiet_loop(&mut mocks, vec![claimed(event(WebhookEvent::Test), 1)]);
    mocks
        .delivery(RetrySchedule::default())
        .run_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let finished = finished.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(finished[0].error.as_deref(), Some("timed out"));
    assert_eq!(finished[0].duration_ms, 10_000);
    assert_eq!(finished[0].status_code, None);
}

#[tokio::test]
async fn test_delivers_now_and_answers_the_attempt() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_record_test()
        .times(1)
        .returning(|account, id| {
            assert_eq!(account, ACCOUNT);
            assert_eq!(id, WebhookRef::Uuid(Uuid::from_u128(0x77)));
            Ok(claimed(event(WebhookEvent::Test), 1))
        });
    let sent = answer(&mut mocks, Some(200));
    let _finished = finished_log(&mut mocks, false);
    let attempt = mocks
        .webhooks()
        .test(&api_key(), WebhookRef::Uuid(Uuid::from_u128(0x77)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(attempt.event, "webhook.test");
    assert_eq!(attempt.status_code, Some(200));
    assert_eq!(attempt.attempt, 1);
    assert_eq!(attempt.error, None);
    assert_eq!(attempt.delivery_uuid, Uuid::from_u128(0xD0));
    assert_eq!(
        body_of(&sent)["data"]["webhook_id"],
        json!(Uuid::from_u128(0x77))
    );
}

#[tokio::test]
async fn the_test_is_refused_to_agents() {
    let mut mocks = Mocks::new();
    mocks.store.expect_record_test().never();
    let result = mocks
        .webhooks()
        .test(&user(Role::Agent, None), WebhookRef::Id(WebhookId(7)))
        .await;
    assert!(matches!(result, Err(AppError::Forbidden(_))));
}

/// A round's failures are recorded one by one, as they come (one may deactivate the
/// webhook); its successes together, in one call, once the round's attempts are made.
#[tokio::test]
async fn a_rounds_successes_are_recorded_together_and_its_failures_alone() {
    let mut mocks = Mocks::new();
    // Delivery 3's first attempt fails, every other delivery succeeds.
    mocks.sender.expect_post().returning(|outgoing| {
        let failing = outgoing
            .headers
            .iter()
            .any(|(name, value)| name == "X-ChatAPI-Delivery" && value.ends_with("d3"));
        Response {
            status: Some(if failing { 500 } else { 200 }),
            duration: Duration::from_millis(5),
            error: None,
        }
    });
    mocks
        .store
        .expect_finish()
        .withf(|finished, _| !finished.success && finished.delivery == 3)
        .times(1)
        .returning(|_, _| Ok(false));
    mocks
        .store
        .expect_finish_delivered()
        .withf(|delivered| {
            let mut ids: Vec<i64> = delivered.iter().map(|f| f.delivery).collect();
            ids.sort_unstable();
            ids == [1, 2, 4] && delivered.iter().all(|f| f.success && f.error.is_none())
        })
        .times(1)
        .returning(|_| Ok(()));
    let round: Vec<Claimed> = (1..=4)
        .map(|n| Claimed {
            delivery: n,
            delivery_uuid: Uuid::from_u128(0xD0 + n as u128),
            ..claimed(event(WebhookEvent::Test), 1)
        })
        .collect();
    quiet_loop(&mut mocks, round);
    let delivery = mocks.delivery(RetrySchedule::default());
    assert_eq!(
        delivery.run_once().await.unwrap_or_else(|e| panic!("{e}")),
        4
    );
    let counts = delivery.counts();
    assert_eq!((counts.delivered, counts.retry, counts.failed), (3, 1, 0));
}
