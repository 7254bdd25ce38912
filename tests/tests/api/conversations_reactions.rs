//! Reactions (CONTRACT §10): `POST /api/v1/messages/{id}/reactions {emoji, user_id?}`,
//! `DELETE …/reactions/{emoji}?user_id=U` and the account dialect's
//! `…/messages/{id}/reactions`; `reactions: [{emoji, count, user_ids}]` on every rendering;
//! a repeat is a no-op; at most 20 distinct emoji a message.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

/// One reaction as the ChatAPI renders it.
fn reaction(emoji: &str, user_ids: &[&str]) -> Value {
    json!({ "emoji": emoji, "count": user_ids.len(), "user_ids": user_ids })
}

/// A room of Alice, Bob and Carol with one message of Alice's; answers the room and
/// the message.
async fn alices_message(app: &TestApp, tenant: &Tenant) -> (String, Value) {
    let room = app
        .room_with(
            &tenant.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")],
        )
        .await;
    let message = app
        .say(&tenant.api_key, &room, "alice", "Shipped the release!")
        .await;
    (room, message)
}

/// Asserts a ChatAPI 422 VALIDATION_ERROR on exactly `field`.
fn assert_invalid(reply: &Reply, field: &str, context: &str) {
    let error = assert_chatapi_error(reply, 422, "VALIDATION_ERROR", context);
    assert_eq!(keys_of(&error["details"]), [field], "{context}: {error}");
}

#[actix_web::test]
async fn several_users_react_and_a_repeat_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let (room, message) = alices_message(&app, &acme).await;
    assert_eq!(message["reactions"], json!([]), "{message}");
    let key = &acme.api_key;
    let uuid = id(&message);

    let after = app.react_ok(key, uuid, "👍", Some("bob")).await;
    assert_eq!(after["id"], uuid, "the message comes back: {after}");
    assert_eq!(after["reactions"], json!([reaction("👍", &["bob"])]));
    app.react_ok(key, uuid, ":tada:", Some("carol")).await;
    let after = app.react_ok(key, uuid, "👍", Some("carol")).await;
    let expected = json!([
        reaction("👍", &["bob", "carol"]),
        reaction(":tada:", &["carol"])
    ]);
    assert_eq!(after["reactions"], expected, "{after}");

    // A repeat: 200 with the message, nothing changed.
    let again = app.react_ok(key, uuid, "👍", Some("bob")).await;
    assert_eq!(again["reactions"], expected, "{again}");
    assert_eq!(
        app.count_rows("message_reactions"),
        3,
        "one row per (emoji, user)"
    );

    // Every ChatAPI rendering carries them.
    let read = app.chatapi_message(key, uuid).await;
    assert_eq!(read["reactions"], expected, "{read}");
    let listed = app.list_messages(key, &room, "").await;
    assert_eq!(listed["data"][0]["reactions"], expected, "{listed}");
    // The account dialect names the users by integer id.
    let room_id = app.room_int_id(&room);
    let bob = app.user_int_id(acme.id, "bob");
    let carol = app.user_int_id(acme.id, "carol");
    let admin = chat_user_id(&acme.admin);
    app.join_ok(key, &room, &admin).await;
    let messages = app
        .chat_messages(acme.id, room_id, &acme.admin_token, "")
        .await;
    assert_eq!(
        messages[0]["reactions"],
        json!([
            { "emoji": "👍", "count": 2, "user_ids": [bob, carol] },
            { "emoji": ":tada:", "count": 1, "user_ids": [carol] },
        ]),
        "{messages:?}"
    );
}

#[actix_web::test]
async fn a_reaction_is_removed_by_its_percent_encoded_emoji() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let (_, message) = alices_message(&app, &acme).await;
    let key = &acme.api_key;
    let uuid = id(&message);
    for (emoji, user) in [
        ("👍", "bob"),
        ("👍", "carol"),
        (":+1:", "bob"),
        ("👩🏽‍💻", "carol"),
    ] {
        app.react_ok(key, uuid, emoji, Some(user)).await;
    }

    let reply = app.unreact(key, uuid, "👍", Some("bob")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json()["data"]["reactions"],
        json!([
            reaction("👍", &["carol"]),
            reaction(":+1:", &["bob"]),
            reaction("👩🏽‍💻", &["carol"]),
        ])
    );
    // The path: `:+1:` as %3A%2B1%3A, a ZWJ sequence as its UTF-8 bytes.
    assert!(reaction_path(uuid, ":+1:").ends_with("/reactions/%3A%2B1%3A"));
    let reply = app.unreact(key, uuid, ":+1:", Some("bob")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = app.unreact(key, uuid, "👩🏽‍💻", Some("carol")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let expected = json!([reaction("👍", &["carol"])]);
    assert_eq!(reply.json()["data"]["reactions"], expected);
    // A short code may also go unencoded, or with only its `+` encoded.
    for raw in [":+1:", ":%2B1:"] {
        app.react_ok(key, uuid, ":+1:", Some("bob")).await;
        let path = format!("{}/{raw}?user_id=bob", reactions_path(uuid));
        let reply = app
            .send(Method::DELETE, &path, &[api_key_header(key)], None)
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.json()["data"]["reactions"], expected, "{path}");
    }

    // Removing what is not there changes nothing.
    let reply = app.unreact(key, uuid, "👍", Some("bob")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["data"]["reactions"], expected);
    assert_eq!(app.chatapi_message(key, uuid).await["reactions"], expected);
    let reply = app.unreact(key, uuid, "👍", Some("carol")).await;
    assert_eq!(
        reply.json()["data"]["reactions"],
        json!([]),
        "{}",
        reply.text()
    );
    assert_eq!(app.count_rows("message_reactions"), 0);
}

#[actix_web::test]
async fn a_21st_distinct_emoji_is_refused_and_so_is_anything_not_one_emoji() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let (_, message) = alices_message(&app, &acme).await;
    let key = &acme.api_key;
    let uuid = id(&message);
    for n in 1..=20 {
        app.react_ok(key, uuid, &format!(":e{n}:"), Some("bob"))
            .await;
    }
    let reply = app
        .react(key, uuid, &json!({ "emoji": ":e21:", "user_id": "carol" }))
        .await;
    assert_invalid(&reply, "emoji", "a 21st emoji");
    // The twenty are kept, in the order of first use; one of them may still be added to.
    let after = app.react_ok(key, uuid, ":e1:", Some("carol")).await;
    let reactions = after["reactions"]
        .as_array()
        .unwrap_or_else(|| panic!("no reactions: {after}"));
    assert_eq!(reactions.len(), 20, "{after}");
    assert_eq!(reactions[0], reaction(":e1:", &["bob", "carol"]));
    assert_eq!(reactions[19], reaction(":e20:", &["bob"]));

    for bad in [
        json!(""),
        json!("ok"),
        json!("👍👍"),
        json!("👍 "),
        json!(":Thumbs:"),
        json!(format!(":{}:", "x".repeat(33))),
    ] {
        let reply = app
            .react(key, uuid, &json!({ "emoji": bad, "user_id": "carol" }))
            .await;
        assert_invalid(&reply, "emoji", &format!("emoji {bad}"));
    }
    let reply = app.react(key, uuid, &json!({ "user_id": "carol" })).await;
    assert_invalid(&reply, "emoji", "no emoji");
    assert_eq!(app.count_rows("message_reactions"), 21);
}

#[actix_web::test]
async fn who_reacts_is_the_credentials_user_or_a_participant_the_api_key_names() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let (room, message) = alices_message(&app, &acme).await;
    let uuid = id(&message);

    // The API key must name a participant.
    let reply = app
        .react(&acme.api_key, uuid, &json!({ "emoji": "👍" }))
        .await;
    assert_invalid(&reply, "user_id", "the API key without user_id");
    app.room_with(&acme.api_key, "Elsewhere", &[("dave", "Dave")])
        .await;
    let reply = app
        .react(
            &acme.api_key,
            uuid,
            &json!({ "emoji": "👍", "user_id": "dave" }),
        )
        .await;
    assert_chatapi_error(&reply, 404, "NOT_IN_ROOM", "dave is not in the room");
    let reply = app.unreact(&acme.api_key, uuid, "👍", None).await;
    assert_invalid(
        &reply,
        "user_id",
        "removing with the API key without user_id",
    );

    // An agent outside the room may not; once a member, reacts as itself whatever the
    // body names.
    let reply = app
        .react(
            &acme.agent_token,
            uuid,
            &json!({ "emoji": "👍", "user_id": "bob" }),
        )
        .await;
    assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", "agent outside the room");
    let agent = chat_user_id(&acme.agent);
    app.join_ok(&acme.api_key, &room, &agent).await;
    let after = app
        .react_ok(&acme.agent_token, uuid, "👍", Some("bob"))
        .await;
    assert_eq!(after["reactions"], json!([reaction("👍", &[&agent])]));
    // An end user's scoped key reacts as that user.
    let bob = app.scoped_key(&acme.api_key, "bob", None).await;
    let after = app.react_ok(&bob, uuid, "👍", None).await;
    assert_eq!(
        after["reactions"],
        json!([reaction("👍", &[&agent, "bob"])])
    );
    let reply = app.unreact(&bob, uuid, "👍", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json()["data"]["reactions"],
        json!([reaction("👍", &[&agent])])
    );
    // A scoped key that may not send may not react.
    let reader = app
        .scoped_key(&acme.api_key, "carol", Some(&["read_messages"]))
        .await;
    let reply = app.react(&reader, uuid, &json!({ "emoji": "👍" })).await;
    assert_chatapi_error(&reply, 403, "PERMISSION_DENIED", "read-only scoped key");

    // A deleted message, an unknown one, another account's: not found.
    let globex = app.tenant("Globex").await;
    let reply = app
        .react(
            &globex.api_key,
            uuid,
            &json!({ "emoji": "👍", "user_id": "bob" }),
        )
        .await;
    assert_chatapi_error(&reply, 404, "MESSAGE_NOT_FOUND", "another account");
    let reply = app
        .send(
            Method::DELETE,
            &message_path(uuid),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = app
        .react(
            &acme.api_key,
            uuid,
            &json!({ "emoji": "🎉", "user_id": "bob" }),
        )
        .await;
    assert_chatapi_error(&reply, 404, "MESSAGE_NOT_FOUND", "a deleted message");
    let reply = app
        .react(
            &acme.api_key,
            "00000000-0000-4000-8000-000000000000",
            &json!({ "emoji": "🎉", "user_id": "bob" }),
        )
        .await;
    assert_chatapi_error(&reply, 404, "MESSAGE_NOT_FOUND", "no such message");
    assert_eq!(app.count_rows("message_reactions"), 1);
}

#[actix_web::test]
async fn the_account_dialect_adds_and_removes_reactions() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let room_id = int_id(&room);
    let other = app
        .create_chat_room(acme.id, &acme.admin_token, "Other", None)
        .await;
    let agent_id = int_id(&acme.agent);
    let admin_id = int_id(&acme.admin);
    let reply = app
        .members_request(
            Method::POST,
            acme.id,
            room_id,
            &acme.admin_token,
            &json!({ "user_ids": [agent_id] }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let message = app
        .send_chat_message_ok(acme.id, room_id, &acme.admin_token, "Deployed")
        .await;
    let message_id = int_id(&message);
    let act = |method: Method, credential: &str, body: Value| {
        let credential = credential.to_owned();
        let app = &app;
        async move {
            app.chat_request(
                method,
                &format!(
                    "{}/reactions",
                    chat_message_path(acme.id, room_id, message_id)
                ),
                &credential,
                Some(&body),
            )
            .await
        }
    };

    let reply = act(Method::POST, &acme.agent_token, json!({ "emoji": "👍" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let after = reply.json();
    assert_eq!(after["id"], message_id, "the message comes back: {after}");
    assert_eq!(
        after["message_type"], "incoming",
        "as the agent sees it: {after}"
    );
    assert_eq!(
        after["reactions"],
        json!([{ "emoji": "👍", "count": 1, "user_ids": [agent_id] }])
    );
    let reply = act(Method::POST, &acme.admin_token, json!({ "emoji": "👍" })).await;
    assert_eq!(
        reply.json()["reactions"],
        json!([{ "emoji": "👍", "count": 2, "user_ids": [agent_id, admin_id] }]),
        "{}",
        reply.text()
    );
    // A repeat changes nothing.
    let reply = act(Method::POST, &acme.admin_token, json!({ "emoji": "👍" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["reactions"][0]["count"], 2, "{}", reply.text());
    let reply = act(Method::DELETE, &acme.agent_token, json!({ "emoji": "👍" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let expected = json!([{ "emoji": "👍", "count": 1, "user_ids": [admin_id] }]);
    assert_eq!(reply.json()["reactions"], expected, "{}", reply.text());
    // The list renders them; ChatAPI names the admin by its user_id.
    let listed = app
        .chat_messages(acme.id, room_id, &acme.agent_token, "")
        .await;
    assert_eq!(listed[0]["reactions"], expected, "{listed:?}");
    let uuid = app.message_uuid(message_id);
    assert_eq!(
        app.chatapi_message(&acme.api_key, &uuid).await["reactions"],
        json!([reaction("👍", &[&chat_user_id(&acme.admin)])])
    );

    // An invalid emoji: 422 in the account dialect's shape.
    let reply = act(Method::POST, &acme.agent_token, json!({ "emoji": "ok" })).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let body = reply.json();
    assert_eq!(keys_of(&body), ["attributes", "message"], "{body}");
    assert_eq!(body["attributes"], json!(["emoji"]), "{body}");
    // The message through another room's path: not found.
    let reply = app
        .chat_request(
            Method::POST,
            &format!(
                "{}/reactions",
                chat_message_path(acme.id, int_id(&other), message_id)
            ),
            &acme.admin_token,
            Some(&json!({ "emoji": "🎉" })),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "error": "Resource could not be found" })
    );
    assert_eq!(app.count_rows("message_reactions"), 1);
}
