//! Rate limits (CONTRACT §8): every credential's allowance reported in `X-RateLimit-*`,
//! 429 with `Retry-After` in each dialect's shape, a smaller allowance for sends, and
//! failed authentications limited per client address.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chat_tests::*;
use chatd::Settings;
use serde_json::json;

const ME: &str = "/api/v1/clients/me";

/// Requests of one credential: `burst` at once, then one a second; sends likewise.
fn allowances(requests: u32, sends: u32) -> impl FnOnce(&mut Settings) {
    move |settings| {
        settings.rate.rate_per_sec = 1;
        settings.rate.rate_burst = requests;
        settings.rate.rate_sends_per_sec = 1;
        settings.rate.rate_sends_burst = sends;
    }
}

fn number(reply: &Reply, header: &str) -> u64 {
    reply
        .header(header)
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{header} is missing or not a number: {:?}", reply.headers))
}

/// Calls `path` with `headers` until a 429, which it answers (at most `tries` calls).
async fn until_refused(app: &TestApp, path: &str, headers: &[(&str, &str)], tries: usize) -> Reply {
    for _ in 0..tries {
        let reply = app.get(path, headers).await;
        if reply.status == 429 {
            return reply;
        }
    }
    panic!("{path} was never refused in {tries} calls");
}

#[actix_web::test]
async fn every_answer_to_a_credential_reports_its_allowance_counting_down() {
    let app = TestApp::spawn_with(allowances(20, 20)).await;
    let acme = app.tenant("Acme").await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let reply = app.get(ME, &[api_key_header(&acme.api_key)]).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(number(&reply, "x-ratelimit-limit"), 20);
        assert!(number(&reply, "x-ratelimit-reset") >= now);
        seen.push(number(&reply, "x-ratelimit-remaining"));
    }
    // One a second refills: the count goes down as long as the calls take under a second.
    assert!(seen.windows(2).all(|pair| pair[1] <= pair[0]), "{seen:?}");
    assert!(seen[2] < seen[0], "{seen:?}");

    // A request without a credential is not counted and carries no allowance.
    let reply = app.get("/health", &[]).await;
    assert_eq!(reply.header("x-ratelimit-limit"), None);
}

#[actix_web::test]
async fn a_spent_allowance_is_429_with_retry_after_in_each_dialect() {
    let app = TestApp::spawn_with(allowances(5, 5)).await;
    let acme = app.tenant("Acme").await;

    let reply = until_refused(&app, ME, &[api_key_header(&acme.api_key)], 10).await;
    let error = assert_chatapi_error(&reply, 429, "RATE_LIMITED", "ChatAPI");
    let retry_after = number(&reply, "retry-after");
    assert!(retry_after >= 1, "{retry_after}");
    assert_eq!(error["details"]["retry_after"], json!(retry_after));
    assert_eq!(number(&reply, "x-ratelimit-remaining"), 0);
    assert_eq!(number(&reply, "x-ratelimit-limit"), 5);

    let rooms = chat_rooms_path(acme.id);
    let reply = until_refused(&app, &rooms, &[("api_access_token", &acme.admin_token)], 10).await;
    let message = assert_account_error(&reply, 429, "account");
    assert_eq!(message, "Too many requests");
    assert!(number(&reply, "retry-after") >= 1);
}

#[actix_web::test]
async fn one_credentials_exhaustion_leaves_another_untouched() {
    let app = TestApp::spawn_with(allowances(5, 5)).await;
    let acme = app.tenant("Acme").await;
    let rooms = chat_rooms_path(acme.id);
    until_refused(&app, &rooms, &[("api_access_token", &acme.admin_token)], 10).await;

    let reply = app
        .get(&rooms, &[("api_access_token", &acme.agent_token)])
        .await;
    assert_ne!(reply.status, 429, "{}", reply.text());
    assert_eq!(number(&reply, "x-ratelimit-remaining"), 4);
}

#[actix_web::test]
async fn a_refused_send_stores_nothing_and_the_credential_recovers_after_retry_after() {
    let app = TestApp::spawn_with(allowances(100, 1)).await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Limits" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let joined = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": "crm-ann", "user_name": "Ann" }),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text());
    let body = json!({ "sender_id": "crm-ann", "content": "hello" });

    let sent = app.post_message(&acme.api_key, &uuid, &body).await;
    assert_eq!(sent.status, 201, "{}", sent.text());
    assert_eq!(
        number(&sent, "x-ratelimit-limit"),
        1,
        "sends report their own allowance"
    );
    let refused = app.post_message(&acme.api_key, &uuid, &body).await;
    assert_chatapi_error(&refused, 429, "RATE_LIMITED", "second send");
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 1);

    // Reading is another allowance: still open.
    let read = app.get(ME, &[api_key_header(&acme.api_key)]).await;
    assert_eq!(read.status, 200, "{}", read.text());

    actix_web::rt::time::sleep(Duration::from_secs(number(&refused, "retry-after"))).await;
    let again = app.post_message(&acme.api_key, &uuid, &body).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 2);
}

/// Fails authentication from `forwarded_for` (if any) until the address is refused.
async fn fail_until_blocked(app: &TestApp, forwarded_for: Option<&str>) {
    for attempt in 0..10 {
        let mut headers = vec![api_key_header("wrong-key")];
        if let Some(address) = forwarded_for {
            headers.push(("x-forwarded-for", address));
        }
        let reply = app.get(ME, &headers).await;
        if reply.status == 429 {
            assert!(attempt >= 3, "refused after {attempt} failures");
            return;
        }
        assert_eq!(reply.status, 401, "{}", reply.text());
    }
    panic!("the address was never refused");
}

#[actix_web::test]
async fn failed_authentication_is_limited_per_address_even_for_a_right_credential() {
    let app = TestApp::spawn_with(|settings| settings.rate.rate_auth_failures_per_min = 3).await;
    let acme = app.tenant("Acme").await;
    fail_until_blocked(&app, None).await;

    let reply = app.get(ME, &[api_key_header(&acme.api_key)]).await;
    assert_chatapi_error(&reply, 429, "RATE_LIMITED", "right key, refused address");
    assert!(number(&reply, "retry-after") >= 1);
    let reply = app
        .get(
            &chat_rooms_path(acme.id),
            &[("api_access_token", &acme.admin_token)],
        )
        .await;
    assert_eq!(
        assert_account_error(&reply, 429, "account"),
        "Too many requests"
    );
}

#[actix_web::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let trusted = TestApp::spawn_with(|settings| {
        settings.rate.rate_auth_failures_per_min = 3;
        settings.rate.trusted_proxies = "127.0.0.1".parse().unwrap_or_default();
    })
    .await;
    let acme = trusted.tenant("Acme").await;
    fail_until_blocked(&trusted, Some("203.0.113.1")).await;
    let other = trusted
        .get(
            ME,
            &[
                api_key_header(&acme.api_key),
                ("x-forwarded-for", "203.0.113.2"),
            ],
        )
        .await;
    assert_eq!(other.status, 200, "another client: {}", other.text());
    let same = trusted
        .get(
            ME,
            &[
                api_key_header(&acme.api_key),
                ("x-forwarded-for", "203.0.113.1"),
            ],
        )
        .await;
    assert_eq!(same.status, 429, "{}", same.text());

    let untrusted =
        TestApp::spawn_with(|settings| settings.rate.rate_auth_failures_per_min = 3).await;
    let acme = untrusted.tenant("Acme").await;
    fail_until_blocked(&untrusted, Some("203.0.113.1")).await;
    let spoofed = untrusted
        .get(
            ME,
            &[
                api_key_header(&acme.api_key),
                ("x-forwarded-for", "203.0.113.2"),
            ],
        )
        .await;
    assert_eq!(
        spoofed.status,
        429,
        "the header is not believed: {}",
        spoofed.text()
    );
}

#[actix_web::test]
async fn an_account_dialect_send_uses_the_send_allowance() {
    let app = TestApp::spawn_with(allowances(100, 2)).await;
    let acme = app.tenant("Acme").await;
    app.set_chat_rooms_feature(acme.id, true).await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Limits", None)
        .await;
    let id = room["id"].as_i64().unwrap_or_default();
    let body = json!({ "chat_room_message": { "content": "hi" } });
    let mut remaining = Vec::new();
    for _ in 0..2 {
        let sent = app
            .post_chat_message(acme.id, id, &acme.admin_token, &body)
            .await;
        assert_eq!(sent.status, 200, "{}", sent.text());
        assert_eq!(number(&sent, "x-ratelimit-limit"), 2);
        remaining.push(number(&sent, "x-ratelimit-remaining"));
    }
    assert_eq!(remaining, [1, 0]);
    let refused = app
        .post_chat_message(acme.id, id, &acme.admin_token, &body)
        .await;
    assert_eq!(
        assert_account_error(&refused, 429, "third send"),
        "Too many requests"
    );
    assert!(number(&refused, "retry-after") >= 1);
}

#[actix_web::test]
async fn a_scoped_keys_exhaustion_leaves_the_api_key_untouched() {
    let app = TestApp::spawn_with(allowances(5, 5)).await;
    let acme = app.tenant("Acme").await;
    let key = app.scoped_key(&acme.api_key, "ann", None).await;
    let reply = until_refused(&app, ROOMS, &[api_key_header(&key)], 10).await;
    assert_chatapi_error(&reply, 429, "RATE_LIMITED", "scoped key");
    assert_eq!(number(&reply, "x-ratelimit-limit"), 5);

    let reply = app.get(ROOMS, &[api_key_header(&acme.api_key)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The API key made only the login and this request: three of five left at least.
    let remaining = number(&reply, "x-ratelimit-remaining");
    assert!(remaining >= 3, "{remaining}");
}
