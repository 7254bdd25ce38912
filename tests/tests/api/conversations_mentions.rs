//! Mentions (CONTRACT §10): ChatAPI `meta.mentions: [user_id]` and the account
//! dialect's `content_attributes.mentions: [user id]` name only members of the room
//! (the sender and unknown people are dropped, each once, in order); both dialects
//! render them.

use chat_tests::*;
use serde_json::{Value, json};

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

/// The account-dialect rendering of message `uuid` in room `room_id`, as `credential`.
async fn account_rendering(
    app: &TestApp,
    account: i64,
    room_id: i64,
    credential: &str,
    uuid: &str,
) -> Value {
    let message_id = app.message_int_id(uuid);
    let messages = app.chat_messages(account, room_id, credential, "").await;
    messages
        .into_iter()
        .find(|m| m["id"] == message_id)
        .unwrap_or_else(|| panic!("message {message_id} is not listed"))
}

#[actix_web::test]
async fn chatapi_mentions_keep_only_members_of_the_room_other_than_the_sender() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let admin = chat_user_id(&acme.admin);
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[
                ("alice", "Alice"),
                ("bob", "Bob"),
                ("carol", "Carol"),
                (&admin, "Ada Admin"),
            ],
        )
        .await;
    // Dave exists, in another room only.
    app.room_with(&acme.api_key, "Elsewhere", &[("dave", "Dave")])
        .await;
    let named = json!(["carol", "dave", "alice", "nobody", "bob", "carol"]);
    let sent = app
        .send_message_ok(
            &acme.api_key,
            &room,
            json!({
                "sender_id": "alice",
                "content": "@carol @dave @bob have a look",
                "meta": { "mentions": named, "topic": "review" },
            }),
        )
        .await;
    assert_eq!(sent["mentions"], json!(["carol", "bob"]), "{sent}");
    // meta keeps what was given.
    assert_eq!(
        sent["meta"],
        json!({ "mentions": named, "topic": "review" }),
        "{sent}"
    );
    let read = app.chatapi_message(&acme.api_key, id(&sent)).await;
    assert_eq!(read["mentions"], json!(["carol", "bob"]), "{read}");
    let listed = app.list_messages(&acme.api_key, &room, "").await;
    assert_eq!(listed["data"][0]["mentions"], json!(["carol", "bob"]));
    // A message naming no one mentions no one.
    let plain = app.say(&acme.api_key, &room, "bob", "ok").await;
    assert_eq!(plain["mentions"], json!([]), "{plain}");

    // The account dialect names them by integer id.
    let room_id = app.room_int_id(&room);
    let shown = account_rendering(&app, acme.id, room_id, &acme.admin_token, id(&sent)).await;
    let carol = app.user_int_id(acme.id, "carol");
    let bob = app.user_int_id(acme.id, "bob");
    assert_eq!(
        shown["content_attributes"]["mentions"],
        json!([carol, bob]),
        "{shown}"
    );
}

#[actix_web::test]
async fn account_dialect_mentions_keep_only_members_and_sit_beside_in_reply_to() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let room_id = int_id(&room);
    let agent_id = int_id(&acme.agent);
    let reply = app
        .members_request(
            awc::http::Method::POST,
            acme.id,
            room_id,
            &acme.admin_token,
            &json!({ "user_ids": [agent_id] }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // Someone of the account who is not in the room.
    let outsider = app
        .create_user(acme.id, json!({ "name": "Olga Outsider" }))
        .await;
    let question = app
        .send_chat_message_ok(acme.id, room_id, &acme.admin_token, "Who's on call?")
        .await;
    let reply = app
        .post_chat_message(
            acme.id,
            room_id,
            &acme.admin_token,
            &json!({ "chat_room_message": {
                "content": "You are, I think",
                "content_attributes": {
                    "in_reply_to": question["id"],
                    "mentions": [int_id(&outsider), agent_id, 99_999_999, int_id(&acme.admin)],
                },
            } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let sent = reply.json();
    assert_eq!(
        sent["content_attributes"],
        json!({ "in_reply_to": question["id"], "mentions": [agent_id] }),
        "{sent}"
    );
    let listed = app
        .chat_messages(acme.id, room_id, &acme.agent_token, "")
        .await;
    assert_eq!(listed[0]["content_attributes"], sent["content_attributes"]);
    // ChatAPI names the agent by its user_id (its integer id as a string).
    let uuid = app.message_uuid(int_id(&sent));
    let read = app.chatapi_message(&acme.api_key, &uuid).await;
    assert_eq!(
        read["mentions"],
        json!([chat_user_id(&acme.agent)]),
        "{read}"
    );
}

#[actix_web::test]
async fn mentions_that_are_not_a_list_of_users_are_422_in_each_dialect() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("alice", "Alice")])
        .await;
    for mentions in [
        json!("bob"),
        json!([true]),
        json!([{ "user_id": "bob" }]),
        json!([""]),
    ] {
        let reply = app
            .post_message(
                &acme.api_key,
                &room,
                &json!({ "sender_id": "alice", "content": "hi", "meta": { "mentions": mentions } }),
            )
            .await;
        let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", &mentions.to_string());
        let fields = keys_of(&error["details"]);
        assert_eq!(fields.len(), 1, "{mentions}: {error}");
        assert!(fields[0].contains("mentions"), "{mentions}: {error}");
    }
    let room_id = app.room_int_id(&room);
    let admin = chat_user_id(&acme.admin);
    app.join_ok(&acme.api_key, &room, &admin).await;
    for mentions in [json!("x"), json!(["a"]), json!([1.5])] {
        let reply = app
            .post_chat_message(
                acme.id,
                room_id,
                &acme.admin_token,
                &json!({ "chat_room_message": {
                    "content": "hi",
                    "content_attributes": { "mentions": mentions },
                } }),
            )
            .await;
        assert_eq!(reply.status, 422, "{mentions}: {}", reply.text());
        let body = reply.json();
        assert_eq!(keys_of(&body), ["attributes", "message"], "{body}");
        let attributes = body["attributes"].as_array().cloned().unwrap_or_default();
        assert_eq!(attributes.len(), 1, "{mentions}: {body}");
        assert!(
            attributes[0]
                .as_str()
                .is_some_and(|a| a.contains("mentions")),
            "{mentions}: {body}"
        );
    }
    // Nothing of them was stored.
    let listed = app.list_messages(&acme.api_key, &room, "").await;
    assert_eq!(listed["data"], json!([]), "{listed}");
}
