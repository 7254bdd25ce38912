//! Webhook deliveries (CONTRACT §9): a real receiver on 127.0.0.1 inside the test gets
//! signed POSTs of what happens, retried with the same delivery id, filtered by event
//! and room; two nodes share the work without sending one delivery twice at once.

use std::collections::HashSet;
use std::time::Duration;

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// A tenant with a room whose participant is the agent; answers the room's uuid and
/// the agent's ChatAPI user id.
async fn room_with_agent(app: &TestApp, tenant: &Tenant, name: &str) -> (String, String) {
    let room = app
        .create_room(&tenant.api_key, json!({ "name": name }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let agent = chat_user_id(&tenant.agent);
    app.join_ok(&tenant.api_key, &uuid, &agent).await;
    (uuid, agent)
}

async fn send(app: &TestApp, tenant: &Tenant, room: &str, sender: &str, content: &str) -> Value {
    app.send_message_ok(
        &tenant.api_key,
        room,
        json!({ "sender_id": sender, "content": content }),
    )
    .await
}

fn of_event(event: &'static str) -> impl Fn(&WebhookRequest) -> bool {
    move |r| r.event() == event
}

#[actix_web::test]
async fn a_message_is_delivered_signed_with_the_webhooks_secret_and_its_headers() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({
                "url": receiver.url("/hooks"),
                "events": ["message.created"],
                "custom_headers": { "X-Team": "support" },
            }),
        )
        .await;
    let secret = str_of(&webhook, "secret");
    let (room, agent) = room_with_agent(&app, &acme, "General").await;
    let message = send(&app, &acme, &room, &agent, "Hello").await;

    let got = receiver.wait_for_event("message.created").await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/hooks");
    assert!(got.signed_with(secret), "bad signature: {:?}", got.headers);
    assert!(!got.signed_with("whsec_not-the-secret-at-all"));
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("x-team"), Some("support"));
    assert!(
        got.header("user-agent")
            .is_some_and(|ua| ua.starts_with("chat-rooms-webhooks/")),
        "{:?}",
        got.headers
    );
    assert_uuid(got.delivery_id());
    let timestamp: i64 = got
        .header("x-chatapi-timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no timestamp: {:?}", got.headers));
    assert!((timestamp - unix_now()).abs() <= 60, "{timestamp}");

    let body = got.json();
    assert_eq!(
        keys_of(&body),
        ["created_at", "data", "event", "id", "meta"],
        "{body}"
    );
    let id = str_of(&body, "id");
    let hex = id.strip_prefix("evt_").unwrap_or_else(|| panic!("{id}"));
    assert_eq!(hex.len(), 32, "{id}");
    assert_eq!(body["event"], "message.created");
    assert_rfc3339_near_now(&body["created_at"]);
    assert_eq!(body["data"]["id"], message["id"], "{body}");
    assert_eq!(body["data"]["seq"], 1, "{body}");
    assert_eq!(body["data"]["room_id"], room.as_str(), "{body}");
    assert_eq!(body["data"]["content"], "Hello", "{body}");
    assert_eq!(
        body["meta"],
        json!({
            "client_id": acme.account["uuid"],
            "webhook_id": webhook["id"],
            "delivery_id": got.delivery_id(),
            "attempt": 1,
        }),
        "{body}"
    );
}

#[actix_web::test]
async fn a_500_is_retried_with_the_same_delivery_id_and_attempt_2() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[500]);
    let acme = app.tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({ "url": receiver.url("/hooks"), "events": ["message.created"] }),
        )
        .await;
    let (room, agent) = room_with_agent(&app, &acme, "General").await;
    send(&app, &acme, &room, &agent, "Hello").await;

    let got = receiver
        .wait_for(2, WAIT, of_event("message.created"))
        .await;
    assert_eq!(got[0].status, 500);
    assert_eq!(got[1].status, 200);
    assert_eq!(got[0].delivery_id(), got[1].delivery_id());
    assert_eq!(got[0].json()["meta"]["attempt"], 1);
    assert_eq!(got[1].json()["meta"]["attempt"], 2);
    assert_eq!(got[0].json()["id"], got[1].json()["id"], "the same event");
    let secret = str_of(&webhook, "secret");
    assert!(got.iter().all(|r| r.signed_with(secret)));

    // The log: newest first, both attempts of the one delivery.
    let uuid = str_of(&webhook, "id");
    let deadline = std::time::Instant::now() + WAIT;
    let log = loop {
        let log = app.webhook_deliveries(&acme.api_key, uuid).await;
        if log.len() >= 2 || std::time::Instant::now() > deadline {
            break log;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        keys_of(&log[0]),
        [
            "attempt",
            "delivered_at",
            "duration_ms",
            "error",
            "event",
            "id",
            "status_code"
        ]
    );
    assert_eq!(log[0]["attempt"], 2);
    assert_eq!(log[0]["status_code"], 200);
    assert_eq!(log[0]["error"], Value::Null);
    assert_eq!(log[1]["attempt"], 1);
    assert_eq!(log[1]["status_code"], 500);
    assert_eq!(log[0]["id"], got[0].delivery_id());
    assert_eq!(log[0]["event"], "message.created");
    let webhook = app.webhook(&acme.api_key, uuid).await;
    assert_eq!(
        webhook["failure_count"], 0,
        "a success resets it: {webhook}"
    );
    assert_rfc3339_near_now(&webhook["last_delivery_at"]);
}

#[actix_web::test]
async fn five_failures_in_a_row_deactivate_the_webhook_and_activate_resets_its_count() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let acme = app.tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({ "url": receiver.url("/down"), "events": ["message.created"] }),
        )
        .await;
    let uuid = str_of(&webhook, "id");
    let (room, agent) = room_with_agent(&app, &acme, "General").await;
    send(&app, &acme, &room, &agent, "Hello").await;

    // One delivery: the first attempt and the schedule's 4 retries.
    let webhook = app
        .webhook_until(&acme.api_key, uuid, WAIT, |w| w["is_active"] == false)
        .await;
    assert_eq!(webhook["failure_count"], 5, "{webhook}");
    let got = receiver.received_on("/down");
    assert_eq!(got.len(), 5, "attempts made");
    let attempts: Vec<Value> = got
        .iter()
        .map(|r| r.json()["meta"]["attempt"].clone())
        .collect();
    assert_eq!(attempts, [json!(1), json!(2), json!(3), json!(4), json!(5)]);
    assert_eq!(
        got.iter()
            .map(WebhookRequest::delivery_id)
            .collect::<HashSet<_>>()
            .len(),
        1
    );

    // Inactive: nothing more is recorded for it.
    send(&app, &acme, &room, &agent, "Anyone?").await;
    receiver
        .assert_none_within(Duration::from_millis(2500), |r| {
            r.json()["meta"]["attempt"] == 1 && r.json()["data"]["content"] == "Anyone?"
        })
        .await;

    let reply = app
        .send(
            Method::POST,
            &webhook_path(uuid, "/activate"),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["message"], "Webhook activated successfully");
    assert_eq!(body["data"]["is_active"], true);
    assert_eq!(body["data"]["failure_count"], 0);
}

#[actix_web::test]
async fn test_sends_a_webhook_test_event_now_even_to_an_inactive_webhook() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({ "url": receiver.url("/t"), "events": ["room.created"], "is_active": false }),
        )
        .await;
    assert_eq!(webhook["is_active"], false);
    let uuid = str_of(&webhook, "id");
    let reply = app
        .send(
            Method::POST,
            &webhook_path(uuid, "/test"),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["success"], true, "{data}");
    assert_eq!(data["delivery"]["attempt"], 1, "{data}");
    assert_eq!(data["delivery"]["status_code"], 200, "{data}");
    assert_eq!(data["delivery"]["event"], "webhook.test", "{data}");

    let got = receiver.received_on("/t");
    assert_eq!(got.len(), 1, "delivered before the answer");
    assert_eq!(got[0].event(), "webhook.test");
    assert_eq!(got[0].delivery_id(), data["delivery"]["id"]);
    assert!(got[0].signed_with(str_of(&webhook, "secret")));
    let log = app.webhook_deliveries(&acme.api_key, uuid).await;
    assert_eq!(log.len(), 1, "{log:?}");

    // A receiver that fails: the answer says so.
    receiver.answer_next(&[503]);
    let reply = app
        .send(
            Method::POST,
            &webhook_path(uuid, "/test"),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    let data = reply.json()["data"].clone();
    assert_eq!(data["success"], false, "{data}");
    assert_eq!(data["delivery"]["status_code"], 503, "{data}");
}

#[actix_web::test]
async fn only_subscribed_events_of_the_filtered_rooms_are_delivered() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    let (kept, agent) = room_with_agent(&app, &acme, "Kept").await;
    let (other, _) = room_with_agent(&app, &acme, "Other").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/filtered"), "events": ["message.created"], "room_filters": [kept] }),
    )
    .await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/rooms-only"), "events": ["room.updated"] }),
    )
    .await;
    send(&app, &acme, &other, &agent, "elsewhere").await;
    send(&app, &acme, &kept, &agent, "here").await;

    let got = receiver.wait_for(1, WAIT, |r| r.path == "/filtered").await;
    assert_eq!(got[0].json()["data"]["content"], "here");
    receiver
        .assert_none_within(Duration::from_millis(2500), |r| {
            r.path == "/rooms-only" || r.json()["data"]["content"] == "elsewhere"
        })
        .await;
}

#[actix_web::test]
async fn room_and_membership_events_carry_the_chatapi_renderings() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/rooms"), "events": [
            "room.created", "room.updated", "room.deactivated", "room.activated",
            "room.deleted", "room.joined", "room.left"
        ] }),
    )
    .await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Lobby" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let key = [api_key_header(&acme.api_key)];
    let agent = chat_user_id(&acme.agent);
    app.join_ok(&acme.api_key, &uuid, &agent).await;
    let reply = app.leave_room(&acme.api_key, &uuid, &agent).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = app
        .json(
            Method::PUT,
            &room_path(&uuid),
            &key,
            &json!({ "name": "Hall" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for action in ["deactivate", "activate"] {
        let reply = app
            .send(Method::POST, &room_action_path(&uuid, action), &key, None)
            .await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.text());
    }

    // Rendered at delivery time (the room as it is then): read them before deleting it.
    let created = receiver.wait_for_event("room.created").await.json();
    assert_eq!(created["data"]["id"], uuid.as_str(), "{created}");
    assert_eq!(
        created["data"]["client_id"], acme.account["uuid"],
        "{created}"
    );
    for event in ["room.joined", "room.left"] {
        let got = receiver.wait_for_event(event).await.json();
        assert_eq!(got["data"]["room_id"], uuid.as_str(), "{got}");
        assert_eq!(got["data"]["user_id"], agent.as_str(), "{got}");
        assert_eq!(got["data"]["user_name"], acme.agent["name"], "{got}");
    }
    for event in ["room.updated", "room.deactivated", "room.activated"] {
        let got = receiver.wait_for_event(event).await.json();
        assert_eq!(got["data"]["id"], uuid.as_str(), "{event}: {got}");
    }
    let reply = app
        .send(Method::DELETE, &room_path(&uuid), &key, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let deleted = receiver.wait_for_event("room.deleted").await.json();
    assert_eq!(
        deleted["data"],
        json!({ "id": uuid, "name": "Hall" }),
        "{deleted}"
    );
}

#[actix_web::test]
async fn message_changes_and_reads_are_delivered_with_their_seq() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/m"), "events": [
            "message.updated", "message.deleted", "message.restored", "message.read"
        ] }),
    )
    .await;
    let (room, agent) = room_with_agent(&app, &acme, "General").await;
    // A member before the message, so that reading moves its position.
    let admin = chat_user_id(&acme.admin);
    app.join_ok(&acme.api_key, &room, &admin).await;
    let message = send(&app, &acme, &room, &agent, "first").await;
    let id = str_of(&message, "id").to_owned();
    let key = [api_key_header(&acme.api_key)];
    let reply = app
        .json(
            Method::PUT,
            &message_path(&id),
            &key,
            &json!({ "content": "edited" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = app
        .send(Method::DELETE, &message_path(&id), &key, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = app
        .send(
            Method::POST,
            &format!("{}/restore", message_path(&id)),
            &key,
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    for event in ["message.updated", "message.deleted", "message.restored"] {
        let got = receiver.wait_for_event(event).await.json();
        assert_eq!(got["data"]["id"], id.as_str(), "{event}: {got}");
        assert_eq!(got["data"]["seq"], 1, "{event}: {got}");
        assert_eq!(got["data"]["room_id"], room.as_str(), "{event}: {got}");
    }

    // A read by the administrator, through the account dialect.
    let chat_room = app.chat_room_id_of(acme.id, &acme.api_key, &room).await;
    let reply = app
        .mark_as_read(acme.id, chat_room, &acme.admin_token)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let read = receiver.wait_for_event("message.read").await.json();
    assert_eq!(read["data"]["room_id"], room.as_str(), "{read}");
    assert_eq!(read["data"]["user_id"], admin.as_str(), "{read}");
    assert_eq!(read["data"]["seq"], 1, "{read}");
    assert_eq!(read["data"]["last_read_message_id"], id.as_str(), "{read}");
}

#[actix_web::test]
async fn unread_offline_reaches_members_without_a_socket_once_per_window() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/offline"), "events": ["message.unread_offline"] }),
    )
    .await;
    let (room, agent) = room_with_agent(&app, &acme, "General").await;
    let admin = chat_user_id(&acme.admin);
    app.join_ok(&acme.api_key, &room, &admin).await;
    let online = chat_user_id(
        &app.create_user(acme.id, json!({ "name": "Olga Online" }))
            .await,
    );
    app.join_ok(&acme.api_key, &room, &online).await;
    let _socket = app.participant_socket(&acme.api_key, &room, &online).await;

    let first = send(&app, &acme, &room, &agent, "are you there?").await;
    send(&app, &acme, &room, &agent, "hello?").await;

    let got = receiver
        .wait_for(1, WAIT, of_event("message.unread_offline"))
        .await;
    let body = got[0].json();
    assert_eq!(body["data"]["room_id"], room.as_str(), "{body}");
    assert_eq!(body["data"]["user_id"], admin.as_str(), "{body}");
    assert_eq!(body["data"]["user_name"], acme.admin["name"], "{body}");
    assert_eq!(body["data"]["message"]["id"], first["id"], "{body}");
    // Not the sender, not the member with a socket, and one per window.
    receiver
        .assert_none_within(Duration::from_millis(2500), |r| {
            r.event() == "message.unread_offline" && r.delivery_id() != got[0].delivery_id()
        })
        .await;
}

#[actix_web::test]
async fn a_private_address_is_refused_without_chat_webhook_allow_private() {
    let app = TestApp::spawn_with(|settings| settings.webhook_allow_private = false).await;
    let acme = app.tenant("Acme").await;
    for url in [
        "http://127.0.0.1:9/hooks",
        "http://10.1.2.3/hooks",
        "http://169.254.169.254/latest",
        "http://[::1]/hooks",
    ] {
        let reply = app
            .json(
                Method::POST,
                WEBHOOKS,
                &[api_key_header(&acme.api_key)],
                &json!({ "url": url, "events": ["message.created"] }),
            )
            .await;
        let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", url);
        assert!(error["details"]["url"].is_string(), "{url}: {error}");
    }
}

#[actix_web::test]
async fn two_nodes_deliver_200_events_without_one_delivery_in_flight_twice() {
    let app = TestApp::spawn().await;
    let second = app.spawn_sharing().await;
    let receiver = Receiver::start().await;
    receiver.delay(Duration::from_millis(20));
    let acme = app.tenant("Acme").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/both"), "events": ["message.created"] }),
    )
    .await;
    let (room, agent) = room_with_agent(&app, &acme, "Busy").await;
    for n in 0..200 {
        let node = if n % 2 == 0 { &app } else { &second };
        send(node, &acme, &room, &agent, &format!("m{n}")).await;
    }
    let got = receiver
        .wait_for(200, Duration::from_secs(60), |r| r.path == "/both")
        .await;
    let ids: HashSet<&str> = got.iter().map(WebhookRequest::delivery_id).collect();
    assert_eq!(ids.len(), 200, "every event delivered");
    assert_eq!(receiver.overlaps(), Vec::<String>::new());
    let seqs: HashSet<i64> = got
        .iter()
        .filter_map(|r| r.json()["data"]["seq"].as_i64())
        .collect();
    assert_eq!(seqs.len(), 200);
}

#[actix_web::test]
async fn metrics_count_deliveries_by_result_and_show_the_backlog() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[500]);
    let acme = app.tenant("Acme").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/metrics"), "events": ["message.created"] }),
    )
    .await;
    let (room, agent) = room_with_agent(&app, &acme, "General").await;
    send(&app, &acme, &room, &agent, "Hello").await;
    receiver
        .wait_for(2, WAIT, of_event("message.created"))
        .await;
    // The delivery is finished just after the receiver answers.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = app.get("/metrics", &[]).await.text();
        let done = text.contains("webhook_deliveries_total{result=\"delivered\"} 1")
            && text.contains("webhook_deliveries_total{result=\"retry\"} 1");
        if done {
            assert!(text.contains("webhook_deliveries_pending 0"), "{text}");
            assert!(text.contains("webhook_oldest_pending_seconds 0"), "{text}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}
