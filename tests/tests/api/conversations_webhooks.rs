//! Webhook events of conversations (CONTRACT §9, §10): `reaction.added` /
//! `reaction.removed` delivered to a real receiver, once per change (a repeat is not an
//! event), and `message.created` carrying the message's mentions.

use std::time::Duration;

use chat_tests::*;
use serde_json::{Value, json};

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

#[actix_web::test]
async fn reactions_are_delivered_as_reaction_added_and_reaction_removed() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({
                "url": receiver.url("/hooks"),
                "events": ["reaction.added", "reaction.removed"],
            }),
        )
        .await;
    let secret = str_of(&webhook, "secret");
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob")],
        )
        .await;
    let message = app.say(&acme.api_key, &room, "alice", "Ship it").await;

    app.react_ok(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    // A repeat is no event.
    app.react_ok(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    let added = receiver.wait_for_event("reaction.added").await;
    assert!(added.signed_with(secret), "{:?}", added.headers);
    let body = added.json();
    assert_eq!(body["event"], "reaction.added", "{body}");
    assert_eq!(
        body["data"],
        json!({ "message_id": id(&message), "room_id": room, "emoji": "👍", "user_id": "bob" }),
        "{body}"
    );
    assert_eq!(body["meta"]["webhook_id"], webhook["id"], "{body}");

    let reply = app
        .unreact(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let removed = receiver.wait_for_event("reaction.removed").await;
    let body = removed.json();
    assert_eq!(
        body["data"],
        json!({ "message_id": id(&message), "room_id": room, "emoji": "👍", "user_id": "bob" }),
        "{body}"
    );
    assert_ne!(removed.delivery_id(), added.delivery_id());
    // The repeat was never recorded: one reaction.added in all.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let added: Vec<String> = receiver
        .received()
        .iter()
        .filter(|r| r.event() == "reaction.added")
        .map(|r| r.delivery_id().to_owned())
        .collect();
    let mut distinct = added.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 1, "one reaction.added delivery: {added:?}");
}

#[actix_web::test]
async fn a_reaction_is_not_delivered_to_a_webhook_that_does_not_subscribe() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/messages"), "events": ["message.created"] }),
    )
    .await;
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob")],
        )
        .await;
    let message = app.say(&acme.api_key, &room, "alice", "Ship it").await;
    receiver.wait_for_event("message.created").await;
    app.react_ok(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    let after = app.say(&acme.api_key, &room, "alice", "Shipped").await;
    receiver
        .wait_for(2, Duration::from_secs(15), |r| {
            r.event() == "message.created"
        })
        .await;
    receiver
        .assert_none_within(Duration::from_millis(300), |r| {
            r.event().starts_with("reaction.")
        })
        .await;
    let last = receiver
        .received()
        .into_iter()
        .rfind(|r| r.event() == "message.created")
        .map(|r| r.json())
        .unwrap_or_default();
    assert_eq!(last["data"]["id"], id(&after), "{last}");
}

#[actix_web::test]
async fn the_message_created_payload_carries_its_mentions() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    app.create_webhook(
        &acme.api_key,
        json!({ "url": receiver.url("/hooks"), "events": ["message.created"] }),
    )
    .await;
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")],
        )
        .await;
    let sent = app
        .send_message_ok(
            &acme.api_key,
            &room,
            json!({
                "sender_id": "alice",
                "content": "@bob @carol @zed standup?",
                "meta": { "mentions": ["bob", "zed", "carol"] },
            }),
        )
        .await;
    let got = receiver.wait_for_event("message.created").await;
    let body = got.json();
    assert_eq!(body["data"]["id"], id(&sent), "{body}");
    assert_eq!(body["data"]["mentions"], json!(["bob", "carol"]), "{body}");
    assert_eq!(
        body["data"]["meta"]["mentions"],
        json!(["bob", "zed", "carol"]),
        "{body}"
    );
    assert_eq!(body["data"]["reactions"], json!([]), "{body}");
    assert_eq!(body["data"]["reply_count"], 0, "{body}");
}
